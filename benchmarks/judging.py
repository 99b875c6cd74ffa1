"""Judging benchmark: what judging hidden tests outside the kernel (docs/grading.md, "Hidden
tests") costs per notebook, against nbgrader's own Execute (tests in the student's kernel).
No Docker: the course's instructor solutions, autograded as tests/course does.

    .venv/bin/python benchmarks/judging.py                          # a few labs
    .venv/bin/python benchmarks/judging.py f02-calculator-lab --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "course"))
from course_grading import autograde_many  # noqa: E402

DEFAULT = ("f02-calculator-lab", "f03-robust-tasks-lab", "e17-failover-lab")


def timed(assignment: str, judge: bool) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as d:
        started = time.monotonic()
        result = autograde_many(assignment, {"solution": "source"}, Path(d), judge=judge)
        seconds = time.monotonic() - started
    graded = result["solution"]
    return seconds, graded.auto_score, graded.auto_max


def tests_in(assignment: str) -> int:
    import nbformat
    from celerylab_lab.sandbox_grade import is_test

    return sum(
        is_test(c)
        for path in (ROOT / "source" / assignment).glob("*.ipynb")
        for c in nbformat.read(path, as_version=4).cells
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("| assignment | tests | nbgrader Execute (s) | judged (s) | judged / Execute | score |")
    print("| --- | --- | --- | --- | --- | --- |")
    for assignment in args.assignments:
        plain = [timed(assignment, judge=False)[0] for _ in range(args.repeat)]
        runs = [timed(assignment, judge=True) for _ in range(args.repeat)]
        judged = [s for s, _, _ in runs]
        score, most = runs[-1][1], runs[-1][2]
        p, j = statistics.median(plain), statistics.median(judged)
        print(
            f"| {assignment} | {tests_in(assignment)} | {p:.1f} | {j:.1f} | {j / p:.1f}x "
            f"| {score:g}/{most:g} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
