"""benchmarks/spawn.py always prints its table: failed labs are listed, never a traceback."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "integration-tests"))

import spawn  # noqa: E402 - from benchmarks/, put on the path above

NAN = float("nan")


def result(**figures) -> dict:
    base = {
        "name": "celerylab",
        "spawns": 3,
        "spawn_ready": 3,
        "spawn_hub_p50": 1.5,
        "spawn_p50": 2.0,
        "spawn_p95": 2.5,
        "spawn_max": 2.6,
        "cpu_lab_per_spawn": 1.8,
        "cpu_hub_per_spawn": 0.1,
        "herd": 4,
        "herd_ready": 4,
        "herd_failures": [],
        "herd_total": 9.0,
        "herd_slowest": 9.0,
        "herd_floor": 3.8,
        "prestarted_total": 0.2,
        "prestarted_slowest": 0.2,
        "idle_seconds": 10,
        "idle_mib_mean": 140.0,
        "idle_mib_max": 141.0,
        "first_task_round_trip": 0.3,
        "failures": [],
    }
    return {**base, **figures}


def test_a_run_where_every_lab_failed_still_gives_a_table():
    failed = result(
        spawn_ready=0,
        spawn_p50=NAN,
        spawn_p95=NAN,
        spawn_hub_p50=NAN,
        cpu_lab_per_spawn=NAN,
        cpu_hub_per_spawn=NAN,
        herd_ready=0,
        herd_failures=[f"herd0{i}: did not answer" for i in range(4)],
        herd_slowest=NAN,
        herd_floor=NAN,
        prestarted_total=NAN,
        idle_mib_mean=NAN,
        idle_mib_max=NAN,
        first_task_round_trip=NAN,
    )
    text = spawn.table(failed)
    assert "0 / 4" in text and "0 of 3" in text
    assert "nan s" in text  # shown as missing, not raised


def test_the_baseline_stands_beside_with_ratios():
    text = spawn.table(result(), result(name="plain", spawn_p50=4.0, first_task_round_trip=NAN))
    line = next(x for x in text.splitlines() if x.startswith("spawn-to-ready p50"))
    assert "2.00 s" in line and "4.00 s" in line and "0.50x" in line
    assert "plain" in text.splitlines()[0]


def test_percentile_of_nothing_is_missing_not_an_error():
    assert spawn.percentile([], 50) != spawn.percentile([], 50)  # nan
    assert spawn.percentile([3.0, 1.0, 2.0], 50) == 2.0
