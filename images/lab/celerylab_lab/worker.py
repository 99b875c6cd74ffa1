"""Start the student's Celery worker (run by runit, which restarts it when it exits).

The worker imports the student's app (default: module `tasks` in their home). When that import
fails, the worker still starts with an empty app bound to the same Redis and the import error
goes to the worker log and to `celerylab-worker status`, so a typo never leaves the lab without
a worker to inspect.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime

from celery.app.utils import find_app
from celery.signals import worker_ready
from celery.worker import state

from celerylab_lab import (
    metrics_celery,  # noqa: F401 - task counters for the lab's metrics
    paths,
)
from celerylab_lab.settings import WorkerSettings

HEARTBEAT_SECONDS = 5.0


def load_app(settings: WorkerSettings):
    """Return (app, import_error_text_or_None)."""
    sys.path.insert(0, settings.workdir)
    os.chdir(settings.workdir)
    try:
        return find_app(settings.app), None
    except BaseException:
        from celerylab_lab.default_app import app

        return app, traceback.format_exc()


def write_status(**values) -> None:
    tmp = paths.WORKER_STATUS.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2))
    tmp.replace(paths.WORKER_STATUS)


def heartbeat() -> None:
    """Touch the busy file while tasks are active or reserved: the server extension turns its
    mtime into Jupyter activity, so the idle culler leaves a working lab alone."""
    while True:
        if state.active_requests or state.reserved_requests:
            paths.WORKER_BUSY.touch()
        time.sleep(HEARTBEAT_SECONDS)


def main() -> None:
    try:
        settings = WorkerSettings.load()
    except ValueError as e:
        print(f"celerylab: invalid worker settings ({e}); using the defaults", file=sys.stderr)
        paths.USER_CONFIG.rename(paths.USER_CONFIG.with_suffix(".invalid"))
        settings = WorkerSettings.load()
    app, import_error = load_app(settings)
    status = {
        "pid": os.getpid(),
        "app": settings.app,
        "workdir": settings.workdir,
        "pool": settings.pool,
        "concurrency": settings.autoscale or settings.concurrency,
        "queues": settings.queues,
        "started_at": datetime.now(UTC).isoformat(),
        "ready": False,
        "import_error": import_error,
    }
    if import_error:
        print(
            f"celerylab: could not import {settings.app!r} from {settings.workdir}; "
            f"running an empty worker until it imports.\n{import_error}",
            file=sys.stderr,
        )
    write_status(**status)

    @worker_ready.connect(weak=False)
    def _ready(**_):
        write_status(**{**status, "ready": True})
        threading.Thread(target=heartbeat, name="celerylab-heartbeat", daemon=True).start()

    app.worker_main(argv=settings.worker_argv())


if __name__ == "__main__":
    main()
