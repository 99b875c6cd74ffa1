"""The "Grade all" page: counts from the course directory, one run per assignment at a time.

The page starts `celerylab-grade`; here a stand-in on PATH plays it (it writes the same state
file), because the real one needs the grading fleet: integration-tests/test_browser_course
presses the real button.
"""

import json
import os
import sys
import time

import pytest
from celerylab_lab import grading_page

STAND_IN = """
# celerylab-grade ASSIGNMENT [--force]: report progress like the real one, then finish.
import json, os, sys, time
from pathlib import Path

folder = Path(".celerylab/grading")
folder.mkdir(parents=True, exist_ok=True)
(folder / "args").write_text(" ".join(sys.argv[1:]))
def state(done, failed, remaining, finished, failures=()):
    (folder / f"{sys.argv[1]}.json").write_text(json.dumps({
        "assignment": sys.argv[1], "done": done, "failed": failed, "remaining": remaining,
        "elapsed": 1.0, "finished": finished, "failures": list(failures)}))
state(0, 0, 2, False)
time.sleep(float(os.environ.get("STAND_IN_SECONDS", "0.5")))
state(1, 1, 0, True, [{"student": "bob", "error": "Traceback\\nGradingServiceError: no"}])
"""


@pytest.fixture
def course(tmp_path, monkeypatch):
    for student, graded in (("amy", True), ("bob", False)):
        folder = tmp_path / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2027-01-09 10:00:00.000000 UTC")
        if graded:
            done = tmp_path / "autograded" / student / "ps1"
            done.mkdir(parents=True)
            (done / "timestamp.txt").write_text("2027-01-09 10:00:00.000000 UTC")
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    (tmp_path / "source" / "ps2").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "celerylab-grade").write_text(f"#!{sys.executable}{STAND_IN}")
    (bin_dir / "celerylab-grade").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def wait_until_finished(root, assignment, timeout=10):
    deadline = time.monotonic() + timeout
    while grading_page.run_state(root, assignment)["running"]:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)
    return grading_page.run_state(root, assignment)


def test_counts_come_from_what_is_collected_and_graded(course):
    rows = {r["assignment"]: r for r in grading_page.status(course)}
    assert (rows["ps1"]["collected"], rows["ps1"]["graded"], rows["ps1"]["to_grade"]) == (2, 1, 1)
    assert rows["ps2"]["collected"] == 0 and rows["ps2"]["run"] == {"ran": False, "running": False}
    assert "Grade 1 new" in grading_page.render(course)


def test_before_any_run_there_is_no_phantom_progress(course):
    """Issue 17: "finished: 0 done" under a full bar before anything had run."""
    page = grading_page.render(course)
    assert "<progress" not in page and "finished" not in page
    assert page.count("not graded here yet") == 2


def test_an_assignment_with_nothing_collected_offers_no_grading(course):
    """Issue 17: 'Grade all again' was pressable with nothing collected (a run of nothing)."""
    page = grading_page.render(course)
    ps1, ps2 = page.split('id="row-ps1"')[1].split('id="row-ps2"')
    assert "<button disabled" not in ps1.split("Grade all again")[0].rsplit("<form", 1)[1]
    assert ps2.count("<button disabled") == 2, ps2


def test_the_page_is_the_courses_page_for_its_staff(course, monkeypatch):
    monkeypatch.setenv("CELERYLAB_COURSE", json.dumps({"id": "c1", "title": "Celery Foundations"}))
    page = grading_page.render(course)
    assert "<h1>Celery Foundations: grade all</h1>" in page
    for link in ('href="../formgrader"', 'href="../grading-fleet/"', 'href="grades.csv"'):
        assert link in page
    assert "Download grades (CSV)" in page


def test_download_grades_exports_the_gradebook_with_names(tmp_path, monkeypatch):
    from celerylab_lab.course import sync_gradebook

    monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'c1'\n"
        f"c.CourseDirectory.root = {str(tmp_path)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path}/gradebook.db'\n"
    )
    declared = {
        "id": "c1",
        "students": ["amy"],
        "profiles": {"amy": {"first_name": "Amy", "last_name": "Adams", "email": "amy@x.example"}},
        "assignments": [{"id": "ps1"}],
    }
    sync_gradebook(declared, tmp_path)
    text = grading_page.export_grades(tmp_path).decode()
    assert text.startswith("assignment,duedate,timestamp,student_id,last_name,first_name,email")
    assert "\nps1,,,amy,Adams,Amy,amy@x.example," in text


def test_a_run_is_started_followed_and_reported(course, monkeypatch):
    monkeypatch.setenv("STAND_IN_SECONDS", "1")
    grading_page.start(course, "ps1", force=True)
    running = grading_page.render(course)
    assert 'http-equiv="refresh"' in running and "<b>grading</b>" in running
    with pytest.raises(grading_page.AlreadyRunning, match="being graded already"):
        grading_page.start(course, "ps1", force=False)
    state = wait_until_finished(course, "ps1")
    assert (state["done"], state["failed"], state["remaining"]) == (1, 1, 0)
    assert (course / ".celerylab" / "grading" / "args").read_text().split() == ["ps1", "--force"]
    page = grading_page.render(course)
    assert "<b>finished</b>: 1 done, 1 failed, 0 remaining" in page
    assert "GradingServiceError: no" in page and 'http-equiv="refresh"' not in page


def test_an_interrupted_run_says_so(course):
    state_dir = course / ".celerylab" / "grading"
    state_dir.mkdir(parents=True)
    (state_dir / "ps1.json").write_text(
        json.dumps({"done": 3, "failed": 0, "remaining": 5, "elapsed": 9.0, "finished": False})
    )
    (state_dir / "ps1.pid").write_text("999999999")  # no such process
    assert "interrupted (grade again to resume)" in grading_page.render(course)


def test_bad_requests_change_nothing(course):
    for name in ("nope", "../ps1", ""):
        with pytest.raises(ValueError, match="no assignment"):
            grading_page.start(course, name, force=False)
    assert not (course / ".celerylab" / "grading" / "ps1.pid").exists()
