"""The Professional, Expert and Track A example applications work as their Usage docstrings say,
against a real Redis and worker (the Usage-docstring check itself is in test_course_examples)."""

import json
from pathlib import Path

import pytest
from celerylab_course import labkit

EXAMPLES = Path(__file__).resolve().parents[2] / "course" / "examples"

pytestmark = pytest.mark.redis


@pytest.fixture
def lab(request):
    lab = labkit.Lab(request.param, EXAMPLES)
    yield lab
    lab.close()


@pytest.mark.parametrize("lab", ["p09_etl"], indirect=True)
def test_p09_etl(lab, tmp_path, capsys):
    sales = tmp_path / "sales.csv"
    sales.write_text("id,name,amount\n1,Ada,10\n2,,5\n3,Bob,2.5\n4,Cy,-1\n")
    assert lab.module.main([str(sales), "--batch-size", "2"]) == 0
    report, stages = capsys.readouterr().out.splitlines()
    got = json.loads(report)
    assert got.pop("run_id")
    assert got == {"loaded": 2, "rejected": ["2", "4"], "total": 12.5}
    assert stages == "stages: extract -> fan_out -> load"
    sales.write_text("id,name\n1,Ada\n")
    assert lab.module.main([str(sales)]) == 1
    assert "FAILURE: missing columns: amount" in capsys.readouterr().out
