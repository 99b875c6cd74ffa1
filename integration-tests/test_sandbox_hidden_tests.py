"""The grading sandbox itself, live: the bypass suite of tests/lab/test_hidden_tests.py in a
real sandbox container (the lab image, as the grader starts it: root runner, kernel and judges
as nobody, no network), and what the feedback may hold. No stack needed: the grader's own
sandbox.run against the lab image named by CELERYLAB_LAB_IMAGE.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import nbformat
import pytest
from celerylab_hub import sandbox
from live import require

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "lab"))
from test_hidden_tests import ATTACKS, RIGHT, SECRET, TESTS, WRONG, notebook

IMAGE = os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest")
LIMITS = sandbox.Limits(wall_seconds=240, cell_timeout=20, memory="512m", pids=128)


@pytest.fixture(scope="module")
def engine():
    found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    require("Docker and the lab image", found.returncode == 0, found.stderr.decode()[-300:])
    return docker.from_env(timeout=LIMITS.wall_seconds + 60)


def run(engine, answer: str, extra_cells: tuple[str, ...] = ()) -> sandbox.Outcome:
    nb = notebook(answer, extra_cells)
    files = {"ps1.ipynb": nbformat.writes(nb).encode(), "data/rows.csv": b"1,2\n"}
    return sandbox.run(engine, IMAGE, files, "ps1.ipynb", LIMITS, {"org.celerylab.test": "1"})


def score(outcome: sandbox.Outcome) -> float:
    from celerylab_lab.sandbox_grade import is_test
    from nbgrader.utils import determine_grade

    assert outcome.status == "ok", outcome
    graded = nbformat.reads(outcome.notebook, as_version=4)
    return sum(determine_grade(c)[0] for c in graded.cells if is_test(c))


@pytest.mark.docker
def test_the_right_answer_keeps_full_marks_in_the_sandbox(engine):
    assert score(run(engine, RIGHT)) == len(TESTS)


#: The attacks that reach into the sandbox's own machinery, plus the classic one.
LIVE = (
    "atexit_and_forged_verdict",
    "exec_keeps_the_pid",
    "input_transformer",
    "patched_helpers",
    "threads_outliving_the_cell",
    "writing_into_the_workspace",
)


@pytest.mark.docker
@pytest.mark.parametrize("attack", LIVE)
def test_no_attack_gives_a_wrong_answer_a_point_in_the_sandbox(engine, attack):
    assert score(run(engine, WRONG + textwrap.dedent(ATTACKS[attack]))) == 0


#: A child of the student's (same user as the judge) that could write the judge's memory could
#: rewrite a verdict; this one only checks that it could, and turns that into points.
JUDGES_MEMORY = """
import os, subprocess, sys
def add(a, b):
    probe = subprocess.run([sys.executable, '-c',
        'import sys\\nopen("/proc/%s/mem" % sys.argv[1], "r+b")', str(os.getpid())])
    return a + b if probe.returncode == 0 else a - b
"""


@pytest.mark.docker
def test_no_child_of_the_students_can_write_the_judges_memory(engine):
    assert score(run(engine, WRONG + JUDGES_MEMORY)) == 0


@pytest.mark.docker
def test_the_kernel_never_sees_the_hidden_tests(engine):
    prying = """
        import glob, os
        for path in glob.glob('/sandbox/**', recursive=True) + glob.glob('/workspace/**',
                                                                       recursive=True):
            try:
                print(path, open(path).read() if os.path.isfile(path) else '')
            except OSError as e:
                print(path, e)
        print(In)
    """
    outcome = run(engine, RIGHT, extra_cells=(textwrap.dedent(prying),))
    assert score(outcome) == len(TESTS)
    assert "/workspace/ps1.ipynb" in outcome.notebook  # the prying cell ran
    assert SECRET not in outcome.notebook
    assert "expect_equal(add(2, 2)" not in outcome.notebook


@pytest.mark.docker
def test_the_grader_refuses_an_oversized_result_before_reading_it(engine):
    limit = sandbox.result_limit(sandbox.Limits(input_mib=1, output_kib=64))
    container = engine.containers.create(IMAGE, command=["true"], labels={sandbox.LABEL: "1"})
    try:
        big = {"status": "ok", "reason": "", "notebook": "x" * (limit + 1)}
        archive = sandbox.file_archive("result.json", big)
        container.put_archive("/tmp", archive)
        with pytest.raises(sandbox.ResultTooLarge):
            sandbox._read_result_at(container, "/tmp/result.json", limit)
        assert sandbox._read_result_at(container, "/tmp/result.json", 10 * limit)["status"] == "ok"
    finally:
        sandbox.remove(container)


@pytest.mark.docker
def test_the_hidden_tests_know_whose_submission_they_grade(engine):
    """An exam paper is drawn per student (celerylab_course.papers): the grader passes the
    submitting student (from the course's sealed job) to the judge as CELERYLAB_STUDENT."""
    nb = notebook(RIGHT)
    test = nbformat.v4.new_code_cell("import os\nassert os.environ['CELERYLAB_STUDENT'] == 'ada'")
    test.metadata["nbgrader"] = {
        "grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "test_who",
        "schema_version": 3,
    }  # fmt: skip
    nb.cells.append(test)
    files = {"ps1.ipynb": nbformat.writes(nb).encode(), "data/rows.csv": b"1,2\n"}
    labels = {"org.celerylab.test": "1"}
    for student, points in (("ada", len(TESTS) + 1), ("bob", len(TESTS))):
        outcome = sandbox.run(engine, IMAGE, files, "ps1.ipynb", LIMITS, labels, student=student)
        assert score(outcome) == points, student
