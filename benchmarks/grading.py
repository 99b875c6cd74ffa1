"""Grading benchmark: the same submissions graded by plain `nbgrader autograde` (sequential, in
the course container, no sandbox) and by the grading fleet (`celerylab-grade`: a sandbox per
notebook on Celery workers), with 1, 2 and more worker processes.

    python benchmarks/grading.py                     # 100 submissions, workers 1,2,4
    python benchmarks/grading.py --submissions 50 --workers 2

The sample is the test course's ps1 with an answer that, like the course's live-worker labs,
spends `--wait` seconds waiting (a task's countdown or retry) before its tests run. It runs as
its own compose project (celerylab-bench) and prints a table; per-submission figures come from
the fleet's grading log (time in the sandbox, and of it the runner's kernel start + cells).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "integration-tests"))
from stack import Stack  # noqa: E402

SOURCE = ROOT / "integration-tests" / "fixtures" / "source" / "ps1" / "ps1.ipynb"
FIXTURES = {
    "CELERYLAB_COURSES": "./integration-tests/fixtures/courses",
    "CELERYLAB_SOURCE": "./integration-tests/fixtures/source",
}
HOME = "/home/student"
#: The course container's own user (its UID is the course's: celerylab_hub.courses).
INSTRUCTOR = "grader-c101"
PLAIN_CONFIG = """c = get_config()  # noqa
c.CourseDirectory.course_id = "c101"
c.CourseDirectory.root = "/tmp/plain"
c.CourseDirectory.db_url = "sqlite:////tmp/plain/gradebook.db"
c.Execute.timeout = 120
"""


def in_course(stack: Stack, command: str, timeout: float = 3600) -> str:
    container = f"{stack.project}-course-c101"
    r = subprocess.run(
        ["docker", "exec", "-u", INSTRUCTOR, "-w", HOME, "-e", f"HOME={HOME}", container,
         "bash", "-c", command],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(f"{command}: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout + r.stderr


def sample(wait: float) -> str:
    nb = json.loads(SOURCE.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
            cell["source"] = f"import time\ntime.sleep({wait})\ndef add(a, b):\n    return a + b"
    return json.dumps(nb)


def prepare(stack: Stack, n: int, wait: float) -> list[str]:
    r = stack.compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    deadline = time.monotonic() + 120
    while (
        "configured"
        not in subprocess.run(
            ["docker", "logs", f"{stack.project}-course-c101"], capture_output=True, text=True
        ).stdout
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the course container did not start")
        time.sleep(1)
    students = [f"bench-{i:03d}" for i in range(n)]
    in_course(stack, "nbgrader generate_assignment ps1 --force >/dev/null 2>&1")
    notebook = sample(wait)
    script = "set -e\n" + "".join(
        f"mkdir -p submitted/{s}/ps1 && echo '2026-01-01 00:00:00.000000 UTC' "
        f"> submitted/{s}/ps1/timestamp.txt && echo {s} > submitted/{s}/ps1/submission_secret.txt\n"
        for s in students
    )
    in_course(stack, script)
    container = f"{stack.project}-course-c101"
    for s in students:  # the notebook by stdin, once per student
        subprocess.run(
            ["docker", "exec", "-i", "-u", INSTRUCTOR, container, "sh", "-c",
             f"cat > {HOME}/submitted/{s}/ps1/ps1.ipynb"],
            input=notebook, text=True, check=True,
        )  # fmt: skip
    return students


def cpu_seconds() -> float:
    """The host's busy CPU time so far (all processes: Docker, containers, this script)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def plain(stack: Stack) -> tuple[float, float]:
    """nbgrader autograde as shipped: one after another, in this container, no sandbox."""
    in_course(
        stack,
        "rm -rf /tmp/plain && mkdir -p /tmp/plain/submitted && cd /tmp/plain && "
        f"cat > nbgrader_config.py <<'EOF'\n{PLAIN_CONFIG}EOF\n"
        f"cp -r {HOME}/source . && cp -r {HOME}/submitted/bench-* submitted/ && "
        "nbgrader generate_assignment ps1 >/dev/null 2>&1",
    )
    started, cpu = time.monotonic(), cpu_seconds()
    in_course(stack, "cd /tmp/plain && nbgrader autograde ps1 >/dev/null 2>&1")
    return time.monotonic() - started, cpu_seconds() - cpu


def fleet(stack: Stack, processes: int, per_worker: int) -> dict:
    """celerylab-grade with `processes` sandboxes at once (grader containers x concurrency)."""
    env = {"CELERYLAB_GRADER_CONCURRENCY": str(per_worker)}
    stack.compose(
        "up", "-d", "--wait", "--scale", f"grader={processes // per_worker}", "grader", env=env
    )
    in_course(stack, "rm -f grading-log.jsonl")
    started, cpu = time.monotonic(), cpu_seconds()
    in_course(
        stack,
        f"celerylab-grade ps1 --student 'bench-*' --force --parallel {2 * processes + 2} "
        ">/dev/null 2>&1",
    )
    seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu
    log = [json.loads(line) for line in in_course(stack, "cat grading-log.jsonl").splitlines()]
    warm = [e for e in log if e.get("warm")]
    cold = [e for e in log if not e.get("warm")]
    return {
        "processes": processes,
        "seconds": seconds,
        "cpu": cpu,
        "sandbox": statistics.mean(e["seconds"] for e in log),
        "inside": statistics.mean(e["execution_seconds"] or 0 for e in log),
        "warm": len(warm),
        "sandbox_warm": statistics.mean(e["seconds"] for e in warm) if warm else None,
        "sandbox_cold": statistics.mean(e["seconds"] for e in cold) if cold else None,
        "ok": sum(e["status"] == "ok" for e in log),
        "n": len(log),
    }


def table(n: int, wait: float, plain_run: tuple[float, float], runs: list[dict]) -> str:
    plain_s, plain_cpu = plain_run
    cores = os.cpu_count()
    lines = [
        f"Grading {n} submissions (each waits {wait:g} s in its answer cell), {cores} cores",
        "",
        "| grading by | processes | total s | submissions/s | speed-up vs plain "
        "| host CPU s per submission |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| plain nbgrader autograde | 1 | {plain_s:.1f} | {n / plain_s:.2f} | 1.00 "
        f"| {plain_cpu / n:.2f} |",
    ]
    for r in runs:
        lines.append(
            f"| fleet (celerylab-grade) | {r['processes']} | {r['seconds']:.1f} | "
            f"{n / r['seconds']:.2f} | {plain_s / r['seconds']:.2f} | {r['cpu'] / n:.2f} |"
        )
    if runs:
        # Each worker process grades one submission per lane time; it needs cpu/lane of a core.
        one = runs[0]
        lane = one["seconds"] * one["processes"] / n
        busy = one["cpu"] / n / lane
        lines += [
            "",
            f"Projection for more cores or grader hosts: a worker process grades one submission "
            f"every {lane:.2f} s and keeps {busy:.2f} of a core busy (its sandbox, the grader "
            "and the course container's nbgrader work together), so W processes with at least "
            f"{busy:.2f}*W cores grade about W/{lane:.2f} submissions/s "
            f"({', '.join(f'{w}: {w / lane:.2f}/s' for w in (2, 4, 8, 16))}); the course "
            "container's share stays on its own host, so past a few hosts it sets the limit.",
        ]
    lines += [
        "",
        "| processes | ok | started ahead | in sandbox s (ahead / cold) | of it cells s |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        ahead = f"{r['sandbox_warm']:.2f}" if r["sandbox_warm"] is not None else "-"
        cold = f"{r['sandbox_cold']:.2f}" if r["sandbox_cold"] is not None else "-"
        lines.append(
            f"| {r['processes']} | {r['ok']}/{r['n']} | {r['warm']} | {ahead} / {cold} | "
            f"{r['inside']:.2f} |"
        )
    lines += [
        "",
        "In sandbox: from the grader taking the task to the result read back. A sandbox started",
        "ahead already has its container, imports and kernel (made while the previous submission",
        "ran), so only the workspace hand-over, the cells and the result remain; a cold one adds",
        "container create/start, the runner's imports and the kernel start. Cells include the",
        f"notebook's own {wait:g} s wait. The rest of a submission's time is nbgrader's own work",
        "in the course container (the same as in plain autograde, minus the kernel).",
    ]
    return "\n".join(lines)


def clean_up(stack: Stack, students: list[str]) -> None:
    """Leave the course as found: the smoke test shares the test stack's course."""
    in_course(
        stack,
        "rm -rf /tmp/plain submitted/bench-* autograded/bench-* feedback/bench-* && "
        'python3 -c "import sys\n'
        "from nbgrader.api import Gradebook\n"
        f"with Gradebook('sqlite:///{HOME}/gradebook.db') as gb:\n"
        "    for s in sys.argv[1:]:\n"
        '        gb.remove_student(s)" ' + " ".join(students),
    )


def bench(stack: Stack, n: int, wait: float, workers: list[tuple[int, int]]) -> str:
    students = prepare(stack, n, wait)
    try:
        plain_run = plain(stack)
        runs = [fleet(stack, processes, per_worker) for processes, per_worker in workers]
    finally:
        clean_up(stack, students)
    return table(n, wait, plain_run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--wait", type=float, default=2.0)
    parser.add_argument(
        "--workers", default="1,2,4", help="worker processes per run (2 per grader container)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack up")
    args = parser.parse_args()
    workers = []
    for p in (int(x) for x in args.workers.split(",")):
        workers.append((p, 1 if p == 1 else 2))
    stack = Stack("celerylab-bench", 18500, FIXTURES)
    stack.up()
    try:
        print(bench(stack, args.submissions, args.wait, workers))
    finally:
        if not args.keep:
            stack.down()


if __name__ == "__main__":
    main()
