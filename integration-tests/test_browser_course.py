"""One assignment through the real user interfaces, in Chromium: a student logs in, fetches ps1
from JupyterLab's Assignments tab (nbgrader's assignment list), answers it, submits it there and
sees it listed as submitted; the course's instructor logs in, opens the formgrader in its own
tab, collects, finds the submission in Manage Submissions, and grades the class with the
"Grade all" page's button (the grading fleet), watching it finish, and opens the fleet's
Flower. Screenshots:
artifacts/course-*.
"""

from __future__ import annotations

import re

import pytest
from live import ARTIFACTS, compose, service_url, user_url
from test_browser import browser, log_in  # noqa: F401  (the Chromium fixture)
from test_exchange import inbound, instructor, solve, wait_for_course_container
from test_sandbox import scores

pytestmark = [pytest.mark.docker, pytest.mark.browser]

STUDENT, TEACHER = "cara", "ida"  # c101's roster and instructor (integration-tests/fixtures)
FORMGRADER = service_url("formgrader-c101")
STEP_TIMEOUT = 90_000  # ms: a lab's first nbgrader call loads nbgrader (lazy_nbgrader)


def release(assignment: str) -> None:
    """Generate and release in the course container, unless another test released it already."""
    instructor(
        f"nbgrader generate_assignment {assignment} && "
        f"(test -d /srv/celerylab/exchange/c101/outbound/{assignment} || "
        f"nbgrader release_assignment {assignment})"
    )


def passwords(stack, *names: str) -> dict[str, str]:
    """Fresh passwords through the ops API (what `celerylab courses sync` hands out once)."""
    r = stack.api("POST", "/celerylab/passwords", json={"usernames": list(names), "reset": True})
    r.raise_for_status()
    return r.json()["passwords"]


@pytest.fixture(scope="module")
def course(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    wait_for_course_container()
    release("ps1")
    yield passwords(stack, STUDENT, TEACHER)
    # A lab left running would count in later tests (monitoring counts c101's workers).
    stack.stop(STUDENT)


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"course-{name}.png")


def open_assignments_tab(page) -> None:
    page.goto(f"{user_url(STUDENT)}/lab?reset")  # a clean workspace: no restored tabs
    page.wait_for_selector(".jp-Launcher")
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()


def nbgrader_lists_courses(lab) -> bool:
    """nbgrader's assignment list starts by asking the lab for the student's courses (JSON)."""
    try:
        return "success" in lab.get("courses").json()
    except ValueError:
        return False


def row(page, section: str, assignment: str):
    """One assignment's row in a section of the list (released, fetched or submitted)."""
    return page.locator(f"#{section}_assignments_list .list_item").filter(has_text=assignment)


def test_student_submits_from_the_assignments_tab_and_instructor_sees_it(
    stack,
    course,
    browser,  # noqa: F811
):
    before = {n for n in inbound("c101") if n.startswith(f"{STUDENT}+ps1+")}
    page = log_in(browser, STUDENT, course[STUDENT], timeout_ms=STEP_TIMEOUT)
    try:
        page.wait_for_url(f"**/user/{STUDENT}/lab**")
        lab = stack.lab(STUDENT, stack.token_for(STUDENT))
        # nbgrader's assignment list starts with GET /user/<name>/courses: nothing of ours may
        # take that URL (the lab's own "My courses" page is at my-courses/).
        assert nbgrader_lists_courses(lab), "nbgrader's /courses answered with something else"
        open_assignments_tab(page)
        released = row(page, "released", "ps1")
        released.get_by_role("button", name="Fetch").wait_for()
        shot(page, "1-assignments-tab")
        released.get_by_role("button", name="Fetch").click()

        fetched = row(page, "fetched", "ps1")
        fetched.get_by_role("button", name="Submit").wait_for()
        solve(lab, "ps1")  # the student's answer, saved as the editor would save it
        files = page.locator(".jp-DirListing-content")
        files.get_by_text("ps1", exact=True).dblclick()
        files.get_by_text("ps1.ipynb", exact=True).dblclick()
        page.locator(".jp-Notebook .jp-Cell").filter(has_text="return a + b").wait_for()
        shot(page, "2-answered-notebook")

        page.get_by_role("tab", name="Assignments").click()
        fetched.get_by_role("button", name="Submit").click()
        submitted = row(page, "submitted", "ps1")
        submitted.wait_for()
        shot(page, "3-submitted")
        shown = submitted.inner_text()
        new = {n for n in inbound("c101") if n.startswith(f"{STUDENT}+ps1+")} - before
        assert len(new) == 1, f"one submission must reach the exchange: {new}"
        stamp = inbound("c101")[new.pop()]
        # To the minute, as the list now shows it (celerylab_lab.nbgrader_patches).
        assert stamp[:16] in shown, f"the list must show the exchange's time {stamp}: {shown!r}"
    except Exception:
        shot(page, "failure-student")
        raise
    finally:
        page.close()

    # The instructor: logs in at the hub, then opens the formgrader on its own origin (the
    # Services menu's link); no lab of her own is started.
    page = log_in(browser, TEACHER, course[TEACHER], "/hub/home", timeout_ms=STEP_TIMEOUT)
    try:
        page.wait_for_url("**/hub/home**")
        page.goto(f"{FORMGRADER}/")
        page.wait_for_url("**/services/formgrader-c101/formgrader**")
        page.get_by_role("link", name="Manage Assignments").first.wait_for()
        shot(page, "4-formgrader")
        # Collect as the README says instructors do (CLI in the course container); the
        # formgrader then shows what the gradebook holds.
        out = instructor("nbgrader collect ps1")
        assert STUDENT in out, out
        page.goto(f"{FORMGRADER}/formgrader/manage_submissions/ps1")
        student_row = page.locator("tr").filter(has_text=STUDENT).first
        student_row.wait_for()
        shot(page, "5-manage-submissions")
        assert stamp[:19] in student_row.inner_text(), student_row.inner_text()

        # One click grades every collected submission on the grading fleet; the page follows.
        page.goto(f"{FORMGRADER}/grade-all/")
        ps1 = page.locator("#row-ps1")
        ps1.get_by_role("button", name=re.compile(r"^Grade \d+ new$")).click()
        ps1.get_by_text("finished").wait_for(timeout=300_000)
        shot(page, "6-grade-all")
        assert "0 remaining" in ps1.inner_text(), ps1.inner_text()
        failures = " ".join(ps1.locator(".err").all_inner_texts())
        assert f"{STUDENT}:" not in failures, ps1.inner_text()
        assert scores()[STUDENT] == 2.0, "the right answer, graded by the fleet, scores full marks"

        # No fleet Flower in a course container: it would show every course's tasks and could
        # stop the workers (docs/grading.md, one course cannot reach another).
        assert page.goto(f"{FORMGRADER}/grading-fleet/").status == 404
    except Exception:
        shot(page, "failure-instructor")
        raise
    finally:
        page.close()
