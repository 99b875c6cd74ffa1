"""A student in a real browser: logs in, JupyterLab loads, a notebook cell sends a task to their
worker and shows the result. Screenshots are kept in artifacts/."""

import csv
import io
import os
import shutil
from urllib.parse import quote

import pytest
from live import ARTIFACTS, PUBLIC, compose, require, user_url
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.docker, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling home, which this network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def browser():
    require("Chromium", os.path.exists(CHROMIUM), "install the chromium package (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: The passwords users chose when their first login asked them to replace the issued one.
OWN_PASSWORDS: dict[str, str] = {}


def log_in(browser, name: str, password: str, next_url: str = "", timeout_ms: int = 90_000):
    """A new page, in a browser context of its own (its cookies, more pages), that has
    submitted the hub's login form, and chosen an own password if the hub asked for one (first
    login with an issued password): it goes on to where the login was going."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{PUBLIC}/hub/login" + (f"?next={quote(next_url, safe='')}" if next_url else ""))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", OWN_PASSWORDS.get(name, password))
    with page.expect_navigation():
        page.click("input[type=submit], button[type=submit]")
    if "/hub/change-password" in page.url:
        change_password(page, password, f"{password}-own")
        OWN_PASSWORDS[name] = f"{password}-own"
        page.click("#continue")
    return page


def change_password(page, old: str, new: str) -> None:
    page.fill("#old_password_input", old)
    page.fill("#new_password_input", new)
    page.fill("#new_password_confirmation_input", new)
    with page.expect_navigation():
        page.click("#change_password_submit")
    page.wait_for_selector("#continue")


def test_student_logs_in_and_runs_a_task_from_a_notebook(stack, browser):
    r = compose("exec", "-T", "hub", "celerylab", "roster", "import", "-", input="username\npia\n")
    password = next(csv.DictReader(io.StringIO(r.stdout)))["initial_password"]

    page = log_in(browser, "pia", password)
    try:
        page.wait_for_url("**/user/pia/lab**")
        page.wait_for_selector(".jp-Launcher")
        page.screenshot(path=ARTIFACTS / "browser-1-jupyterlab.png")

        page.goto(f"{user_url('pia')}/lab/tree/Welcome.ipynb")
        cell = page.locator(".jp-CodeCell").first
        cell.wait_for()
        # The kernel must be up before the cell can run; the status bar says when.
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        output = cell.locator(".jp-OutputArea-output")
        for _ in range(3):  # a keypress that lands while the editor is still settling is lost
            cell.locator(".cm-content").click()
            page.keyboard.press("Shift+Enter")
            try:
                output.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                continue
        page.screenshot(path=ARTIFACTS / "browser-2-task-result.png")
        assert output.inner_text().strip() == "5", output.inner_text()
    except Exception:
        page.screenshot(path=ARTIFACTS / "browser-failure.png")
        raise
