"""A reduced run of benchmarks/spawn.py on the shared test stack: the benchmark itself works
(every lab of a small herd becomes ready and runs a task). Figures are not judged here."""

import sys
from pathlib import Path

import pytest
from live import TEST_STACK

pytestmark = pytest.mark.docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_spawn_benchmark_smoke(stack):
    import spawn

    result = spawn.bench(TEST_STACK, stack, spawns=2, herd=3, idle=2)
    assert result["herd_ready"] == 3 and not result["herd_failures"], result["herd_failures"]
    assert result["idle_mib_max"] > 20
    print("\n" + spawn.table(result))


def test_grading_benchmark_smoke(stack):
    """benchmarks/grading.py, reduced: plain nbgrader vs the fleet on a few submissions."""
    import grading

    text = grading.bench(TEST_STACK, n=4, wait=0.5, workers=[(2, 2)])
    print("\n" + text)
    assert "| plain nbgrader autograde | 1 |" in text and "| fleet (celerylab-grade) | 2 |" in text
    assert "| 2 | 4/4 |" in text, text  # every submission graded, on the fleet
