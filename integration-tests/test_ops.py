"""Operations under attack and faults, live: a stranger's wrong passwords lock out the stranger,
not the user, and are counted for the admins' alert; forwarding headers a client sends never
reach the hub; a restarted proxy gets every route back within seconds, not at the hub's next
5-minute sweep."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid

import pytest
import requests
from live import PUBLIC, TEST_STACK, compose
from test_auth import import_roster, login

pytestmark = pytest.mark.docker

HUB_IMAGE = os.environ.get("CELERYLAB_HUB_IMAGE", "celerylab/hub:latest")

# Runs in a throwaway container on the stack's network: another address than the tests' own,
# reaching the hub through the proxy like any client, and lying in its forwarding headers.
STRANGER = """
import re, sys, requests
name, passwords = sys.argv[1], sys.argv[2:]
for i, password in enumerate(passwords):
    s = requests.Session()
    # (JupyterHub ties a login form's xsrf token to the address it believes: claim it throughout)
    s.headers.update({"X-Forwarded-For": f"10.66.0.{i}", "X-Real-Ip": f"10.66.0.{i}"})
    page = s.get("http://proxy:8000/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    for cookie in s.cookies:
        cookie.secure = False  # the hub's __Host- cookies, sent back over http as browsers do
    r = s.post(
        "http://proxy:8000/hub/login",
        data={"username": name, "password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )
    print(r.status_code, "Too many failed logins" in r.text)
"""


def stranger(name: str, *passwords: str) -> list[str]:
    """Log in as `name` with each password in turn, from one container (one address)."""
    r = subprocess.run(
        ["docker", "run", "--rm", "--network", TEST_STACK.project, "--entrypoint", "python3",
         HUB_IMAGE, "-c", STRANGER, name, *passwords],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout.split("\n")[:-1]


def hub_metric(stack, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+]+)$", metrics_text(stack), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def metrics_text(stack) -> str:
    r = requests.get(
        f"{PUBLIC}/hub/metrics",
        headers={"Authorization": f"token {stack.token}"},
        timeout=30,
    )
    r.raise_for_status()
    return r.text


@pytest.fixture(scope="module")
def credentials(stack):
    r = import_roster("username\nkira\n")
    assert r.returncode == 0, r.stderr
    return dict(line.split(",") for line in r.stdout.split()[1:])


def test_a_stranger_cannot_lock_a_user_out(stack, credentials):
    failures = hub_metric(stack, "celerylab_login_failures_total")
    # CELERYLAB_LOGIN_ATTEMPTS=3 in the test stack; the fourth try has the right password.
    seen = stranger("kira", *["wrong-password-1"] * 3, credentials["kira"])
    assert seen[:3] == ["403 False"] * 3, seen
    assert seen[3] == "403 True", "the stranger is locked out, whatever its headers claim"
    r = login("kira", credentials["kira"])
    assert r.status_code == 302, "kira, from her own address, is not locked out"
    assert hub_metric(stack, "celerylab_login_failures_total") >= failures + 3
    assert hub_metric(stack, "celerylab_login_refused_total") >= 1


SPOOFED = "203.0.113.66"  # TEST-NET-3: nobody's address


def hub_log_line(marker: str, timeout: float = 20) -> str:
    """The hub's request-log line of the request whose URL carries `marker`."""
    deadline = time.monotonic() + timeout
    while True:
        for line in compose("logs", "--no-color", "--since", "5m", "hub").stdout.splitlines():
            if marker in line:
                return line
        assert time.monotonic() < deadline, f"no request with {marker} in the hub's log"
        time.sleep(1)


def test_the_hub_believes_no_forwarding_header_a_client_sent(stack):
    """The hub's log (and everything JupyterHub decides by the client's address or scheme)
    reads what our proxy wrote, never a client's X-Real-Ip, X-Forwarded-For or X-Scheme."""
    lies = {"X-Real-Ip": SPOOFED, "X-Forwarded-For": SPOOFED, "X-Scheme": "https"}
    through_proxy, direct = f"via-proxy-{uuid.uuid4().hex}", f"direct-{uuid.uuid4().hex}"
    r = requests.get(f"{PUBLIC}/hub/login?probe={through_proxy}", headers=lies, timeout=30)
    assert r.status_code == 200, r.status_code
    # The control: sent to the hub itself, past the proxy, the same lie is what it logs.
    compose(
        "exec", "-T", "hub", "curl", "-s", "-o", "/dev/null", "-H", f"X-Real-Ip: {SPOOFED}",
        f"http://127.0.0.1:8081/hub/login?probe={direct}",
    )  # fmt: skip
    assert f"(@{SPOOFED})" in hub_log_line(direct), "the control: the hub logs X-Real-Ip"
    line = hub_log_line(through_proxy)
    assert SPOOFED not in line, f"a client's forwarding header reached the hub: {line}"
    assert re.search(r"\(@\d+\.\d+\.\d+\.\d+\)", line), line


def test_routes_come_back_within_seconds_of_a_proxy_restart(stack):
    stack.ensure_user("rosa")
    stack.start("rosa")
    lab = stack.lab("rosa")
    assert lab.get("api/status", timeout=30).status_code == 200
    compose("restart", "proxy")
    restarted = time.monotonic()
    while True:
        try:
            status = lab.get("api/status", timeout=5).status_code
        except requests.RequestException as e:
            status = type(e).__name__
        if status == 200:
            break
        # JupyterHub alone would wait for its sweep: up to 300 s.
        assert time.monotonic() - restarted < 30, f"rosa's lab still answers {status}"
        time.sleep(1)
    print(f"rosa's route back {time.monotonic() - restarted:.1f} s after the proxy restart")
    stack.stop("rosa")
