"""The live test stack and helpers the integration tests import (conftest only holds fixtures:
`from conftest import ...` is ambiguous when several test folders have a conftest.py)."""

from __future__ import annotations

import os

import pytest
import requests
from hubclient import origin
from stack import ARTIFACTS, Stack

#: Overridable so two people (or helpers) can run the live tests side by side on one engine.
PORT = int(os.environ.get("CELERYLAB_TEST_PORT", "18000"))
#: Where people reach the test stack (its CELERYLAB_PUBLIC_URL, compose's default): every lab
#: and service is on its own subdomain of it (*.localhost resolves to this machine).
PUBLIC = f"http://celerylab.localhost:{PORT}"


def user_url(name: str) -> str:
    return f"{origin(PUBLIC, name)}/user/{name}"


def service_url(name: str) -> str:
    return f"{origin(PUBLIC, name, 'service')}/services/{name}"


class LocalhostSession(requests.Session):
    """Sends the hub's Secure (__Host-) cookies back over http://*.localhost, as browsers do for
    localhost names (they count as secure contexts); requests would only send them over https."""

    def prepare_request(self, request):
        for cookie in self.cookies:
            cookie.secure = False
        return super().prepare_request(request)


def session() -> requests.Session:
    return LocalhostSession()


#: Fast activity reports, so the culling test finishes in minutes; a short login lockout count.
TEST_STACK = Stack(
    os.environ.get("CELERYLAB_TEST_PROJECT", "celerylab-test"),
    PORT,
    {
        "CELERYLAB_ACTIVITY_INTERVAL": "10",
        "CELERYLAB_LOGIN_ATTEMPTS": "3",
        "CELERYLAB_COURSES": "./integration-tests/fixtures/courses",
        "CELERYLAB_SOURCE": "./integration-tests/fixtures/source",
        # Small grading limits, so hostile submissions meet them in seconds (test_sandbox).
        "CELERYLAB_SANDBOX_CELL_TIMEOUT": "10",
        "CELERYLAB_SANDBOX_WALL_SECONDS": "60",
        "CELERYLAB_SANDBOX_MEMORY": "256m",
        "CELERYLAB_SANDBOX_PIDS": "64",
        "CELERYLAB_SANDBOX_OUTPUT_KIB": "256",
        # A task whose worker was killed is delivered again after this (test_grading_fleet).
        "CELERYLAB_GRADING_VISIBILITY_TIMEOUT": "75",
    },
)
compose = TEST_STACK.compose
lab_container = TEST_STACK.lab_container
restart_hub = TEST_STACK.restart_hub
__all__ = [
    "ARTIFACTS",
    "PORT",
    "PUBLIC",
    "TEST_STACK",
    "compose",
    "lab_container",
    "require",
    "restart_hub",
    "service_url",
    "session",
    "user_url",
]


def require(kind: str, ok: bool, why: str) -> None:
    """Skip when a real part is missing on a developer machine; fail under CI."""
    if ok:
        return
    message = f"{kind} is needed for this test: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
