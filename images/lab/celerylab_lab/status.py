"""GET /api/celerylab/worker: the worker's state as JSON, for the owner of the lab.

What `celerylab-worker status` prints, for programs: the app, pool, concurrency, whether the
worker is ready (connected to Redis and consuming), its import error if any, and since when it
has been busy. Used by readiness checks and the benchmarks.
"""

import json

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from celerylab_lab.activity import busy_since
from celerylab_lab.cli import read_status


class WorkerStatusHandler(APIHandler):
    @web.authenticated
    def get(self):
        status = read_status()
        busy = busy_since()
        self.finish(
            json.dumps(
                {
                    **status,
                    "ready": bool(status.get("ready")),
                    "last_busy": busy.isoformat() if busy else None,
                }
            )
        )


def _load_jupyter_server_extension(server_app):
    web_app = server_app.web_app
    route = url_path_join(web_app.settings["base_url"], "/api/celerylab/worker")
    web_app.add_handlers(".*$", [(route, WorkerStatusHandler)])
