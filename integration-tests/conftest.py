"""The live stack shared by all integration tests: `docker compose up` once per session.

It runs as its own compose project (celerylab-test, port 18000) so it never touches a running
course on the same machine. Images are built beforehand (make images). On any test failure the
compose logs and every lab's log are written to artifacts/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from live import ARTIFACTS, TEST_STACK, require
from stack import docker_ok


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.session.celerylab_failed = True
    return report


@pytest.fixture(scope="session")
def stack(request):
    """Bring the test stack up (once), yield a Hub client with the ops token, tear it down."""
    ok, why = docker_ok()
    require("Docker", ok, why)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.log")]:
        old.unlink()
    try:
        hub = TEST_STACK.up()
    except RuntimeError as e:
        TEST_STACK.dump_logs()
        pytest.fail(str(e))
    yield hub
    if getattr(request.session, "celerylab_failed", False):
        print(f"\na test failed: logs in {TEST_STACK.dump_logs()}/", file=sys.stderr)
    if os.environ.get("CELERYLAB_KEEP_STACK") != "1":
        TEST_STACK.down()
