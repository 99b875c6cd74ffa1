"""The example applications under course/examples/: each has a Usage docstring, and works as
its docstring says against a real Redis and worker."""

import ast
from pathlib import Path

import pytest
from celerylab_course import labkit

EXAMPLES = Path(__file__).resolve().parents[2] / "course" / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_has_usage_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Usage:" in doc, f"{path.name} needs a Usage section naming the exact commands"


@pytest.fixture
def lab(request):
    lab = labkit.Lab(request.param, EXAMPLES)
    yield lab
    lab.close()


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f02_calculator"], indirect=True)
def test_f02_calculator(lab, capsys):
    calc = lab.module
    assert calc.main(["7", "/", "2"]) == 0
    assert capsys.readouterr().out.strip() == "3.5"
    assert calc.main(["1", "/", "0"]) == 1
    assert "FAILURE: ZeroDivisionError" in capsys.readouterr().out
    with pytest.raises(TypeError):
        calc.add.delay(True, 1).get(timeout=10)
