"""Every lab: the instructor's solution autogrades to full marks on every autograded cell, and
the untouched release earns nothing. Hidden tests start their own Redis and worker; the
"student's lab services" are unreachable, as in the grading sandbox."""

from pathlib import Path

import pytest
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
LABS = sorted(
    p.assignment
    for m in CURRICULUM.modules.values()
    for p in m.practicals
    if p.assignment and (REPO / "source" / p.assignment).is_dir()
)

pytestmark = pytest.mark.redis


@pytest.mark.parametrize("assignment", LABS)
def test_solution_full_marks_release_below_pass_mark(assignment, tmp_path):
    graded = autograde_many(assignment, {"solution": "source", "untouched": "release"}, tmp_path)
    solution, untouched = graded["solution"], graded["untouched"]
    auto = {k: v for k, v in solution.grades.items() if k not in solution.pending}
    assert auto and all(score == top for score, top in auto.values()), (auto, solution.feedback)
    assert untouched.score < CURRICULUM.rules.pass_fraction * untouched.max_score
    assert untouched.score == 0, untouched.feedback
