"""Prometheus HTTP service discovery: every running lab and course container, with labels.

A hub-managed service (started by the hub, no proxy route) on port 9095 of the hub container.
Prometheus asks it every few seconds, so labs appear when they start and disappear when they
stop; they are scraped on the compose network at <instance>-lab-<user>:9100, never through the
proxy (that would count as activity and defeat idle culling).

    GET /targets/labs      [{"targets": ["<instance>-lab-alice:9100"],
                             "labels": {"student": "alice", "course": "c101"}}, ...]
    GET /targets/courses   [{"targets": ["<instance>-course-c101:9100"],
                             "labels": {"__meta_celerylab_course": "c101"}}, ...]
                           (running containers only; their metrics carry the course label)

Its hub token may only list users, their group membership and their servers. The endpoint
wants Prometheus's root scrape token: labs share the network and must not learn who else is
working. Each target group carries that target's own token as `__param_token` (Prometheus sends
it as ?token=), derived from the root (celerylab_hub.secrets.scrape_token): a lab, whose
Jupyter process the student controls, only ever receives the token that opens its own metrics.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import string

from escapism import escape
from tornado import httpclient, ioloop, web
from tornado.log import app_log, enable_pretty_logging

from celerylab_hub.secrets import scrape_token

PORT = 9095
METRICS_PORT = 9100
STUDENT_GROUP_PREFIX = "nbgrader-"
PAGE = 200


def token_ok(header: str | None, expected_sha256: str) -> bool:
    if not header or not expected_sha256:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        return False
    presented = hashlib.sha256(token.strip().encode()).hexdigest()
    return hmac.compare_digest(presented, expected_sha256.strip().lower())


def container_name(user: str) -> str:
    """A user's part of a lab container's name, escaped as DockerSpawner does ('-' is '-2d')."""
    return escape(user, set(string.ascii_lowercase + string.digits), escape_char="-").lower()


def lab_targets(users: list[dict], instance: str, root: str = "") -> list[dict]:
    """One target group per user whose default server is ready, with that lab's own token."""
    groups = []
    for user in sorted(users, key=lambda u: u["name"]):
        server = (user.get("servers") or {}).get("")
        if not server or not server.get("ready"):
            continue
        courses = sorted(
            g.removeprefix(STUDENT_GROUP_PREFIX)
            for g in user.get("groups", [])
            if g.startswith(STUDENT_GROUP_PREFIX)
        )
        groups.append(
            {
                "targets": [f"{instance}-lab-{container_name(user['name'])}:{METRICS_PORT}"],
                "labels": {
                    "student": user["name"],
                    "course": ",".join(courses),
                    "__param_token": scrape_token(root, "lab", user["name"]),
                },
            }
        )
    return groups


class HubUsers:
    """Ready servers from the hub's REST API, page by page."""

    def __init__(self, api_url: str, token: str):
        self.api_url, self.token = api_url.rstrip("/"), token

    async def ready(self) -> list[dict]:
        client = httpclient.AsyncHTTPClient()
        users, offset = [], 0
        while True:
            response = await client.fetch(
                f"{self.api_url}/users?state=ready&offset={offset}&limit={PAGE}",
                headers={
                    "Authorization": f"token {self.token}",
                    "Accept": "application/jupyterhub-pagination+json",
                },
                request_timeout=10,
            )
            page = json.loads(response.body)
            users += page["items"]
            following = (page.get("_pagination") or {}).get("next")
            if not following:
                return users
            offset = following["offset"]


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, METRICS_PORT)
        return True
    except OSError:
        return False


class TargetsHandler(web.RequestHandler):
    def initialize(self, kind: str, hub: HubUsers, instance: str, courses: list[str], root: str):
        self.kind, self.hub, self.instance = kind, hub, instance
        self.courses, self.root = courses, root
        self.sha = hashlib.sha256(root.encode()).hexdigest() if root else ""

    async def get(self):
        if not token_ok(self.request.headers.get("Authorization"), self.sha):
            raise web.HTTPError(401)
        if self.kind == "labs":
            try:
                groups = lab_targets(await self.hub.ready(), self.instance, self.root)
            except (httpclient.HTTPError, OSError) as e:
                # Prometheus keeps the last good list when discovery fails: say why, plainly.
                app_log.error("asking the hub for running labs failed: %s", e)
                raise web.HTTPError(503, "the hub did not list running labs") from None
        else:
            loop = ioloop.IOLoop.current()
            groups = []
            for course in self.courses:
                host = f"{self.instance}-course-{course}"
                if await loop.run_in_executor(None, _resolves, host):
                    groups.append(
                        {
                            "targets": [f"{host}:{METRICS_PORT}"],
                            "labels": {
                                "__meta_celerylab_course": course,
                                "__param_token": scrape_token(self.root, "course", course),
                            },
                        }
                    )
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(groups))


def _read_root(environ) -> str:
    path = environ.get("CELERYLAB_METRICS_TOKEN_FILE", "")
    return open(path).read().strip() if path and os.path.exists(path) else ""


def make_app(environ) -> web.Application:
    hub = HubUsers(environ["JUPYTERHUB_API_URL"], environ["JUPYTERHUB_API_TOKEN"])
    common = {
        "hub": hub,
        "instance": environ.get("CELERYLAB_INSTANCE") or "celerylab",
        "courses": [c for c in environ.get("CELERYLAB_COURSE_IDS", "").split(",") if c],
        "root": _read_root(environ),
    }
    return web.Application(
        [
            ("/targets/labs", TargetsHandler, {"kind": "labs", **common}),
            ("/targets/courses", TargetsHandler, {"kind": "courses", **common}),
        ]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args(argv)
    enable_pretty_logging()
    if not _read_root(os.environ):
        raise SystemExit(
            "celerylab metrics discovery: no scrape token at CELERYLAB_METRICS_TOKEN_FILE"
        )
    make_app(os.environ).listen(args.port, address="0.0.0.0")  # noqa: S104 - compose network
    app_log.info("celerylab metrics discovery on port %d", args.port)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
