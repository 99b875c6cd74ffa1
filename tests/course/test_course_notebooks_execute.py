"""Every lesson and lab notebook runs top to bottom, without an error, in a lab-like session:
the student's own Redis and supervised worker (tests/course/shim stands in for the lab's
`celerylab-worker`), against the pinned Celery."""

from pathlib import Path

import pytest
from course_notebooks import LabSession, errors

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    (p.parent.name, p.name)
    for p in (REPO / "source").glob("*/*.ipynb")
    if not p.parent.name.endswith("-quiz")
)

pytestmark = pytest.mark.redis


@pytest.mark.parametrize(
    ("assignment", "notebook"), NOTEBOOKS, ids=[f"{a}/{n}" for a, n in NOTEBOOKS]
)
def test_notebook_executes_cleanly(assignment, notebook, tmp_path):
    # Only the F01 notebooks check Flower and a worker they did not start themselves.
    session = LabSession(tmp_path, full=assignment.startswith("f01-"))
    try:
        nb = session.execute(REPO / "source" / assignment, notebook)
    finally:
        session.close()
    assert errors(nb) == []
