"""Jupyter server extension: a busy Celery worker counts as activity.

The worker touches paths.WORKER_BUSY while it has active or reserved tasks. jupyter_server's
`last_activity()` takes the newest of every setting whose name ends in `_last_activity`, and
jupyterhub-singleuser reports that time to the hub, so jupyterhub-idle-culler never culls a lab
whose worker is still working even when nobody has touched JupyterLab.
"""

from datetime import UTC, datetime

from tornado.ioloop import PeriodicCallback

from celerylab_lab import paths

SETTING = "celerylab_worker_last_activity"
CHECK_MS = 10_000


def busy_since() -> datetime | None:
    try:
        return datetime.fromtimestamp(paths.WORKER_BUSY.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None


def _load_jupyter_server_extension(server_app):
    settings = server_app.web_app.settings

    def check():
        seen = busy_since()
        if seen is not None:
            settings[SETTING] = seen

    check()
    PeriodicCallback(check, CHECK_MS).start()
    server_app.log.info("celerylab: a busy Celery worker counts as activity")
