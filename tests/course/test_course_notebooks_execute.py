"""Every lesson and lab notebook runs top to bottom, without an error, in a lab-like session:
the student's own Redis and supervised worker (tests/course/shim stands in for the lab's
`celerylab-worker`), against the pinned Celery."""

from pathlib import Path

import pytest
from course_notebooks import LabSession, errors

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(  # lessons and labs; quizzes, exams and capstones execute in their own tests
    (p.parent.name, p.name)
    for p in (REPO / "source").glob("*/*.ipynb")
    if not p.parent.name.endswith("-quiz") and not p.parent.name.startswith(("exam-", "capstone-"))
)

pytestmark = pytest.mark.redis

#: Lessons that their own test (tests/course/test_lessons_*.py) runs top to bottom in the same
#: lab-like session, failing on any error and checking what the student sees: a second run here
#: would only double their share of CI.
OUTPUT_TESTED = {
    "test_lessons_expert.py": (
        "e15-lessons",
        "e16-lessons",
        "e17-lessons",
        "e18-lessons",
        "e19-lessons",
    ),
    "test_lessons_foundation.py": (
        "f01-lessons",
        "f02-lessons",
        "f03-lessons",
        "f04-lessons",
        "f05-lessons",
        "f06-lessons",
        "f07-lessons",
        "f08-lessons",
    ),
    "test_lessons_professional.py": (
        "p09-lessons",
        "p10-lessons",
        "p11-lessons",
        "p12-lessons",
        "p13-lessons",
        "p14-lessons",
    ),
    "test_lessons_track_a.py": ("a1-lessons", "a2-lessons", "a3-lessons", "a4-lessons"),
}


def _params():
    """Lab notebooks are also executed, cell by cell, by their autograding test (every cell but
    the try-it ones, which need the lab's own services): their lab-session run is `slow`."""
    covered = {a for assignments in OUTPUT_TESTED.values() for a in assignments}
    for assignment, notebook in NOTEBOOKS:
        if assignment in covered:
            continue
        marks = [] if assignment.endswith("-lessons") else [pytest.mark.slow]
        yield pytest.param(assignment, notebook, marks=marks, id=f"{assignment}/{notebook}")


@pytest.mark.parametrize(("assignment", "notebook"), list(_params()))
def test_notebook_executes_cleanly(assignment, notebook, tmp_path):
    # Only the F01 lab checks Flower and a worker it did not start itself.
    session = LabSession(tmp_path, full=assignment == "f01-environment-lab")
    try:
        nb = session.execute(REPO / "source" / assignment, notebook)
    finally:
        session.close()
    assert errors(nb) == []


@pytest.mark.parametrize(("test_file", "assignments"), sorted(OUTPUT_TESTED.items()))
def test_lessons_left_out_here_are_run_by_their_own_test(test_file, assignments):
    source = (Path(__file__).parent / test_file).read_text()
    for assignment in assignments:
        short = assignment.removesuffix("-lessons")
        assert assignment in source or f'"{short}"' in source, (test_file, assignment)
        assert "errors(nb) == []" in source and "session.execute(" in source, test_file
