"""The conformance checker passes on the real curriculum and catches every kind of violation."""

import shutil
from pathlib import Path

import pytest
import yaml
from celerylab_course import conformance
from celerylab_course.curriculum import Curriculum, CurriculumError

REPO = Path(__file__).resolve().parents[2]


def test_real_curriculum_is_green(capsys):
    assert conformance.main([]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out
    assert "foundation" in out and "path-total" in out


@pytest.fixture
def course(tmp_path):
    """A copy of course/ data to break; source/ is still the repository's."""
    root = tmp_path / "course"
    for part in ("curriculum", "banks", "examples", "capstones", "exams"):
        if (REPO / "course" / part).exists():
            shutil.copytree(REPO / "course" / part, root / part)
    return root


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def module_file(course: Path, code: str) -> Path:
    return course / "curriculum" / "modules" / f"{code}.yaml"


def failures(course: Path) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == conformance.FAIL
    }


def test_seeded_copy_is_green(course):
    assert failures(course) == set()


def test_quiz_count_differs_from_spec(course):
    edit(
        module_file(course, "F01-DISTRO-SYS"),
        lambda d: d["assessments"]["quiz"].update(questions=14),
    )
    assert ("stated", "F01-DISTRO-SYS") in failures(course)


def test_quiz_minutes_differ_from_spec(course):
    edit(
        module_file(course, "F03-TASK-CONFIG"),
        lambda d: d["assessments"]["quiz"].update(minutes=25),
    )
    assert ("stated", "F03-TASK-CONFIG") in failures(course)


def test_foundation_quiz_longer_than_thirty_minutes(course):
    edit(
        module_file(course, "F05-BROKERS-ROUTING"),
        lambda d: d["assessments"]["quiz"].update(minutes=35),
    )
    assert ("quiz-minutes", "F05-BROKERS-ROUTING") in failures(course)


def test_topic_hours_outside_duration(course):
    edit(module_file(course, "F04-RESULTS-STATE"), lambda d: d["topics"][0].update(hours=4))
    assert ("topic-hours", "F04-RESULTS-STATE") in failures(course)


def test_activity_hours_exceed_topic_time(course):
    edit(module_file(course, "F06-CANVAS-BASICS"), lambda d: d["activities"][0].update(hours=8))
    assert ("activity-hours", "F06-CANVAS-BASICS") in failures(course)


def test_path_total_outside_budget(course):
    def longer(d):
        d["duration"] = [12, 14]
        d["topics"][0]["hours"] = 5.5

    edit(module_file(course, "F08-RELIABILITY-TESTING"), longer)
    assert ("path-total", "foundation") in failures(course)


def test_practical_mix_off(course):
    edit(
        module_file(course, "F05-BROKERS-ROUTING"),
        lambda d: d["activities"][0].update(kind="implementation"),
    )
    assert ("practical-mix", "foundation") in failures(course)


def test_designed_practical_outside_two_to_four_hours(course):
    edit(
        module_file(course, "F07-PERIODIC-BEAT"),
        lambda d: d["assessments"]["practicals"][0].update(hours=5),
    )
    assert ("practical-hours", "F07-PERIODIC-BEAT") in failures(course)


def _bank(course, code):
    return course / "banks" / f"{code}.yaml"


def test_question_type_mix_off(course):
    def to_tf(d):
        q = next(q for q in d["questions"] if q["type"] == "fill_blank")
        q["type"], q["answer"] = "true_false", True
        del q["answers"], q["match"]

    edit(_bank(course, "F02-FIRST-APP"), to_tf)
    assert ("question-mix", "F02-FIRST-APP") in failures(course)


def test_difficulty_mix_off(course):
    def harder(d):
        for q in d["questions"][:3]:
            q["difficulty"] = "advanced"

    edit(_bank(course, "F02-FIRST-APP"), harder)
    assert ("difficulty-mix", "F02-FIRST-APP") in failures(course)


def test_bank_size_differs_from_quiz(course):
    edit(_bank(course, "F02-FIRST-APP"), lambda d: d["questions"].pop())
    assert ("bank-count", "F02-FIRST-APP") in failures(course)


def test_ready_module_without_bank(course):
    _bank(course, "F02-FIRST-APP").unlink()
    assert ("bank", "F02-FIRST-APP") in failures(course)


def test_ready_module_without_example(course):
    (course / "examples" / "f02_calculator.py").unlink()
    assert ("example", "F02-FIRST-APP") in failures(course)


def test_criterion_without_check(course):
    edit(module_file(course, "F02-FIRST-APP"), lambda d: d["success_criteria"][0].pop("check"))
    assert ("criteria", "F02-FIRST-APP") in failures(course)


def test_criterion_naming_missing_grade_cell(course):
    edit(
        module_file(course, "F02-FIRST-APP"),
        lambda d: d["success_criteria"][0]["check"].update(cells=["no-such-cell"]),
    )
    assert ("criteria", "F02-FIRST-APP") in failures(course)


def test_unknown_prerequisite(course):
    edit(
        module_file(course, "F03-TASK-CONFIG"),
        lambda d: d["prerequisites"].update(modules=["F99-NOPE"]),
    )
    assert ("structure", "F03-TASK-CONFIG") in failures(course)


def test_schema_violation_is_reported_with_its_field(course, capsys):
    edit(module_file(course, "F02-FIRST-APP"), lambda d: d["topics"][0].update(hours="lots"))
    with pytest.raises(CurriculumError, match=r"topics/0/hours"):
        Curriculum.load(course)
    assert conformance.main(["--course", str(course), "--repo", str(REPO)]) == 2


def test_checker_exits_non_zero_on_violation(course, capsys):
    edit(module_file(course, "F01-DISTRO-SYS"), lambda d: d.update(duration=[7, 10]))
    assert conformance.main(["--course", str(course), "--repo", str(REPO), "-q"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_test_cell_ending_in_a_value_is_caught(tmp_path):
    """nbgrader would take the value of `client.delete(...)` (1) as a partial grade."""
    from celerylab_course import notebooks

    cells = [
        notebooks.tests("client.delete('lock')", "test-leaky", 2),
        notebooks.tests("expect_pep8('x.py')", "test-fine", 1),
        notebooks.tests("float(2 * 0.5)  # the cell's value is the partial grade", "test-meant", 2),
    ]
    notebooks.write(notebooks.notebook(cells, "x"), tmp_path / "source" / "x-lab" / "x.ipynb")
    found = [f for f in conformance.run(REPO / "course", tmp_path) if f.rule == "grade-cells"]
    assert [(f.level, f.subject) for f in found if f.level == conformance.FAIL] == [
        (conformance.FAIL, "x-lab")
    ]
    assert "test-leaky" in found[0].message and "test-meant" not in found[0].message
