"""Course sessions: the roster's labs are running before a class starts and stay until it ends.

A hub-managed service (celerylab-sessions). Every `--every` seconds it reads the course
declarations (course/courses/*.yaml, `sessions:`) and, for each session:

- from `--lead` minutes before its start until the start, starts every roster lab that is not
  running (`celerylab labs prestart <course>` does this by hand, at once);
- until its end, keeps the idle culler away from the roster's running labs: it reports their
  activity at min(now, end - cull timeout), so jupyterhub-idle-culler (which stops a lab after
  the cull timeout without activity) cannot stop one before the session ends, and may after it;
- once it has ended, stops the roster labs that nobody opened (the lab's own last activity, asked
  of the lab on the compose network, is still its start).

What to do is decided by `plan` from the declarations and the hub's user list alone, so it is
tested without a hub; `main` only carries the plan out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib import error, request

from celerylab_hub import courses

#: A lab counts as opened when its own last activity is this long after its start (the hub's
#: readiness probe right after the start is not a student).
OPENED_AFTER = timedelta(seconds=10)
#: Start requests in flight at once (each may wait for its lab up to the hub's 10 s).
PARALLEL_REQUESTS = 32
#: Unopened labs are looked for this long after a session's end (then the culler has them).
STOP_WINDOW = timedelta(hours=1)


@dataclass
class Plan:
    start: list[str] = field(default_factory=list)
    #: user -> last_activity to report (naive UTC ISO, as the hub's activity API takes it)
    protect: dict[str, datetime] = field(default_factory=dict)
    #: running roster labs of ended sessions (user -> the session's end): stop those nobody opened
    check_unopened: dict[str, datetime] = field(default_factory=dict)


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


def plan(
    declared: list[courses.Course],
    users: dict[str, dict],
    now: datetime,
    lead: timedelta,
    cull_timeout: timedelta,
) -> Plan:
    """What to do now. `users` is the hub's user models by name (GET /users)."""
    result = Plan()
    for course in declared:
        for session in course.sessions:
            prestarting = session.start - lead <= now < session.start
            ongoing = session.start - lead <= now < session.end
            ended = session.end <= now < session.end + STOP_WINDOW
            for name in course.students:
                user = users.get(name)
                if user is None:
                    continue  # not created yet (courses sync)
                server = user.get("servers", {}).get("")
                if prestarting and lead > timedelta(0) and not server and not user.get("pending"):
                    result.start.append(name)
                if not server or not server.get("ready"):
                    continue
                if ongoing:
                    keep = min(now, session.end - cull_timeout)
                    seen = _parse(server.get("last_activity"))
                    if seen is None or keep > seen:
                        result.protect[name] = max(keep, result.protect.get(name, keep))
                elif ended:
                    result.check_unopened[name] = session.end
    # A student in two courses (or sessions) at once: one action each; a lab another session
    # still needs is not stopped.
    result.start = list(dict.fromkeys(result.start))
    for name in result.protect:
        result.check_unopened.pop(name, None)
    return result


def students_to_watch(declared: list[courses.Course], now: datetime, lead: timedelta) -> set[str]:
    """Roster students of sessions about to start, running, or just ended."""
    return {
        name
        for course in declared
        for session in course.sessions
        if session.start - lead <= now < session.end + STOP_WINDOW
        for name in course.students
    }


def opened(status: dict) -> bool:
    """From a lab's /api/status: did anyone use it after it started?"""
    started, last = _parse(status.get("started")), _parse(status.get("last_activity"))
    return bool(started and last and last - started > OPENED_AFTER)


class Hub:
    """The hub's REST API, with this service's token."""

    def __init__(self, api_url: str, token: str):
        self.api_url, self.token = api_url.rstrip("/"), token

    def call(self, method: str, path: str, body: dict | None = None, url: str | None = None):
        req = request.Request(  # noqa: S310 - the hub's own http URL
            url or f"{self.api_url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with request.urlopen(req, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def users(self, names: set[str]) -> dict[str, dict]:
        found = {}
        for name in sorted(names):
            try:
                found[name] = self.call("GET", f"/users/{name}")
            except error.HTTPError as e:
                if e.code != 404:  # 404: on the roster, not created yet
                    raise
        return found


def carry_out(hub: Hub, todo: Plan, instance: str, log=print) -> None:
    def start(name):
        try:
            hub.call("POST", f"/users/{name}/server", {})
            log(f"pre-started {name}'s lab")
        except error.HTTPError as e:  # 400: started meanwhile; anything else: next round
            log(f"could not pre-start {name}'s lab: {e.code} {e.reason}")

    # All at once: the hub answers a start only when the lab is up (or after 10 s), and its start
    # queue, not this loop, decides how many labs boot together.
    with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
        list(pool.map(start, todo.start))
    for name, when in todo.protect.items():
        stamp = when.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        try:
            hub.call("POST", f"/users/{name}/activity", {"servers": {"": {"last_activity": stamp}}})
        except error.HTTPError as e:
            log(f"could not keep {name}'s lab for its session: {e.code} {e.reason}")
    for name in todo.check_unopened:
        # Straight to the lab on the compose network: through the proxy, asking would be activity.
        url = f"http://{instance}-lab-{name}:8888/user/{name}/api/status"
        try:
            status = hub.call("GET", "", url=url)
        except (error.URLError, OSError) as e:
            log(f"could not ask {name}'s lab whether it was opened: {e}")
            continue
        if not opened(status):
            hub.call("DELETE", f"/users/{name}/server")
            log(f"stopped {name}'s pre-started lab: nobody opened it during the session")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses-dir", required=True)
    parser.add_argument("--lead", type=int, required=True, help="minutes before a session")
    parser.add_argument("--cull-timeout", type=int, required=True, help="the culler's, seconds")
    parser.add_argument("--every", type=float, default=30, help="seconds between rounds")
    args = parser.parse_args(argv)
    hub = Hub(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    instance = os.environ.get("CELERYLAB_INSTANCE") or "celerylab"
    lead = timedelta(minutes=args.lead)
    checked: set[tuple[str, datetime]] = set()  # (user, session end): asked once per session
    while True:
        try:
            declared = courses.load_all(args.courses_dir)
            now = datetime.now(UTC)
            users = hub.users(students_to_watch(declared, now, lead))
            todo = plan(declared, users, now, lead, timedelta(seconds=args.cull_timeout))
            todo.check_unopened = {
                n: end for n, end in todo.check_unopened.items() if (n, end) not in checked
            }
            checked.update(todo.check_unopened.items())
            carry_out(hub, todo, instance, log=lambda m: print(m, file=sys.stderr, flush=True))
        except (courses.CourseError, error.URLError, OSError, ValueError) as e:
            print(f"celerylab-sessions: {e}", file=sys.stderr, flush=True)
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
