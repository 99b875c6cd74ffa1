"""Capstones: every ready capstone's solution autogrades to full marks on its autograded cells and
the untouched release stays below the pass mark; the points of its grade cells carry the spec's
evaluation weights exactly (checked on the generated source, the notebook students receive)."""

from pathlib import Path

import pytest
import yaml
from celerylab_course import capstones, conformance
from celerylab_course.curriculum import Curriculum, CurriculumError
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


# ---------------------------------------------------------------- the conformance rules catch


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def failures(course: Path) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == conformance.FAIL
    }


def test_copy_is_green(course):
    assert failures(course) == set()


def test_capstone_too_long(course):
    edit(
        course / "capstones" / "expert.yaml",
        lambda d: [p.update(hours=p["hours"] * 2) for p in d["phases"]],
    )
    assert ("capstone-hours", "capstone-expert") in failures(course)


def test_phase_shares_off_the_structure(course):
    def shift(d):
        d["phases"][0]["hours"] += 1  # requirements 3 of 21 h
        d["phases"][2]["hours"] -= 1

    edit(course / "capstones" / "professional.yaml", shift)
    assert ("capstone-structure", "capstone-professional") in failures(course)


def test_cell_under_the_wrong_criterion(course):
    def move(d):
        d["evaluation"]["functionality"].remove("test-idempotent")
        d["evaluation"]["testing"].append("test-idempotent")

    edit(course / "capstones" / "professional.yaml", move)
    assert ("capstone-weights", "capstone-professional") in failures(course)


def test_unlisted_cell_and_missing_criterion(course):
    edit(
        course / "capstones" / "professional.yaml", lambda d: d["evaluation"]["architecture"].pop()
    )
    assert ("capstone-weights", "capstone-professional") in failures(course)
    edit(course / "capstones" / "professional.yaml", lambda d: d["evaluation"].pop("testing"))
    assert ("capstone-weights", "capstone-professional") in failures(course)


def test_path_without_capstone(course):
    (course / "capstones" / "foundation.yaml").unlink()
    assert ("capstone", "foundation") in failures(course)


def test_bad_capstone_file_is_a_clear_error(course):
    edit(course / "capstones" / "expert.yaml", lambda d: d.pop("phases"))
    with pytest.raises(CurriculumError, match=r"expert\.yaml does not fit the capstone schema"):
        conformance.run(course, REPO)
