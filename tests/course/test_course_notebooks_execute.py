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


def _params():
    """Lab notebooks are also executed, cell by cell, by their autograding test (every cell but
    the try-it ones, which need the lab's own services): their lab-session run is `slow`."""
    for assignment, notebook in NOTEBOOKS:
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
