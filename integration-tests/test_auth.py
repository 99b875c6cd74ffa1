"""Roster login: imported students log in with their initial password; wrong passwords, names
off the roster and repeated failures are refused with the right message."""

import csv
import io
import re

import pytest
import requests
from live import PUBLIC, compose, session

pytestmark = pytest.mark.docker

HUB = PUBLIC


def login(username: str, password: str) -> requests.Response:
    s = session()
    page = s.get(f"{HUB}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    return s.post(
        f"{HUB}/hub/login",
        data={"username": username, "password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )


def import_roster(text: str):
    return compose(
        "exec", "-T", "hub", "celerylab", "roster", "import", "-", input=text, check=False
    )


@pytest.fixture(scope="module")
def credentials(stack):
    r = import_roster("username,email\nivan,ivan@example.org\njana,jana@example.org\n")
    assert r.returncode == 0, r.stderr
    rows = {
        row["username"]: row["initial_password"] for row in csv.DictReader(io.StringIO(r.stdout))
    }
    assert set(rows) == {"ivan", "jana"}
    return rows


def test_student_on_roster_logs_in(credentials):
    r = login("ivan", credentials["ivan"])
    assert r.status_code == 302, r.text[:500]


def test_first_login_asks_for_an_own_password(credentials):
    r = login("jana", credentials["jana"])
    assert r.status_code == 302, r.text[:500]
    assert "/hub/change-password?next=" in r.headers["Location"], r.headers["Location"]


def test_wrong_password_gets_the_login_error(credentials):
    r = login("ivan", "not-the-password")
    assert r.status_code == 403
    assert "Invalid username or password" in r.text


def test_name_off_the_roster_is_refused(credentials):
    r = login("mallory", credentials["ivan"])
    assert r.status_code == 403
    assert "Invalid username or password" in r.text


def test_repeated_failures_lock_the_name_out_from_that_address(credentials):
    for _ in range(3):  # CELERYLAB_LOGIN_ATTEMPTS=3 in the test stack
        login("jana", "wrong-password-1")
    r = login("jana", credentials["jana"])
    assert r.status_code == 403, "a name locked out here must not log in, even with its password"
    assert "Too many failed logins" in r.text


def test_reimport_issues_no_new_passwords(credentials):
    r = import_roster("username\nivan\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "username,initial_password"
    assert login("ivan", credentials["ivan"]).status_code == 302


def test_bad_roster_changes_nothing(stack):
    r = import_roster("username\nkim\nNot Valid\nkim\n")
    assert r.returncode == 2
    assert "line 3" in r.stderr and "line 4" in r.stderr, r.stderr
    assert stack.user("kim") is None


def test_first_admin_logs_in_with_the_one_time_password(stack):
    r = compose("exec", "-T", "hub", "celerylab", "admin-password", check=False)
    assert r.returncode == 0, r.stderr
    assert login("admin", r.stdout.strip()).status_code == 302


def test_student_changes_their_password(stack):
    r = import_roster("username\nkai\n")
    old = next(csv.DictReader(io.StringIO(r.stdout)))["initial_password"]
    s = session()
    page = s.get(f"{HUB}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    s.post(
        f"{HUB}/hub/login",
        data={"username": "kai", "password": old, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    ).raise_for_status()
    form = s.get(f"{HUB}/hub/change-password", timeout=30)
    assert form.status_code == 200, form.text[:300]
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    new = "a-much-better-passphrase"
    r = s.post(
        f"{HUB}/hub/change-password",
        timeout=30,
        data={
            "old_password": old,
            "new_password": new,
            "new_password_confirmation": new,
            "_xsrf": xsrf,
        },
    )
    assert "changed successfully" in r.text, r.text[:500]
    assert login("kai", old).status_code == 403
    assert login("kai", new).status_code == 302
