"""F02 end to end: the instructor's solution autogrades to full marks, the untouched release
earns nothing, and partly wrong submissions earn partial credit — all with a real Redis and
worker started by the hidden tests."""

import json
import shutil

import pytest
from course_grading import REPO, autograde

pytestmark = pytest.mark.redis


def test_source_autogrades_to_full_marks(tmp_path):
    result = autograde("f02-calculator-lab", "source", tmp_path)
    assert result.pending == ["monitoring-notes"]
    auto = {k: v for k, v in result.grades.items() if k not in result.pending}
    assert all(score == top for score, top in auto.values()), (auto, result.feedback)
    assert result.auto_score == 15 - 2


def test_release_earns_nothing(tmp_path):
    result = autograde("f02-calculator-lab", "release", tmp_path)
    assert result.score == 0, result.feedback
    assert result.score < 0.8 * result.max_score


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
