"""First minutes in a real browser, without dead ends: every launcher icon loads, and a
terminal opened from the launcher runs the course's commands (celery, celerylab-worker,
nbgrader, python) from the lab's environment; a first login makes the user choose their own
password and then goes on; an admin adds a course to the running hub with the documented
command (`make courses`), which keeps the passwords it hands out in a new file, and the course's
instructor opens its formgrader and Grade all from the hub's menu; the roster's names reach the
gradebook; release and collect warn about nothing; `make roster` keeps the passwords it hands out
in a new file too; formgrader's file links, the instructor's Course List and the notebook toolbar
lead nowhere missing; the Celery worker, My courses and Grade all tiles open their pages as tabs
of the lab; a student's "(view feedback)" opens her feedback (each test by its name) as a tab,
and the Assignments tab's times read to the minute. Screenshots: artifacts/journey-*.png (the
launcher, My courses, Grade all and the instructor's course page: journey-launcher.png,
journey-my-courses.png, journey-grade-all.png, journey-course-page.png)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
from live import ARTIFACTS, PUBLIC, TEST_STACK, compose, service_url, user_url
from stack import ROOT
from test_browser import browser, change_password, log_in  # noqa: F401  (the Chromium fixture)
from test_exchange import sh, solve
from test_two_courses import in_course, wait_configured

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
    # A clean workspace: JupyterLab restores the last session's tabs (My courses, a notebook),
    # which would hide the launcher.
    page.goto(f"{lab_base(page)}/lab?reset")
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


def test_my_courses_opens_as_a_tab_of_the_lab(student_page):
    page = student_page
    page.locator(".jp-LauncherCard", has_text="My courses").first.click()
    frame = page.frame_locator(".jp-MainAreaWidget iframe").last
    frame.locator("h1", has_text="My courses").wait_for()
    page.screenshot(path=ARTIFACTS / "journey-my-courses.png")
    assert "/lab" in page.url, page.url  # still the lab, not a page of its own
    assert len(page.context.pages) == 1, "My courses opened a browser tab of its own"


def test_the_celery_worker_opens_as_a_tab_of_the_lab(student_page):
    page = student_page
    page.locator(".jp-LauncherCard", has_text="Celery worker").first.click()
    frame = page.frame_locator(".jp-MainAreaWidget iframe").last
    frame.locator("h1", has_text="Your Celery worker").wait_for()
    frame.get_by_role("button", name="Restart worker").wait_for()
    page.screenshot(path=ARTIFACTS / "journey-worker.png")
    assert "/lab" in page.url, page.url
    assert len(page.context.pages) == 1, "the worker page opened a browser tab of its own"


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


def test_a_notebook_offers_no_button_to_a_missing_page(student_page):
    """notebook's "Notebook ↗" switcher opened /tree/…, which the lab does not serve (404)."""
    page = student_page
    page.goto(f"{lab_base(page)}/lab/tree/Welcome.ipynb")
    toolbar = page.locator(".jp-NotebookPanel-toolbar").first
    toolbar.locator("[data-jp-item-name=kernelName]").wait_for()
    page.screenshot(path=ARTIFACTS / "journey-notebook-toolbar.png")
    switcher = page.locator("[data-jp-item-name=interfaceSwitcher], .jp-InterfaceSwitcher")
    assert switcher.count() == 0, toolbar.inner_text()


def test_restarting_the_worker_says_it_works_and_then_that_it_is_done(student_page):
    page = student_page
    page.goto(f"{lab_base(page)}/celery-worker/")
    page.get_by_role("button", name="Restart worker").wait_for()
    # Pressed as a click does (the submit event first, then the POST); what the button shows at
    # that moment is read at once (Playwright's locators wait for the navigation to finish).
    disabled, label = page.evaluate(
        """() => { const b = document.querySelector('form[action=restart] button');
                   b.form.requestSubmit(b); return [b.disabled, b.textContent]; }"""
    )
    assert (disabled, label) == (True, "Restarting…"), (disabled, label)
    done = page.locator(".ok", has_text="Worker restarted")
    done.wait_for()
    assert "restarted=ok" in page.url, page.url
    page.screenshot(path=ARTIFACTS / "journey-worker-restarted.png")


def test_first_login_asks_for_an_own_password_then_goes_on(stack, browser):  # noqa: F811
    r = compose("exec", "-T", "hub", "celerylab", "roster", "import", "-", input="username\nfran\n")
    issued = next(csv.DictReader(io.StringIO(r.stdout)))["initial_password"]
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{PUBLIC}/hub/login")
        page.screenshot(path=ARTIFACTS / "journey-login.png")
        assert "celerylab" in page.locator(".celerylab-welcome").inner_text()
        page.fill("input[name=username]", "fran")
        page.fill("input[name=password]", issued)
        with page.expect_navigation():
            page.click("input[type=submit], button[type=submit]")
        assert "/hub/change-password" in page.url, page.url
        page.locator("#must-change").wait_for()
        page.screenshot(path=ARTIFACTS / "journey-password-forced.png")
        # Not only at login: the hub's pages and the lab wait until the password is changed.
        for elsewhere in (f"{PUBLIC}/hub/home", f"{PUBLIC}/hub/spawn", user_url("fran") + "/lab"):
            page.goto(elsewhere)
            assert "/hub/change-password" in page.url, (elsewhere, page.url)
            page.locator("#must-change").wait_for()
        # Keeping the handed-out password is not a change.
        page.fill("#old_password_input", issued)
        page.fill("#new_password_input", issued)
        page.fill("#new_password_confirmation_input", issued)
        with page.expect_navigation():
            page.click("#change_password_submit")
        assert page.locator("#continue").count() == 0
        change_password(page, issued, "fran's own passphrase")
        page.screenshot(path=ARTIFACTS / "journey-password-changed.png")
        page.click("#continue")
        page.wait_for_url("**/user/fran/lab**")
        page.goto(f"{PUBLIC}/hub/home")
        page.get_by_role("link", name="Change password").wait_for()
    finally:
        page.close()
        stack.stop("fran")


def test_a_roster_import_never_overwrites_handed_out_passwords(stack, tmp_path):
    """`make roster ROSTER=…` as the README shows it: each run's new passwords in a new file."""
    roster = tmp_path / "students.csv"
    credentials = ARTIFACTS / "journey-roster-credentials"
    shutil.rmtree(credentials, ignore_errors=True)

    def import_roster() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", "roster", f"ROSTER={roster}"],
            cwd=ROOT,
            env={**os.environ, **TEST_STACK.env, "CELERYLAB_CREDENTIALS_DIR": str(credentials)},
            capture_output=True,
            text=True,
            timeout=120,
        )

    roster.write_text("username\nrhea\n")
    first = import_roster()
    assert first.returncode == 0, first.stderr
    [path] = credentials.glob("initial-passwords-*.csv")
    handed_out = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r["username"] for r in csv.DictReader(io.StringIO(handed_out))] == ["rhea"]
    assert "initial_password" not in first.stdout, "passwords go to the file only"
    roster.write_text("username\nrhea\nrolf\n")
    second = import_roster()
    assert second.returncode == 0, second.stderr
    files = sorted(credentials.glob("initial-passwords-*.csv"))
    assert len(files) == 2 and path in files, files
    assert path.read_text() == handed_out
    [newer] = [f for f in files if f != path]
    assert [r["username"] for r in csv.DictReader(newer.open())] == ["rolf"]
    # Nothing new to hand out: no file.
    third = import_roster()
    assert third.returncode == 0, third.stderr
    assert sorted(credentials.glob("initial-passwords-*.csv")) == files


NEW_COURSE = "uxcourse"
COURSES = ROOT / "integration-tests/fixtures/courses"  # the test stack's CELERYLAB_COURSES


def sync_courses(credentials) -> subprocess.CompletedProcess:
    """`make courses`, as the README says, against the test stack."""
    return subprocess.run(
        ["scripts/courses-sync.sh"],
        cwd=ROOT,
        env={**os.environ, **TEST_STACK.env, "CELERYLAB_CREDENTIALS_DIR": str(credentials)},
        capture_output=True,
        text=True,
        timeout=600,
    )


# Session-scoped, not module-scoped: pytest-playwright's browser parametrization reorders the
# browser tests of every module ahead of the others, so a module fixture used by both kinds is
# torn down in between and set up again, and the second `make courses` then finds the course
# already there (what failed CI twice).
@pytest.fixture(scope="session")
def new_course(stack):
    """An admin declares a course while the hub runs and runs the one documented command twice."""
    declaration, roster = COURSES / f"{NEW_COURSE}.yaml", COURSES / f"{NEW_COURSE}.csv"
    declaration.write_text(
        f"id: {NEW_COURSE}\ntitle: UX Course\ninstructors: [ines]\nroster: {NEW_COURSE}.csv\n"
        "assignments: [{id: ps1}]\n"
    )
    roster.write_text("username,first_name,last_name,email\nulla,Ulla,Ullmann,ulla@uni.example\n")
    credentials = ARTIFACTS / "journey-credentials"
    shutil.rmtree(credentials, ignore_errors=True)
    try:
        first = sync_courses(credentials)
        handed_out = {f: f.read_bytes() for f in credentials.glob("initial-passwords-*.csv")}
        second = sync_courses(credentials)
        (ARTIFACTS / "journey-courses-sync.log").write_text(first.stderr + second.stderr)
        wait_configured(NEW_COURSE)
        yield first, second, handed_out, credentials
    finally:
        declaration.unlink(missing_ok=True)
        roster.unlink(missing_ok=True)


def test_a_new_course_works_after_one_command_and_keeps_its_passwords(new_course):
    first, second, handed_out, credentials = new_course
    assert first.returncode == 0, first.stderr
    assert "restarting the hub" in first.stderr, first.stderr
    assert "every declared course is ready" in first.stderr, first.stderr
    [(path, content)] = handed_out.items()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = {
        r["username"]: r["initial_password"] for r in csv.DictReader(io.StringIO(content.decode()))
    }
    assert {"ines", "ulla"} <= set(rows), rows
    # Again: nothing new to hand out, so no new file, and the first one is untouched.
    assert second.returncode == 0, second.stderr
    assert "NOT READY" not in second.stderr and "restarting" not in second.stderr, second.stderr
    assert sorted(credentials.glob("initial-passwords-*.csv")) == [path]
    assert path.read_bytes() == content


def handed_out_password(new_course, name: str) -> str:
    """A password the new course's sync handed out (log_in changes it at first login)."""
    _, _, handed_out, _ = new_course
    [content] = handed_out.values()
    rows = csv.DictReader(io.StringIO(content.decode()))
    return {r["username"]: r["initial_password"] for r in rows}[name]


def instructor_password(new_course) -> str:
    return handed_out_password(new_course, "ines")


def test_the_new_courses_instructor_finds_formgrader_and_grade_all(new_course, browser):  # noqa: F811
    page = log_in(browser, "ines", instructor_password(new_course), "/hub/home")
    try:
        page.wait_for_url("**/hub/home**")
        page.get_by_role("button", name="Services").click()
        link = page.get_by_role("link", name="UX Course: grading")
        link.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-services-menu.png")
        link.click()
        page.wait_for_url(f"**/services/formgrader-{NEW_COURSE}/formgrader**")
        page.get_by_role("link", name="Manage Assignments").first.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-new-course-formgrader.png")
        page.goto(f"{service_url('formgrader-' + NEW_COURSE)}/grade-all/")
        page.locator("#row-ps1").wait_for()
        # The instructor's course page (Grade all with the course's links and Download grades).
        page.screenshot(path=ARTIFACTS / "journey-course-page.png")
        assert "UX Course" in page.locator("h1").inner_text()
        # Download grades (CSV): nbgrader's export, with the roster's names.
        with page.expect_download() as download:
            page.click("#download-grades")
        grades = Path(download.value.path()).read_text()
        (ARTIFACTS / "journey-downloaded-grades.csv").write_text(grades)
        assert "ulla,Ullmann,Ulla,ulla@uni.example" in grades, grades
    finally:
        page.close()


@pytest.fixture(scope="session")
def released(new_course) -> str:
    """The instructor releases ps1, once, for whichever test asks first."""
    return in_course(
        NEW_COURSE, "nbgrader generate_assignment ps1 && nbgrader release_assignment ps1"
    )


def test_release_and_collect_warn_about_nothing_and_exports_carry_names(new_course, released):
    assert "WARNING" not in released, released
    # A submission as the exchange service files it: under the student's name, as the
    # exchange's own user (the course container's user too).
    stamp = "2027-01-10 10:00:00.000000 UTC"
    inbound = f"/srv/celerylab/exchange/{NEW_COURSE}/inbound/ulla+ps1+{stamp}+abc"
    in_course(
        NEW_COURSE,
        f"mkdir -p '{inbound}' && cp release/ps1/ps1.ipynb '{inbound}/' && "
        f"echo '{stamp}' > '{inbound}/timestamp.txt'",
    )
    collected = in_course(NEW_COURSE, "nbgrader collect ps1")
    assert "WARNING" not in collected and "cheating" not in collected, collected
    assert "ulla" in collected, collected
    exported = in_course(
        NEW_COURSE, "nbgrader export --to=/tmp/grades.csv >/dev/null 2>&1; cat /tmp/grades.csv"
    )
    (ARTIFACTS / "journey-grades.csv").write_text(exported)
    assert "Ulla" in exported and "ulla@uni.example" in exported, exported


def test_formgraders_file_links_open_the_courses_own_lab(new_course, released, browser):  # noqa: F811
    """Formgrader's assignment and Preview links (of the released ps1) led to /hub/tree/… (404).
    They land in the course's own JupyterLab, on the course's origin, at the folder they name."""
    page = log_in(browser, "ines", instructor_password(new_course), "/hub/home")
    course = service_url(f"formgrader-{NEW_COURSE}")
    try:
        page.wait_for_url("**/hub/home**")
        page.goto(f"{course}/formgrader/manage_assignments")
        row = page.locator("tr", has=page.locator("td.name", has_text="ps1"))
        row.locator("td.preview a").wait_for(state="attached")
        page.screenshot(path=ARTIFACTS / "journey-formgrader-links.png")
        for cell, folder in (("name", "source"), ("preview", "release")):
            # Followed as the browser would (Preview is an icon whose font may not have loaded,
            # so it has no size to click): the href formgrader gave it, on the formgrader's page.
            href = row.locator(f"td.{cell} a").get_attribute("href")
            assert href.startswith("/tree/"), href
            lab = page.context.new_page()
            lab.set_default_timeout(90_000)
            lab.goto(urljoin(page.url, href))
            lab.locator(".jp-DirListing-item", has_text="ps1.ipynb").wait_for()
            assert lab.url.startswith(f"{course}/lab"), lab.url
            crumbs = lab.locator(".jp-BreadCrumbs").inner_text()
            assert folder in crumbs and "ps1" in crumbs, crumbs
            lab.screenshot(path=ARTIFACTS / f"journey-formgrader-{cell}-link.png")
            lab.close()
        # The course's Jupyter offers the staff's tools, none of a student's tiles.
        page.goto(f"{course}/lab?reset")
        page.locator(".jp-LauncherCard", has_text="Grade all").first.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-course-launcher.png")
        tiles = page.locator(".jp-LauncherCard").all_inner_texts()
        for student_tile in ("Flower", "Celery worker", "My courses"):
            assert not any(student_tile in t for t in tiles), tiles
        # Grade all's tile opens the page as a tab of the course's lab.
        page.locator(".jp-LauncherCard", has_text="Grade all").first.click()
        frame = page.frame_locator(".jp-MainAreaWidget iframe").last
        frame.locator("#row-ps1").wait_for()
        frame.locator("h1", has_text="UX Course").wait_for()
        page.screenshot(path=ARTIFACTS / "journey-grade-all.png")
        assert page.url.startswith(f"{course}/lab"), page.url
        assert len(page.context.pages) == 1, "Grade all opened a browser tab of its own"
    finally:
        page.close()


def test_the_instructors_lab_lists_their_course_with_a_working_link(stack, new_course, browser):  # noqa: F811
    """nbgrader's Course List said there were no formgraders."""
    page = log_in(browser, "ines", instructor_password(new_course))
    try:
        page.wait_for_url("**/user/ines/lab**")
        page.wait_for_selector(".jp-Launcher")
        page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
        page.locator(".lm-Menu-item", has_text="Course List").click()
        link = page.get_by_role("link", name="UX Course")
        link.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-course-list.png")
        assert link.get_attribute("href") == f"{service_url('formgrader-' + NEW_COURSE)}/formgrader"
        with page.context.expect_page() as opened:
            link.click()
        formgrader = opened.value
        formgrader.set_default_timeout(90_000)
        formgrader.get_by_role("link", name="Manage Assignments").first.wait_for()
        formgrader.close()
    finally:
        page.close()
        stack.stop("ines")


STAMP_TO_THE_SECOND = re.compile(r"\d\d:\d\d:\d\d")


@pytest.fixture(scope="session")
def feedback(stack, new_course, released) -> str:
    """The new course's student submits ps1 from her lab; the instructor collects, grades and
    releases feedback; she fetches it (nbgrader's commands, as the README gives them)."""
    stack.start("ulla")
    lab = stack.lab("ulla", stack.token_for("ulla"))
    try:
        for command in ("fetch_assignment", None, "submit"):
            if command is None:
                solve(lab, "ps1")
                continue
            out = sh(lab, f"nbgrader {command} ps1 --course {NEW_COURSE}")
            assert out.startswith("0"), out
        in_course(
            NEW_COURSE,
            "nbgrader collect ps1 && nbgrader autograde ps1 && "
            "nbgrader generate_feedback ps1 && nbgrader release_feedback ps1",
        )
        out = sh(lab, f"nbgrader fetch_feedback ps1 --course {NEW_COURSE}")
        assert out.startswith("0"), out
        return out
    finally:
        lab.close()


def test_view_feedback_opens_the_feedback(stack, new_course, feedback, browser):  # noqa: F811
    """The Assignments tab's "(view feedback)" only moved the file browser; its times showed
    microseconds; feedback called every test "Test cell"."""
    page = log_in(browser, "ulla", handed_out_password(new_course, "ulla"))
    try:
        page.wait_for_url("**/user/ulla/lab**")
        page.goto(f"{lab_base(page)}/lab?reset")
        page.wait_for_selector(".jp-Launcher")
        page.get_by_role("menuitem", name="Nbgrader").click()
        page.get_by_role("menuitem", name="Assignment List").click()
        submitted = page.locator("#submitted_assignments_list")
        link = submitted.get_by_text("(view feedback)")
        link.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-assignments-feedback.png")
        shown = submitted.inner_text()
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", shown), shown
        assert not STAMP_TO_THE_SECOND.search(shown), f"times to the minute: {shown!r}"
        link.click()
        # JupyterLab's HTML viewer, in a tab of the lab.
        viewer = page.frame_locator(".jp-HTMLViewer iframe").last
        viewer.get_by_text("(Score:").first.wait_for()
        page.screenshot(path=ARTIFACTS / "journey-feedback.png")
        toc = viewer.locator("#toc").inner_text()
        assert "Tests test_add" in toc and "Test cell" not in toc, toc
        assert "/lab" in page.url and len(page.context.pages) == 1
    finally:
        page.close()
        stack.stop("ulla")
