"""Capstones: every ready capstone's solution autogrades to full marks on its autograded cells and
the untouched release stays below the pass mark; the points of its grade cells carry the spec's
evaluation weights exactly (checked on the generated source, the notebook students receive)."""

from pathlib import Path

import pytest
from celerylab_course import capstones
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
CAPSTONES = capstones.load(CURRICULUM)
READY = sorted(c.id for c in CAPSTONES.values() if c.status == "ready")


def test_one_capstone_per_path_and_track():
    assert sorted(c.path for c in CAPSTONES.values()) == sorted(CURRICULUM.paths)


@pytest.mark.parametrize("capstone", READY)
def test_points_carry_the_evaluation_weights(capstone):
    c = CAPSTONES[capstone]
    per, problems = capstones.criterion_points(c, REPO / "source")
    assert not problems
    whole = sum(per.values())
    weights = CURRICULUM.rules.capstone["evaluation"]
    assert {k: v / whole for k, v in per.items()} == pytest.approx(weights)
    assert set(per) == set(weights)


@pytest.mark.redis
@pytest.mark.parametrize("capstone", READY)
def test_solution_full_marks_release_below_pass_mark(capstone, tmp_path):
    graded = autograde_many(capstone, {"solution": "source", "untouched": "release"}, tmp_path)
    solution, untouched = graded["solution"], graded["untouched"]
    auto = {k: v for k, v in solution.grades.items() if k not in solution.pending}
    assert auto and all(score == top for score, top in auto.values()), (auto, solution.feedback)
    # The manual cells (requirements, design, reviews) wait for an instructor.
    assert set(solution.pending) >= {"requirements", "design", "code-review", "deployment"}
    assert untouched.score < CURRICULUM.rules.pass_fraction * untouched.max_score
    assert untouched.score == 0, untouched.feedback
