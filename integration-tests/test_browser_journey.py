"""A student's first minutes in a real browser, without dead ends: every launcher icon loads, and
a terminal opened from the launcher runs the course's commands (celery, celerylab-worker,
nbgrader, python) from the lab's environment. Screenshots: artifacts/journey-*.png."""

from __future__ import annotations

import csv
import io
import time

import pytest
from live import ARTIFACTS, compose
from test_browser import browser, log_in  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.docker, pytest.mark.browser]

STUDENT = "tess"
#: A student lab's launcher tiles that jupyter-server-proxy draws from celerylab_lab's icons
#: (Grade all is enabled in course containers only).
PROXY_SERVERS = ("flower", "celery-worker", "my-courses")


@pytest.fixture(scope="module")
def password(stack):
    r = compose("exec", "-T", "hub", "celerylab", "roster", "import", "-", input="username\ntess\n")
    yield next(csv.DictReader(io.StringIO(r.stdout)))["initial_password"]
    stack.stop(STUDENT)


@pytest.fixture
def student_page(password, browser):  # noqa: F811
    page = log_in(browser, STUDENT, password)
    page.wait_for_url(f"**/user/{STUDENT}/lab**")
    page.wait_for_selector(".jp-LauncherCard")
    yield page
    page.close()


def lab_base(page) -> str:
    """The student's server URL (…/user/<name>), wherever the hub serves it from."""
    return page.url.split("/lab", 1)[0]


def test_every_launcher_icon_loads(student_page):
    page = student_page
    page.screenshot(path=ARTIFACTS / "journey-launcher.png")
    base = lab_base(page)
    for name in PROXY_SERVERS:
        r = page.request.get(f"{base}/server-proxy/icon/{name}")
        assert r.status == 200, f"icon of {name}: HTTP {r.status}"
        assert b"<svg" in r.body(), f"icon of {name} is not an SVG"
    # What the student sees: every tile's icon drawn, none broken (an <img> that failed to load
    # has no natural width; an inline SVG has a box).
    widths = page.eval_on_selector_all(
        ".jp-LauncherCard",
        """cards => cards.map(card => {
            const img = card.querySelector('img');
            const svg = card.querySelector('svg');
            const width = img ? img.naturalWidth : (svg ? svg.getBoundingClientRect().width : 0);
            return [card.getAttribute('title') || card.innerText.trim(), width];
        })""",
    )
    titles = [title for title, _ in widths]
    for expected in ("Flower", "Celery worker", "My courses"):
        assert any(expected in title for title in titles), f"no {expected} tile in {titles}"
    assert [t for t, w in widths if not w] == [], f"tiles without a drawn icon: {widths}"


def test_a_terminal_runs_the_course_commands(student_page):
    page = student_page
    page.locator(".jp-LauncherCard", has_text="Terminal").first.click()
    terminal = page.locator(".jp-Terminal").last
    terminal.wait_for()
    time.sleep(2)  # the shell's prompt: keys typed before it are echoed but may be lost
    terminal.click()
    out = "journey-terminal.txt"
    script = (
        f"{{ celery --version; echo rc=$?; celerylab-worker status; echo rc=$?; "
        f"nbgrader list; echo rc=$?; python -c 'import sys, celery; print(sys.executable)'; "
        f"echo rc=$?; }} > ~/{out} 2>&1; echo finished >> ~/{out}"
    )
    page.keyboard.type(script)
    page.keyboard.press("Enter")
    text = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = page.request.get(f"{lab_base(page)}/api/contents/{out}?content=1&type=file")
        if r.ok:
            text = r.json()["content"]
            if "finished" in text:
                break
        time.sleep(1)
    page.screenshot(path=ARTIFACTS / "journey-terminal.png")
    assert "finished" in text, f"the terminal did not run the commands: {text!r}"
    assert "command not found" not in text, text
    assert text.count("rc=0") == 4, text
    assert text.splitlines()[0].startswith("5."), text  # celery --version
    assert "/opt/lab/bin/python" in text, text  # the lab's Python, not the system one
