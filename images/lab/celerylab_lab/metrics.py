"""Jupyter server extension: the lab's Prometheus metrics on an internal port.

Prometheus scrapes http://<lab container>:9100/metrics on the compose network, never through
the proxy (a scrape through the proxy would count as activity and keep idle labs alive). Labs
share that network, so the endpoint wants the scrape token, and the lab holds only its SHA-256
(CELERYLAB_METRICS_TOKEN_SHA256): a student can read their own environment but not another
lab's metrics.

It runs in the Jupyter process, which lives as long as the lab: no extra process per lab and no
polling. Everything is read when Prometheus asks (in a thread, so Jupyter never waits on it):
- the worker's task counters (celerylab_lab.metrics_celery, prometheus_client multiprocess
  files) and whether the worker is up (its status file);
- the private Redis: memory, clients, queue lengths;
- the lab container's own cgroup: memory, CPU, OOM kills;
- in a course container (CELERYLAB_COURSE): the course's submissions and gradebook
  (celerylab_lab.metrics_course) instead of the worker and Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from tornado import web
from tornado.ioloop import IOLoop

from celerylab_lab import paths

PORT = 9100
TOKEN_SHA256 = "CELERYLAB_METRICS_TOKEN_SHA256"  # noqa: S105 - a variable name


def token_ok(header: str | None, expected_sha256: str) -> bool:
    """Is `Authorization: Bearer <token>` the scrape token whose SHA-256 we hold?"""
    if not header or not expected_sha256:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        return False
    presented = hashlib.sha256(token.strip().encode()).hexdigest()
    return hmac.compare_digest(presented, expected_sha256.strip().lower())


def registry_for(environ) -> CollectorRegistry:
    """The collectors of this container: a course container's or a student lab's."""
    from celerylab_lab import metrics_cgroup

    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics_cgroup.CgroupCollector())
    if environ.get("CELERYLAB_COURSE"):
        from celerylab_lab import metrics_course

        registry.register(metrics_course.CourseCollector.from_environ(environ))
    else:
        from prometheus_client.multiprocess import MultiProcessCollector

        from celerylab_lab import metrics_lab

        paths.METRICS_DIR.mkdir(parents=True, exist_ok=True)
        MultiProcessCollector(registry, path=str(paths.METRICS_DIR))
        registry.register(metrics_lab.LabCollector.from_environ(environ))
    return registry


class MetricsHandler(web.RequestHandler):
    def initialize(self, registry: CollectorRegistry, expected_sha256: str):
        self.registry, self.expected_sha256 = registry, expected_sha256

    async def get(self):
        # Prometheus sends this lab's own token as ?token= (set per target by the hub's
        # discovery service); a bearer header is accepted too.
        presented = self.request.headers.get("Authorization")
        if self.get_query_argument("token", ""):
            presented = f"Bearer {self.get_query_argument('token')}"
        if not token_ok(presented, self.expected_sha256):
            raise web.HTTPError(401)
        body = await IOLoop.current().run_in_executor(None, generate_latest, self.registry)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


def make_app(environ) -> web.Application | None:
    expected = environ.get(TOKEN_SHA256, "")
    if not expected:
        return None
    return web.Application(
        [
            (
                "/metrics",
                MetricsHandler,
                {"registry": registry_for(environ), "expected_sha256": expected},
            )
        ]
    )


def _load_jupyter_server_extension(server_app):
    app = make_app(os.environ)
    if app is None:
        server_app.log.info("celerylab: no %s, so no metrics endpoint", TOKEN_SHA256)
        return
    app.listen(PORT, address="0.0.0.0")  # noqa: S104 - the compose network; the token guards it
    server_app.log.info("celerylab: metrics on port %d (token required)", PORT)
