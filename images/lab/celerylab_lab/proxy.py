"""jupyter-server-proxy entries: Flower and the worker page, started on first use.

celerylab's own pages (Celery worker, My courses, Grade all) open as JupyterLab tabs
(`new_browser_tab: False`), styled like the lab (celerylab_lab.pages); the Flowers keep a
browser tab of their own.

Both listen on 127.0.0.1 inside the lab, so the only way in is through the student's own Jupyter
server at /user/<name>/flower/ — behind the hub's authentication. Starting them on first use
keeps an idle lab small.
"""

import os
import sys
from pathlib import Path

ICONS = Path(__file__).parent / "icons"


def _students_only() -> bool:
    """A student's tile: a course container (its staff's Jupyter) shows the staff's tools."""
    return not os.environ.get("CELERYLAB_COURSE")


def _prefix(name: str) -> str:
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return f"{base.rstrip('/')}/{name}"


def flower():
    return {
        "command": [
            sys.executable,
            "-m",
            "celery",
            "flower",
            "--address=127.0.0.1",
            "--port={port}",
            # Flower builds its links from the prefix; server-proxy passes the full path through.
            f"--url_prefix={_prefix('flower').lstrip('/')}",
        ],
        "absolute_url": True,
        "timeout": 30,
        "launcher_entry": {
            # The course's grading is watched in the fleet's Flower (linked from Grade all).
            "enabled": _students_only(),
            "title": "Flower",
            "icon_path": str(ICONS / "flower.svg"),
        },
    }


def grading_page():
    """The "Grade all" page, in course containers only (they have the fleet's broker)."""
    return {
        "command": [sys.executable, "-m", "celerylab_lab.grading_page", "--port={port}"],
        "timeout": 15,
        # A tab of the lab (jupyter-server-proxy's own key: inside launcher_entry it is ignored,
        # and the page opened in a browser tab of its own).
        "new_browser_tab": False,
        "launcher_entry": {
            "enabled": bool(os.environ.get("CELERYLAB_GRADING_BROKER")),
            "title": "Grade all",
            "icon_path": str(ICONS / "worker.svg"),
        },
    }


def courses_page():
    return {
        "command": [sys.executable, "-m", "celerylab_lab.courses_page", "--port={port}"],
        "timeout": 15,
        # A tab of the lab (jupyter-server-proxy's own key: inside launcher_entry it is ignored,
        # and the page opened in a browser tab of its own).
        "new_browser_tab": False,
        "launcher_entry": {
            "enabled": _students_only(),
            "title": "My courses",
            "icon_path": str(ICONS / "courses.svg"),
        },
    }


def worker_page():
    return {
        "command": [sys.executable, "-m", "celerylab_lab.worker_page", "--port={port}"],
        "timeout": 15,
        # A tab of the lab (jupyter-server-proxy's own key: inside launcher_entry it is ignored,
        # and the page opened in a browser tab of its own).
        "new_browser_tab": False,
        "launcher_entry": {
            "enabled": _students_only(),
            "title": "Celery worker",
            "icon_path": str(ICONS / "worker.svg"),
        },
    }
