"""The exchange service: students' nbgrader fetch, submit and feedback over HTTP.

A JupyterHub service in its own container (no Docker socket, no gradebook). Students' labs call
it with their own hub token; each instructors' course container uses its own course's folder of
the exchange volume directly. This service alone sees every course.

Usage (the compose `exchange` service):
    python -m celerylab_hub.exchange_service [--root /srv/celerylab/exchange] [--port 8765]

API, under the service prefix (/services/celerylab-exchange/):
    GET  api/courses                           the caller's courses: titles, due dates, late policy
    GET  api/courses/<course>/view             tar.gz: released assignments + own feedback
    POST api/courses/<course>/submit/<name>    body: tar.gz of the assignment folder
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from jupyterhub.services.auth import HubAuth, HubAuthenticated, UserNotAllowed
from jupyterhub.utils import url_path_join
from tornado import httpclient, ioloop, web
from tornado.log import app_log

from celerylab_hub import courses, system_dns
from celerylab_hub import exchange_store as store

STUDENT_GROUP = "nbgrader-{course}"


class Membership:
    """Who studies what: the hub's nbgrader-<course> groups, asked with the service's token and
    remembered for a few seconds (a class fetching at once asks the hub once)."""

    def __init__(self, hub_auth: HubAuth, ttl: float = 10):
        self.hub_auth, self.ttl = hub_auth, ttl
        self._cache: tuple[float, dict[str, set[str]]] | None = None

    async def courses_of(self, user: str) -> list[str]:
        if self._cache is None or time.monotonic() - self._cache[0] > self.ttl:
            try:
                response = await httpclient.AsyncHTTPClient().fetch(
                    url_path_join(self.hub_auth.api_url, "groups"),
                    headers={"Authorization": f"token {self.hub_auth.api_token}"},
                )
            except (httpclient.HTTPError, OSError) as e:
                app_log.error("asking the hub for course groups failed: %s", e)
                raise web.HTTPError(
                    503, "the hub cannot say who is in which course; retry"
                ) from None
            groups = {g["name"]: set(g["users"]) for g in json.loads(response.body)}
            self._cache = (time.monotonic(), groups)
        prefix = STUDENT_GROUP.format(course="")
        groups = self._cache[1]
        return sorted(
            n.removeprefix(prefix)
            for n, users in groups.items()
            if n.startswith(prefix) and user in users
        )


class Declarations:
    """The course declarations (titles, due dates, late policies), reread when they change."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._seen: tuple[float, dict[str, courses.Course]] = (-1.0, {})

    def get(self) -> dict[str, courses.Course]:
        files = list(self.directory.glob("*.yaml")) + list(self.directory.glob("*.csv"))
        stamp = max((f.stat().st_mtime for f in files), default=0.0)
        if stamp != self._seen[0]:
            try:
                self._seen = (stamp, {c.id: c for c in courses.load_all(self.directory)})
            except courses.CourseError as e:
                app_log.error("course declarations are invalid; keeping the last good ones:\n%s", e)
        return self._seen[1]


def describe(course_id: str, course: courses.Course | None, released: list[str]) -> dict:
    """What a student may know of a course: its assignments, what is due when, what is out."""
    if course is None:
        return {
            "id": course_id,
            "title": course_id,
            "late_policy": None,
            "assignments": [{"id": a, "due": None, "released": True} for a in released],
        }
    declared = {a.id: a for a in course.assignments}
    ids = list(declared) + [a for a in released if a not in declared]
    return {
        "id": course.id,
        "title": course.title,
        "late_policy": vars(course.late_policy),
        "assignments": [
            {
                "id": a,
                "released": a in released,
                "due": declared[a].due.isoformat() if a in declared and declared[a].due else None,
            }
            for a in ids
        ],
    }


class ExchangeHandler(HubAuthenticated, web.RequestHandler):
    def initialize(
        self,
        root: Path,
        limits: store.Limits,
        membership: Membership,
        hub_auth,
        declarations: Declarations,
    ):
        self.root, self.limits, self.membership = root, limits, membership
        self.declarations = declarations
        self._hub_auth = hub_auth

    async def prepare(self):
        # The caller's identity comes from the hub, never from the request.
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            raise web.HTTPError(401, "log in through the hub: send your hub token")
        try:
            self.current_user = self.check_hub_user(model)
        except UserNotAllowed:
            raise web.HTTPError(403, "this token may not use the exchange") from None

    @property
    def student(self) -> str:
        return self.current_user["name"]

    async def require_course(self, course: str) -> None:
        if course not in await self.membership.courses_of(self.student):
            raise web.HTTPError(403, f"{self.student} is not a student of course {course!r}")

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.finish({"message": message})


class CoursesHandler(ExchangeHandler):
    async def get(self):
        declared = self.declarations.get()
        self.finish(
            {
                "courses": [
                    describe(c, declared.get(c), store.released(self.root, c))
                    for c in await self.membership.courses_of(self.student)
                ]
            }
        )


class ViewHandler(ExchangeHandler):
    async def get(self, course):
        await self.require_course(course)
        view = await ioloop.IOLoop.current().run_in_executor(
            None, store.student_view, self.root, course, self.student
        )
        self.set_header("Content-Type", "application/gzip")
        self.finish(view)


class SubmitHandler(ExchangeHandler):
    async def post(self, course, assignment):
        await self.require_course(course)
        try:
            # Unpacking and checking is file-system and CPU work: never on the event loop, so one
            # hostile archive cannot stall the exchange for everyone.
            timestamp = await ioloop.IOLoop.current().run_in_executor(
                None,
                store.receive_submission,
                self.root,
                course,
                assignment,
                self.student,
                self.request.body,
                self.limits,
            )
        except store.ExchangeError as e:
            raise web.HTTPError(e.status, str(e)) from None
        app_log.info("%s submitted %s/%s at %s", self.student, course, assignment, timestamp)
        self.finish({"timestamp": timestamp})


class HealthHandler(web.RequestHandler):
    def get(self):
        self.finish({"ok": True})


def make_app(
    root: Path, limits: store.Limits, hub_auth: HubAuth, courses_dir: Path
) -> web.Application:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/celerylab-exchange/")
    args = {
        "root": root,
        "limits": limits,
        "membership": Membership(hub_auth),
        "hub_auth": hub_auth,
        "declarations": Declarations(courses_dir),
    }
    name = r"([A-Za-z0-9][A-Za-z0-9_.-]*)"
    return web.Application(
        [
            (url_path_join(prefix, "api/health"), HealthHandler),
            (url_path_join(prefix, "api/courses"), CoursesHandler, args),
            (url_path_join(prefix, f"api/courses/{name}/view"), ViewHandler, args),
            (url_path_join(prefix, f"api/courses/{name}/submit/{name}"), SubmitHandler, args),
        ],
        # The body limit is checked again unpacked; this only stops absurd uploads early.
        max_body_size=limits.max_bytes + 1024 * 1024,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/srv/celerylab/exchange"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--courses",
        type=Path,
        default=Path("/srv/celerylab/courses"),
        help="folder of course declarations (titles and due dates)",
    )
    args = parser.parse_args(argv)
    system_dns.use_system_resolver()  # HubAuth reaches a recreated hub at its new address
    token_file = os.environ.get("CELERYLAB_EXCHANGE_TOKEN_FILE")
    token = Path(token_file).read_text().strip() if token_file else None
    hub_auth = HubAuth(api_token=token, cache_max_age=60)
    limits = store.limits_from_env(os.environ)  # CELERYLAB_SUBMISSION_* (docs/configuration.md)
    for left in store.remove_partial(args.root):
        app_log.warning("removed an incomplete submission: %s", left)
    app = make_app(args.root, limits, hub_auth, args.courses)
    app.listen(args.port)
    print(f"celerylab exchange on :{args.port}, files in {args.root}", flush=True)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
