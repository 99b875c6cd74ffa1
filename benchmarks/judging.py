"""Judging benchmark: what judging hidden tests outside the kernel (docs/grading.md, "Hidden
tests") costs per notebook, against nbgrader's own Execute (tests in the student's kernel).
No Docker, no gradebook: the course's instructor solutions (source/), run as the sandbox runs
them (celerylab_lab.sandbox_grade), timed step by step.

    .venv/bin/python benchmarks/judging.py                          # a few labs
    .venv/bin/python benchmarks/judging.py f02-calculator-lab --repeat 3

Columns: nbgrader's Execute on the whole notebook (tests in the kernel, as before issue 19);
the kernel run without the tests; the judging of every test; judged = kernel + judging.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "course"))
from course_env import temporary_env  # noqa: E402
from course_grading import SANDBOX_ENV  # noqa: E402

DEFAULT = ("f02-calculator-lab", "f03-robust-tasks-lab", "e17-failover-lab")
TIMEOUT = 120


def measure(notebook: Path) -> dict[str, float]:
    from celerylab_lab.sandbox_grade import copy_workspace, hide_tests, is_test, judge_notebook
    from nbgrader.preprocessors import Execute

    nb = nbformat.read(notebook, as_version=4)
    figures = {}
    with tempfile.TemporaryDirectory() as d, temporary_env(SANDBOX_ENV):
        work = Path(d, "work")
        shutil.copytree(notebook.parent, work)
        resources = {"metadata": {"path": str(work)}}
        started = time.monotonic()
        Execute(timeout=TIMEOUT).preprocess(nbformat.from_dict(nb), resources)
        figures["execute"] = time.monotonic() - started
        fresh = copy_workspace(notebook.parent)
        try:
            started = time.monotonic()
            Execute(timeout=TIMEOUT).preprocess(hide_tests(nb), resources)
            figures["kernel"] = time.monotonic() - started
            started = time.monotonic()
            verdicts = judge_notebook(nb, fresh, TIMEOUT)
            figures["judging"] = time.monotonic() - started
        finally:
            shutil.rmtree(fresh.root, ignore_errors=True)
    figures["tests"] = sum(is_test(c) for c in nb.cells)
    figures["passed"] = sum(v.passed for v in verdicts.values())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(
        "| notebook | tests passed | nbgrader Execute (s) | kernel (s) | judging (s) "
        "| judged / Execute |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for assignment in args.assignments:
        for notebook in sorted((ROOT / "source" / assignment).glob("*.ipynb")):
            runs = [measure(notebook) for _ in range(args.repeat)]
            f = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            judged = f["kernel"] + f["judging"]
            print(
                f"| {assignment}/{notebook.name} | {f['passed']:g}/{f['tests']:g} "
                f"| {f['execute']:.1f} | {f['kernel']:.1f} | {f['judging']:.1f} "
                f"| {judged / f['execute']:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
