"""Sandboxed autograding, live: hostile and broken submissions fail alone, with their reason.

A batch of submissions to the test course's ps1 is placed where `nbgrader collect` puts them,
then the instructor autogrades the whole batch in the course container as usual. Each
submission runs in its own throwaway sandbox (the grader service); the test stack sets small
limits (live.py) so the hostile ones hit them quickly.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from live import compose
from test_exchange import COURSE, INSTRUCTOR, instructor, wait_for_course_container

SOURCE = Path(__file__).parent / "fixtures" / "source" / "ps1" / "ps1.ipynb"
# What each student wrote in the answer cell.
ANSWERS = {
    "sbx-right": "def add(a, b):\n    return a + b",
    "sbx-wrong": "def add(a, b):\n    return a - b",
    "sbx-loop": (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    ),
    "sbx-memory": "hog = []\nwhile True:\n    hog.append(bytearray(10**7))",
    "sbx-forks": "import os\nwhile True:\n    os.fork()",
    "sbx-flood": "while True:\n    print('x' * 10000)",
    # Full marks only if every way out is closed: the answer is right only when nothing leaked.
    "sbx-escape": (
        "import os, socket\n"
        "leaks = []\n"
        "try:\n"
        "    socket.create_connection(('hub', 8081), timeout=3); leaks.append('network')\n"
        "except OSError:\n"
        "    pass\n"
        "for path in ('/var/run/docker.sock', '/srv/celerylab/secrets',\n"
        "             '/home/student/gradebook.db'):\n"
        "    if os.path.exists(path): leaks.append(path)\n"
        "for path in ('/etc/x', '/sandbox/out/result.json', '/opt/lab/x'):\n"
        "    try:\n"
        "        open(path, 'w').write('x'); leaks.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "if os.getuid() == 0: leaks.append('root')\n"
        "def add(a, b):\n"
        "    return a + b if not leaks else leaks"
    ),
}
# The audit's one-line full marks: every later cell, hidden tests included, turned into `pass`.
ANSWERS["sbx-transformer"] = (
    "def add(a, b):\n    return a - b\n"
    "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"
)
# A right answer that prints whatever it can find of the notebook with its hidden tests.
ANSWERS["sbx-pry"] = (
    "import glob, os\n"
    "for path in glob.glob('/sandbox/**', recursive=True) + glob.glob('*.ipynb'):\n"
    "    try:\n"
    "        print(path, open(path).read() if os.path.isfile(path) else '')\n"
    "    except OSError as e:\n"
    "        print(path, e)\n"
    "def add(a, b):\n"
    "    return a + b"
)
HIDDEN = "assert add(-1, 1) == 0"  # the fixture's hidden test
# Graded last, by when every worker process has a sandbox started ahead: the same probe there.
ANSWERS["sbx-zz-escape-warm"] = ANSWERS["sbx-escape"]
EXPECTED = {
    "sbx-right": (2.0, "ok", ""),
    "sbx-wrong": (0.0, "ok", ""),
    "sbx-loop": (0.0, "timeout", "time limit"),
    "sbx-memory": (0.0, "kernel_died", "memory limit"),
    "sbx-forks": (0.0, None, "process limit"),
    "sbx-flood": (0.0, "ok", "output limit"),
    "sbx-escape": (2.0, "ok", ""),
    "sbx-zz-escape-warm": (2.0, "ok", ""),
    "sbx-transformer": (0.0, "ok", ""),
    "sbx-pry": (2.0, "ok", ""),
}


def with_tests_tampered() -> str:
    """A wrong answer with the visible test cell rewritten to pass: nbgrader restores it."""
    nb = json.loads(submission(ANSWERS["sbx-wrong"]))
    (cell,) = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    cell["source"] = "pass"
    return json.dumps(nb)


def with_tests_deleted() -> str:
    nb = json.loads(submission(ANSWERS["sbx-wrong"]))
    nb["cells"] = [c for c in nb["cells"] if not c["metadata"].get("nbgrader", {}).get("grade")]
    return json.dumps(nb)


def submission(answer: str) -> str:
    nb = json.loads(SOURCE.read_text())
    (cell,) = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "answer"
    ]
    cell["source"] = answer
    return json.dumps(nb)


def place(student: str, notebook_text: str, name: str = "ps1.ipynb") -> None:
    """Put a submission where `nbgrader collect` would: submitted/<student>/ps1/."""
    folder = f"/home/student/submitted/{student}/ps1"
    subprocess.run(
        ["docker", "exec", "-u", INSTRUCTOR, "-i", COURSE, "sh", "-c",
         f"mkdir -p {folder} && cat > {folder}/{name} && "
         f"echo '2026-01-01 00:00:00.000000 UTC' > {folder}/timestamp.txt && "
         f"echo {student}-secret > {folder}/submission_secret.txt"],
        input=notebook_text, text=True, check=True, capture_output=True,
    )  # fmt: skip


def grading_log() -> list[dict]:
    text = instructor("cat grading-log.jsonl 2>/dev/null || true")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def scores() -> dict[str, float | None]:
    out = instructor(
        'python -c "import json\n'
        "from nbgrader.api import Gradebook, MissingEntry\n"
        "def score(gb, s):\n"
        "    try:\n"
        "        return gb.find_submission('ps1', s).score\n"
        "    except MissingEntry:\n"
        "        return None\n"
        "with Gradebook('sqlite:////home/student/gradebook.db') as gb:\n"
        '    print(json.dumps({s.id: score(gb, s.id) for s in gb.students}))"'
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graded(stack):
    for _ in range(3):  # the CLI waits 30 s for the hub; a loaded machine's hub may take longer
        r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
        if "timed out" not in r.stderr:
            break
    assert r.returncode == 0, r.stderr
    wait_for_course_container()
    instructor("nbgrader generate_assignment ps1 --force")
    for student, answer in ANSWERS.items():
        place(student, submission(answer))
    place("sbx-broken", "{ this is not a notebook")
    place("sbx-tampered", with_tests_tampered())
    place("sbx-deleted", with_tests_deleted())
    started = time.monotonic()
    r = subprocess.run(
        ["docker", "exec", "-u", INSTRUCTOR, "-w", "/home/student", "-e", "HOME=/home/student",
         COURSE, "nbgrader", "autograde", "ps1", "--CourseDirectory.student_id=sbx-*"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return {
        "output": r.stdout + r.stderr,
        "returncode": r.returncode,
        "seconds": time.monotonic() - started,
        "log": {e["student"]: e for e in grading_log() if e["student"].startswith("sbx-")},
        "scores": scores(),
    }


@pytest.mark.docker
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_is_graded_alone_with_its_reason(graded, student):
    score, status, reason = EXPECTED[student]
    entry = graded["log"].get(student)
    assert entry, f"no grading record for {student}: {graded['output'][-2000:]}"
    if status:
        assert entry["status"] == status, entry
    assert reason in entry["reason"] if reason else entry["reason"] == "", entry
    assert graded["scores"].get(student) == score, (student, graded["scores"])


@pytest.mark.docker
def test_feedback_never_holds_the_hidden_tests(graded):
    feedback = instructor("cat autograded/sbx-pry/ps1/ps1.ipynb")
    assert "/sandbox" in feedback, feedback[-2000:]  # the prying cell ran and printed
    assert HIDDEN not in feedback, feedback[-2000:]
    assert "test_add: hidden test, passed" in feedback, feedback[-2000:]


@pytest.mark.docker
def test_a_broken_notebook_fails_alone_and_says_so(graded):
    # nbgrader reports the failure and exits non-zero; every other submission was graded.
    assert graded["returncode"] != 0
    assert "sbx-broken" in graded["output"], graded["output"][-2000:]
    assert graded["scores"].get("sbx-broken") in (None, 0.0)
    assert set(EXPECTED) <= set(graded["log"])


@pytest.mark.docker
def test_grade_cells_come_from_the_gradebook_not_the_submission(graded):
    # The rewritten test cell is restored (and fails the wrong answer); a deleted one is put back.
    assert graded["scores"].get("sbx-tampered") == 0.0, graded["scores"]
    assert graded["scores"].get("sbx-deleted") in (None, 0.0), graded["scores"]
    assert "sbx-deleted" in graded["output"], graded["output"][-3000:]


GRADER = "org.celerylab.grader"


def sandboxes() -> list[dict]:
    """This stack's sandboxes (labelled with their grader's hostname): the engine may be shared
    with other stacks, whose graders keep sandboxes of their own."""
    graders = compose("ps", "-q", "grader").stdout.split()
    hosts = subprocess.run(
        ["docker", "inspect", "-f", "{{.Config.Hostname}}", *graders],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=org.celerylab.sandbox"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not ids:
        return []
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True)
    if out.returncode != 0:
        return []  # one just went: ask again
    return [c for c in json.loads(out.stdout) if c["Config"]["Labels"].get(GRADER) in hosts]


@pytest.mark.docker
def test_hostile_work_costs_no_more_than_its_own_limits(graded):
    # Limits in the test stack: 10 s per cell, 60 s in all; ten runs of about 3 s otherwise,
    # each with its hidden test judged by a process of its own (a second or two).
    each = {s: e.get("seconds") for s, e in graded["log"].items()}
    assert graded["seconds"] < 10 * 10 + 60 + 60 + 10 * 5, (graded["seconds"], each)
    # Each sandbox served one submission and is gone (removed just after its result was read);
    # what is left is each worker process's spare, started ahead and still waiting.
    deadline = time.monotonic() + 30
    while True:
        left = sandboxes()
        used = [
            (c["Name"], c["Args"], c["State"]["Status"], c["Config"]["Labels"])
            for c in left
            if c["Args"][-1:] != ["--warm"] or not c["State"]["Running"]
        ]
        if not used or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert used == [], "sandbox containers must be removed after each run"
    assert len(left) <= 2, [c["Name"] for c in left]  # one grader, two processes
    # Most of the batch ran in sandboxes started ahead, hostile ones included.
    warm = [s for s, e in graded["log"].items() if e.get("warm")]
    assert len(warm) >= len(graded["log"]) - 2, graded["log"]
    assert "sbx-zz-escape-warm" in warm, warm


def python_in_course(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", COURSE, "python3", "-c", code], capture_output=True, text=True
    )


@pytest.mark.docker
def test_the_grading_fleet_is_not_open_to_others(graded):
    # Nothing of it is published on the host.
    for service, port in (("grader", "8090"), ("grading-broker", "6379")):
        r = compose("port", service, port, check=False)
        assert r.returncode != 0 or not r.stdout.strip(), r.stdout
    # A task for another course, sealed with this course's key, is refused, not run, and its
    # answer (in c202's keys) is not this course's to read.
    probe = (
        "import os\n"
        "from celerylab_lab.sandbox_execute import new_task_id, run_on_fleet, seal_job\n"
        "task = new_task_id('c202')\n"
        "job = seal_job(os.environ['CELERYLAB_GRADING_KEY'], 'c202',\n"
        "               {'task_id': task, 'notebook': 'ps1.ipynb', 'workspace': ''})\n"
        "print(run_on_fleet(os.environ['CELERYLAB_GRADING_BROKER'], job, 120, task))\n"
    )
    r = python_in_course(probe)
    assert "refused this course's request" in r.stderr, r.stdout + r.stderr
    # The course's own broker user sees no other task or result (the attacks in full:
    # test_course_apart.py).
    scan = (
        "import os, redis\n"
        "r = redis.Redis.from_url(os.environ['CELERYLAB_GRADING_BROKER'])\n"
        "print(list(r.scan_iter('celery-task-meta-*')))\n"
    )
    r = python_in_course(scan)
    assert "NoPermissionError" in r.stderr, r.stdout + r.stderr
    # Without a broker user, nobody on the network gets in.
    r = subprocess.run(
        ["docker", "exec", COURSE, "redis-cli", "-h", "grading-broker", "llen", "grading"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert "NOAUTH" in r.stdout + r.stderr, r.stdout + r.stderr
