"""The grading fleet under faults, live: a batch of submissions (right, wrong and hostile) graded
with `celerylab-grade` while a grader worker is killed, then again while the broker restarts.
Afterwards every submission has exactly one grade in the gradebook, and the right one."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from live import compose
from test_exchange import COURSE, INSTRUCTOR, instructor, wait_for_course_container
from test_sandbox import ANSWERS, place, submission

pytestmark = pytest.mark.docker

#: 24 submissions: 14 right, 6 wrong, 4 hostile (each hits a limit of the test stack).
KINDS = ["sbx-right"] * 14 + ["sbx-wrong"] * 6 + ["sbx-memory", "sbx-flood", "sbx-forks"] * 1
KINDS += ["sbx-loop"]
SCORES = {"sbx-right": 2.0}
BATCH = {f"flt-{i:02d}": kind for i, kind in enumerate(KINDS)}


def grade_in_background(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["docker", "exec", "-u", INSTRUCTOR, "-w", "/home/student", "-e", "HOME=/home/student",
         COURSE, "celerylab-grade", "ps1", "--student", "flt-*", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def graded_so_far() -> int:
    out = instructor("cat grading-log.jsonl 2>/dev/null || true")
    return out.count('"student": "flt-')


def wait_until_some_are_graded(n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while graded_so_far() < n:
        assert time.monotonic() < deadline, f"fewer than {n} graded in {timeout} s"
        time.sleep(1)


def gradebook() -> dict:
    """student -> (number of submissions of ps1, score) for the batch."""
    out = instructor(
        'python -c "import json\n'
        "from nbgrader.api import Gradebook\n"
        "with Gradebook('sqlite:////home/student/gradebook.db') as gb:\n"
        "    rows = [(s.student.id, s.score) for s in gb.assignment_submissions('ps1')]\n"
        '    print(json.dumps(rows))"'
    )
    counts: dict[str, list] = {}
    for student, score in json.loads(out.strip().splitlines()[-1]):
        if student.startswith("flt-"):
            counts.setdefault(student, []).append(score)
    return counts


def check_every_submission_graded_once(result: subprocess.CompletedProcess | str) -> None:
    rows = gradebook()
    assert set(rows) == set(BATCH), f"missing: {set(BATCH) - set(rows)}\n{result}"
    for student, kind in BATCH.items():
        assert len(rows[student]) == 1, (student, rows[student])
        assert rows[student][0] == SCORES.get(kind, 0.0), (student, kind, rows[student], result)


@pytest.fixture(scope="module")
def batch(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    wait_for_course_container()
    instructor("nbgrader generate_assignment ps1 --force")
    instructor("rm -f grading-log.jsonl")
    for student, kind in BATCH.items():
        place(student, submission(ANSWERS[kind]))
    return BATCH


def test_a_killed_worker_loses_no_submission(batch):
    grader = compose("ps", "-q", "grader").stdout.split()[0]
    grading = grade_in_background("--force")
    wait_until_some_are_graded(3)
    subprocess.run(["docker", "kill", grader], check=True, capture_output=True)
    time.sleep(2)
    subprocess.run(["docker", "start", grader], check=True, capture_output=True)
    out, _ = grading.communicate(timeout=900)
    assert grading.returncode == 0, out
    assert "done 24  failed 0" in out, out
    check_every_submission_graded_once(out)


def test_a_broker_restart_mid_batch_loses_nothing(batch):
    grading = grade_in_background("--force")
    before = graded_so_far()
    wait_until_some_are_graded(before + 3)
    compose("restart", "grading-broker")
    out, _ = grading.communicate(timeout=900)
    assert grading.returncode == 0, out
    check_every_submission_graded_once(out)


def test_running_again_grades_only_what_is_new(batch):
    out = instructor("celerylab-grade ps1 --student 'flt-*' 2>&1")
    assert "0 to grade, 24 already graded" in out, out


def test_the_fleet_reports_its_work_to_prometheus(batch):
    r = compose("exec", "-T", "grading-exporter", "curl", "-sf", "http://127.0.0.1:9808/metrics")
    metrics = r.stdout
    assert "celerylab_grading_broker_up 1.0" in metrics, metrics[-2000:]
    assert 'celerylab_grading_submissions_total{course="c101",outcome="ok"}' in metrics
    assert "celerylab_grading_queue_length 0.0" in metrics
    assert 'celerylab_grading_duration_seconds_count{course="c101"}' in metrics
