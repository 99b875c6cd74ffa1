"""Release and collect in a course container show instructors no false warnings (issue 17
item 4), run the way the formgrader runs them (NbGraderAPI: its dialogs show this log)."""

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from celerylab_lab import course as course_mode

SOURCE = Path(__file__).parents[2] / "integration-tests/fixtures/source/ps1"
COURSE = {
    "id": "c1",
    "students": ["amy"],
    "assignments": [{"id": "ps1"}],
    "late_policy": {"kind": "none"},
}


@pytest.fixture
def api(tmp_path, monkeypatch):
    """A course directory configured exactly as a course container configures its own, with an
    exchange root as `celerylab setup` prepares it (0o755, the exchange's user: us here)."""
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o755)
    exchange.chmod(0o755)
    home = tmp_path / "home"
    (home / "source").mkdir(parents=True)
    shutil.copytree(SOURCE, home / "source/ps1")
    monkeypatch.setattr(course_mode, "EXCHANGE_ROOT", str(exchange))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    monkeypatch.chdir(home)
    course_mode.write_config(COURSE, home)
    course_mode.sync_gradebook(COURSE, home)

    from nbgrader.apps.api import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    exec((home / "nbgrader_config.py").read_text(), {"get_config": lambda: config})  # noqa: S102
    api = NbGraderAPI(config=config)
    assert api.generate_assignment("ps1")["success"]
    return api, exchange


def submit(exchange: Path, student: str) -> Path:
    """A submission as the exchange service files it: <student>+<assignment>+<time>+<id>."""
    stamp = "2027-01-10 10:00:00.000000 UTC"
    sub = exchange / "c1/inbound" / f"{student}+ps1+{stamp}+abc"
    sub.mkdir(parents=True)
    shutil.copy(SOURCE / "ps1.ipynb", sub / "ps1.ipynb")
    (sub / "timestamp.txt").write_text(stamp)
    return sub


def test_release_and_collect_give_no_warning_and_keep_the_exchange_mode(api):
    api, exchange = api
    released = api.release_assignment("ps1")
    assert released["success"], released
    assert "WARNING" not in released.get("log", ""), released["log"]
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o755
    submit(exchange, "amy")
    collected = api.collect("ps1")
    assert collected["success"], collected
    assert "WARNING" not in collected.get("log", ""), collected["log"]
    assert "cheating" not in collected.get("log", "")
    assert (Path("submitted/amy/ps1/ps1.ipynb")).is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own a file as another user")
def test_a_submission_the_exchange_did_not_write_is_still_reported(api):
    api, exchange = api
    assert api.release_assignment("ps1")["success"]
    sub = submit(exchange, "amy")
    os.chown(sub, 12345, 12345)
    collected = api.collect("ps1")
    assert "was not written by the exchange service (owner UID 12345" in collected["log"]


def test_formgrader_dialogs_get_no_debug_lines():
    """The course server's logger, which the formgrader hands to every nbgrader run, is INFO."""
    from jupyter_server.serverapp import ServerApp
    from traitlets.config import Config

    app = ServerApp(config=Config(course_mode.SERVER_CONFIG))
    app._configure_logging()
    assert app.log.getEffectiveLevel() == 20
    app.log.handlers.clear()
