"""F02 end to end: the instructor's solution autogrades to full marks, the untouched release
earns nothing, and partly wrong submissions earn partial credit — all with a real Redis and
worker started by the hidden tests."""

import json
import shutil

import pytest
from course_grading import REPO, autograde

pytestmark = pytest.mark.redis


def test_floor_division_and_bool_mistakes_lose_only_their_points(tmp_path):
    """A common wrong answer: // for division and no bool check. It must lose the points for
    those behaviours and keep the rest, with teaching messages."""
    sub = tmp_path / "sub"
    shutil.copytree(REPO / "source" / "f02-calculator-lab", sub)
    nb_path = sub / "calculator-lab.ipynb"
    nb = json.loads(nb_path.read_text())
    cell = next(c for c in nb["cells"] if c["id"] == "calculator-module")
    text = "".join(cell["source"])
    text = text.replace("return a / b", "return a // b")
    text = text.replace("isinstance(value, bool) or ", "")
    cell["source"] = text
    nb_path.write_text(json.dumps(nb))
    result = autograde("f02-calculator-lab", sub, tmp_path)
    assert result.grades["test-direct-calls"][0] == 0
    assert "did you use // instead of /?" in result.feedback
    assert result.grades["test-type-errors"][0] == 0
    assert result.grades["test-zero-division"][0] == 0  # divide(1, False) must be a TypeError
    assert result.grades["test-registered-tasks"] == (1, 1)
    assert result.grades["test-pep8"] == (1, 1)
    assert 0 < result.auto_score < 13


def test_success_criteria_read_from_the_gradebook(tmp_path):
    """The spec's success criteria are data the gradebook can check: after the solution is
    autograded, the behaviour criteria are met, the Flower write-up waits for an instructor,
    and the quiz is not submitted yet."""
    from celerylab_course import criteria
    from celerylab_course.curriculum import Curriculum

    result = autograde("f02-calculator-lab", "source", tmp_path)
    outcomes = criteria.evaluate(Curriculum.load(), result.db_url, "student1", ["F02-FIRST-APP"])
    status = {o.text: o.status for o in outcomes}
    assert status == {
        "Build working calculator application with all operations": criteria.MET,
        "Demonstrate proper use of task decorators": criteria.MET,
        "Successfully monitor task execution with Flower": criteria.PENDING,
        "Handle errors gracefully in task implementations": criteria.MET,
    }
    assert "3 of 4 success criteria met" in criteria.format_report(outcomes)


def test_float_results_a_hard_coded_broker_and_a_long_line_each_cost_their_share(tmp_path):
    """Issue 21: an add() that goes through float passes a lenient check, a broker written in
    the module is overridden by the environment, and one long comment line used to cost the
    whole style point. Each now loses exactly what it should."""
    sub = tmp_path / "sub"
    shutil.copytree(REPO / "source" / "f02-calculator-lab", sub)
    nb_path = sub / "calculator-lab.ipynb"
    nb = json.loads(nb_path.read_text())
    cell = next(c for c in nb["cells"] if c["id"] == "calculator-module")
    text = "".join(cell["source"])
    text = text.replace("    return a + b", "    return float(a) + b")
    text = text.replace(
        'app = Celery("calculator")',
        'app = Celery("calculator", broker="redis://localhost:6379/0")\n'
        "# A comment line that runs on and on, past the seventy-nine characters PEP 8 allows.",
    )
    cell["source"] = text
    nb_path.write_text(json.dumps(nb))
    result = autograde("f02-calculator-lab", sub, tmp_path)
    assert result.grades["test-direct-calls"][0] == 0
    assert "two ints give an int" in result.feedback
    assert result.grades["test-registered-tasks"][0] == 0
    assert "fixes the broker or result backend in code" in result.feedback
    assert result.grades["test-pep8"] == (0.75, 1)  # one kind of finding: E501
    assert result.grades["test-type-errors"] == (2, 2)
