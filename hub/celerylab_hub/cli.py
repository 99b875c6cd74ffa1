"""`celerylab`: setup and administration commands (run in the hub container).

Usage:
    celerylab setup                      # generate missing secrets (the compose setup service)
    celerylab roster import roster.csv   # add students; prints their initial passwords as CSV
    celerylab roster import - < roster.csv --output credentials.csv
    celerylab admin-password             # the first admin's one-time password, while unchanged
    celerylab courses sync               # users, course groups and course containers from
                                         # course/courses/*.yaml; prints new passwords as CSV;
                                         # exit 3: a course the hub has not loaded yet (restart
                                         # the hub, sync again: scripts/courses-sync.sh does)
    celerylab labs prestart COURSE       # start the roster's labs now (before a class), wait
                                         # until they are ready
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from celerylab_hub import courses, coursesync, roster, secrets, settings

# Unset and empty mean the same: compose passes optional settings through as empty strings.
SECRETS_DIR = os.environ.get("CELERYLAB_SECRETS_DIR") or "/srv/celerylab/secrets"
HUB_API = os.environ.get("CELERYLAB_HUB_API") or "http://127.0.0.1:8081/hub/api"
COURSES_DIR = os.environ.get("CELERYLAB_COURSES_DIR") or "/srv/celerylab/courses"
SOURCE_DIR = "/srv/celerylab/source"  # the repository's source/ (nbgrader source assignments)
DB_URL = os.environ.get("CELERYLAB_DB_URL") or "sqlite:////srv/jupyterhub/data/jupyterhub.sqlite"


#: Seconds to wait for one hub API answer. Issuing passwords hashes each one (bcrypt) on the hub:
#: a class's worth takes long on a busy host, and a call given up on may still have issued them.
HUB_TIMEOUT = 300


class HubError(RuntimeError):
    pass


def hub_request(token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """Call the hub's REST API (on the hub's own port, not through the proxy)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - HUB_API is our own hub's http URL
        f"{HUB_API}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HUB_TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except TimeoutError:
        raise HubError(
            f"the hub did not answer {method} {path} within {HUB_TIMEOUT} s; run this again. "
            "Users it gave a password meanwhile are not listed: give them new ones with "
            "`celerylab roster import - --reset`"
        ) from None
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read()).get("message", e.reason)
        except ValueError:
            message = e.reason
        return e.code, {"message": message}
    except urllib.error.URLError as e:
        raise HubError(f"cannot reach the hub at {HUB_API}: {e.reason}") from None


def _ensure_course_containers(declared) -> None:
    import docker
    import redis

    from celerylab_hub import coursecontainers, grading_acl

    # Each course's own user on the grading broker, before its container can use it.
    passwords = {c.id: secrets.course_broker_password(SECRETS_DIR, c.id) for c in declared}
    try:
        grading_acl.ensure_course_users(
            secrets.grading_broker_url(SECRETS_DIR, "default"), passwords
        )
    except redis.RedisError as e:
        raise HubError(f"cannot set the courses' users on the grading broker: {e}") from None
    uids = coursecontainers.course_uids(c.id for c in declared)
    client = docker.from_env()
    instance = os.environ.get("CELERYLAB_INSTANCE") or "celerylab"
    image = os.environ.get("CELERYLAB_LAB_IMAGE") or "celerylab/lab:latest"
    for course in declared:
        done = coursecontainers.ensure(
            client,
            course,
            instance=instance,
            image=image,
            token=secrets.course_token(SECRETS_DIR, course.id),
            source_dir=Path(SOURCE_DIR),
            # This course's own scrape token's hash (it opens this course's metrics only).
            metrics_token_sha256=secrets.scrape_token_sha256(
                secrets.read(SECRETS_DIR, "metrics_scrape_token"), "course", course.id
            ),
            grading_broker=grading_acl.course_url(course.id, passwords[course.id]),
            grading_key=secrets.course_grading_key(SECRETS_DIR, course.id),
            public_url=settings.public_url(os.environ),
            uid=uids[course.id],
        )
        print(f"course {course.id}: container {done}", file=sys.stderr)


def prestart(request, course: courses.Course, wait: float) -> dict[str, list[str]]:
    """Start every roster lab that is not running; wait up to `wait` s for them to be ready.

    The hub admits the starts through its start queue, so a whole class can be asked at once."""
    report: dict[str, list[str]] = {"started": [], "running": [], "not a user": [], "failed": []}
    # All at once: the hub answers a start only when the lab is up (or after 10 s); its start
    # queue decides how many boot together.
    with ThreadPoolExecutor(32) as pool:
        answers = list(
            pool.map(lambda n: request("POST", f"/users/{n}/server", {}), course.students)
        )
    for name, (status, body) in zip(course.students, answers, strict=True):
        if status in (201, 202):
            report["started"].append(name)
        elif status == 400:  # already running, or starting
            report["running"].append(name)
        elif status == 404:
            report["not a user"].append(name)  # courses sync creates them
        else:
            report["failed"].append(f"{name} ({status} {body.get('message', '')})")
    pending = set(report["started"])
    deadline = time.monotonic() + wait
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            _, user = request("GET", f"/users/{name}")
            server = (user or {}).get("servers", {}).get("")
            if server and server.get("ready"):
                pending.discard(name)
            elif not server and not (user or {}).get("pending"):
                pending.discard(name)
                report["failed"].append(f"{name} (its lab failed to start: see the hub's log)")
        time.sleep(1)
    report["still starting"] = sorted(pending)
    return report


#: `courses sync`'s exit status when a declared course is not loaded by the running hub yet.
EXIT_HUB_RESTART_NEEDED = 3


def _write_credentials(passwords: dict[str, str], output: str | None) -> None:
    rows = [["username", "initial_password"], *sorted(passwords.items())]
    if output:
        # A new file only (mode 0600 from the start): handed-out passwords are never overwritten.
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise OSError(
                f"{output} exists: passwords already handed out are never overwritten; "
                "choose a new file name"
            ) from None
        with open(fd, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)
    else:
        csv.writer(sys.stdout).writerows(rows)


def _report_unloaded(unloaded: list[courses.Course]) -> None:
    for course in unloaded:
        print(
            f"course {course.id}: NOT READY: the running hub has not loaded this course, so its "
            f"formgrader ({course.formgrader_service}) is not reachable yet.",
            file=sys.stderr,
        )
    print(
        "Next step (running labs keep running): docker compose restart hub, then run this "
        "sync again. scripts/courses-sync.sh (make courses) does both.",
        file=sys.stderr,
    )


def admin_password() -> str | None:
    """The one-time password, if the first admin has not changed it yet."""
    import bcrypt
    import sqlalchemy

    password = secrets.read(SECRETS_DIR, "admin_password")
    admins = sorted(n for n in (os.environ.get("CELERYLAB_ADMIN_USERS") or "admin").split(",") if n)
    engine = sqlalchemy.create_engine(DB_URL)
    with engine.connect() as db:
        row = db.execute(
            sqlalchemy.text("SELECT password FROM users_info WHERE username = :u"),
            {"u": admins[0].strip().lower()},
        ).first()
    if row and bcrypt.checkpw(password.encode(), row[0]):
        return password
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="celerylab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="generate missing secrets")
    p.add_argument("--secrets-dir", default=SECRETS_DIR)
    p.add_argument("--exchange-dir", help="prepare the exchange volume mounted here")
    p.add_argument("--broker-dir", help="prepare the grading broker's volume mounted here")
    p.add_argument("--hub-data-dir", help="prepare the hub's database volume mounted here")
    p.add_argument(
        "--env-file",
        default=os.environ.get("CELERYLAB_ENV_FILE"),
        help="also write CELERYLAB_API_TOKEN into this .env file",
    )
    p = sub.add_parser("roster", help="manage the student roster")
    rsub = p.add_subparsers(dest="action", required=True)
    p = rsub.add_parser("import", help="add the students of a CSV file (header: username)")
    p.add_argument("file", help="CSV file, or - for standard input")
    p.add_argument("--reset", action="store_true", help="also give existing students new passwords")
    p.add_argument(
        "--output", help="write username,initial_password CSV to this new file (default: stdout)"
    )
    sub.add_parser("admin-password", help="print the first admin's one-time password")
    p = sub.add_parser("labs", help="students' labs")
    lsub = p.add_subparsers(dest="action", required=True)
    p = lsub.add_parser("prestart", help="start a course's roster labs now (before a class)")
    p.add_argument("course", help="course id (course/courses/<id>.yaml)")
    p.add_argument("--dir", default=COURSES_DIR, help="folder of course declarations")
    p.add_argument("--wait", type=float, default=600, help="seconds to wait for ready (0: no)")
    p = sub.add_parser("courses", help="courses declared in course/courses/")
    csub = p.add_subparsers(dest="action", required=True)
    p = csub.add_parser("sync", help="create users and course groups to match the declarations")
    p.add_argument("--dir", default=COURSES_DIR, help="folder of course declarations")
    p.add_argument(
        "--output", help="write new users' username,initial_password CSV to this new file"
    )
    p.add_argument("--no-containers", action="store_true", help="users and groups only")
    args = parser.parse_args(argv)

    try:
        if args.command == "setup":
            created = secrets.ensure(args.secrets_dir, args.env_file)
            if args.exchange_dir:
                secrets.prepare_exchange(args.exchange_dir)
            if args.broker_dir:
                secrets.prepare_broker_data(args.broker_dir)
            if args.hub_data_dir:
                secrets.prepare_hub_data(args.hub_data_dir)
            print(
                f"celerylab setup: generated {', '.join(created)}"
                if created
                else "celerylab setup: all secrets present"
            )
            return 0
        if args.command == "roster":
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
            request = partial(hub_request, secrets.read(SECRETS_DIR, "ops_api_token"))
            new, passwords = coursesync.ensure_users(request, roster.parse(text), args.reset)
            print(
                f"celerylab roster: {len(new)} new students; {len(passwords)} passwords issued",
                file=sys.stderr,
            )
            _write_credentials(passwords, args.output)
            return 0
        if args.command == "courses":
            request = partial(hub_request, secrets.read(SECRETS_DIR, "ops_api_token"))
            declared = courses.load_all(args.dir)
            report = coursesync.sync(request, declared)
            if not args.no_containers:
                _ensure_course_containers(declared)
            for group, names in report.added.items():
                print(f"{group}: added {', '.join(names)}", file=sys.stderr)
            for group, names in report.removed.items():
                print(f"{group}: removed {', '.join(names)}", file=sys.stderr)
            # Passwords first: they are issued already, whatever the hub's state.
            _write_credentials(report.passwords, args.output)
            unloaded = coursesync.unloaded(request, declared)
            if unloaded:
                _report_unloaded(unloaded)
                return EXIT_HUB_RESTART_NEEDED
            print(f"celerylab courses: {len(declared)} courses in sync", file=sys.stderr)
            return 0
        if args.command == "labs":
            request = partial(hub_request, secrets.read(SECRETS_DIR, "ops_api_token"))
            by_id = {c.id: c for c in courses.load_all(args.dir)}
            if args.course not in by_id:
                print(f"celerylab: no course {args.course!r} (known: {sorted(by_id)})")
                return 2
            report = prestart(request, by_id[args.course], args.wait)
            for what, names in report.items():
                if names:
                    print(f"{what}: {', '.join(names)}", file=sys.stderr)
            ready = len(report["started"]) - len(report["still starting"])
            ready -= sum(1 for f in report["failed"] if f.split()[0] in report["started"])
            print(
                f"celerylab labs: {ready + len(report['running'])} of "
                f"{len(by_id[args.course].students)} labs of {args.course} running",
                file=sys.stderr,
            )
            return 1 if report["failed"] else 0
        if args.command == "admin-password":
            password = admin_password()
            if password is None:
                print("the first admin has already changed the one-time password", file=sys.stderr)
                return 1
            print(password)
            return 0
    except (roster.RosterError, courses.CourseError, coursesync.SyncError, HubError, OSError) as e:
        print(f"celerylab: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
