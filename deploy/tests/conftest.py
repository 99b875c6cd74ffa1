"""Tests of a deployment made by site.yml (run by deploy/tests/run.sh, not by `make test`).

The deployment is reached only through its HTTPS port on 127.0.0.1, with the certificate
verified against the CA the playbook made (never verify=False). The hub client is the
integration tests' own (integration-tests/hubclient.py), imported, not copied.

Every lab and course service has its own origin below the hub's name (<user>.<domain>), which
resolves to this machine with no DNS (*.localhost, through libnss-myhostname; run.sh installs
it), and the deployment's certificate names *.<domain> too.

Settings (from run.sh): CELERYLAB_DEPLOY_URL (the hub's public URL, CELERYLAB_PUBLIC_URL of the
deployment), CELERYLAB_DEPLOY_HTTP_URL, CELERYLAB_DEPLOY_CA,
CELERYLAB_DEPLOY_DIR (the compose project directory on this host), CELERYLAB_DEPLOY_STATE (a
file the backup drill keeps what it wrote in, between its two halves),
CELERYLAB_DEPLOY_PROMETHEUS_URL (Prometheus's port on 127.0.0.1).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "integration-tests"))
from hubclient import Hub  # noqa: E402

URL = os.environ.get("CELERYLAB_DEPLOY_URL", "https://celerylab.localhost:18443")
HTTP_URL = os.environ.get("CELERYLAB_DEPLOY_HTTP_URL", "http://celerylab.localhost:18080")
WORK = Path(tempfile.gettempdir()) / "celerylab-deploy-ci"  # celerylab_local_root (run.sh)
CA = os.environ.get("CELERYLAB_DEPLOY_CA", str(WORK / "tls" / "ca" / "ca.crt"))
STACK_DIR = Path(os.environ.get("CELERYLAB_DEPLOY_DIR", WORK / "celerylab"))
STATE = Path(os.environ.get("CELERYLAB_DEPLOY_STATE", WORK / "drill.json"))
PROMETHEUS_URL = os.environ.get("CELERYLAB_DEPLOY_PROMETHEUS_URL", "http://127.0.0.1:18990")
STUDENT = "student1"

# requests and websocket-client both trust the deployment's CA, and only it.
os.environ["REQUESTS_CA_BUNDLE"] = CA
os.environ["WEBSOCKET_CLIENT_CA_BUNDLE"] = CA


def ops_env(key: str) -> str:
    """A value the stack's setup service generated into ops.env (tokens, passwords)."""
    for line in (STACK_DIR / "ops.env").read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise RuntimeError(f"{STACK_DIR}/ops.env has no {key}")


def ops_token() -> str:
    return ops_env("CELERYLAB_API_TOKEN")


def initial_passwords() -> dict[str, str]:
    """Every initial password the playbook kept from its roster imports."""
    passwords = {}
    for path in sorted((STACK_DIR / "credentials").glob("initial-passwords-*.csv")):
        with path.open() as f:
            passwords.update({r["username"]: r["initial_password"] for r in csv.DictReader(f)})
    return passwords


def own_password(initial: str) -> str:
    """What a test student chooses at first login (the hub sends a handed-out password to
    /hub/change-password first); derived, so a later run of the tests logs in with it."""
    return f"{initial}-own"


def _post_login(username: str, password: str) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    page = s.get(f"{URL}/hub/login", timeout=30)
    page.raise_for_status()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{URL}/hub/login",
        data={"username": username, "password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )
    return s, r


def login(username: str, password: str) -> requests.Session:
    """Log in through the HTTPS login form, like a browser, with the handed-out password, and
    change it when the hub asks (first login), as a person must; return the logged-in session."""
    s, r = _post_login(username, password)
    if r.status_code == 403:  # changed by an earlier run on this deployment
        s, r = _post_login(username, own_password(password))
        assert r.status_code == 302, f"{username} could not log in: {r.status_code} {r.text[:300]}"
        return s
    assert r.status_code == 302, f"{username} could not log in: {r.status_code} {r.text[:300]}"
    home = s.get(f"{URL}/hub/home", allow_redirects=False, timeout=30)
    if "/hub/change-password" in home.headers.get("Location", ""):
        form = s.get(f"{URL}/hub/change-password", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
        new = own_password(password)
        changed = s.post(
            f"{URL}/hub/change-password",
            data={
                "old_password": password,
                "new_password": new,
                "new_password_confirmation": new,
                "_xsrf": xsrf,
            },
            timeout=30,
        )
        assert "changed successfully" in changed.text, changed.text[:500]
    return s


def own_token(session: requests.Session, username: str) -> str:
    """A token the logged-in student makes for themselves (as the hub's token page does)."""
    xsrf = session.cookies.get("_xsrf", path="/hub/")
    r = session.post(
        f"{URL}/hub/api/users/{username}/tokens",
        json={"note": "deploy smoke test", "expires_in": 3600},
        headers={"X-XSRFToken": xsrf, "Referer": f"{URL}/hub/token"},
        timeout=30,
    )
    assert r.status_code == 201, f"{username} could not make a token: {r.status_code} {r.text}"
    return r.json()["token"]


def hub(token: str) -> Hub:
    """The hub's API with a token; labs and services at their own origins, over HTTPS."""
    return Hub(URL, token, public_url=URL)


@pytest.fixture(scope="session")
def ops() -> Hub:
    return hub(ops_token())


@pytest.fixture(scope="session")
def student() -> Hub:
    """student1, logged in through HTTPS with the initial password from the roster import."""
    password = initial_passwords().get(STUDENT)
    assert password, f"no initial password for {STUDENT} in {STACK_DIR}/credentials/"
    session = login(STUDENT, password)
    return hub(own_token(session, STUDENT))


def course_container() -> str:
    """The first course container of the deployment (celerylab courses sync made it)."""
    project = os.environ.get("CELERYLAB_DEPLOY_PROJECT", "clab-deploy")
    names = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}", "--filter", f"name=^{project}-course-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert names, f"no course container of {project} is running (celerylab courses sync)"
    return sorted(names)[0]


def in_course(code: str, timeout: float = 180) -> str:
    """Run Python in the course container as its instructor account, in the course folder."""
    container = course_container()
    owner = subprocess.run(
        ["docker", "exec", container, "stat", "-c", "%u", "/home/student"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    as_owner = ["-u", owner, "-w", "/home/student", "-e", "HOME=/home/student"]
    r = subprocess.run(
        ["docker", "exec", "-i", *as_owner, container, "python3", "-"],
        input=code,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, f"in {container}:\n{r.stdout}\n{r.stderr}"
    return r.stdout
