"""Two courses side by side (integration-tests/fixtures/courses): c101 (instructor ida; amy, ben,
cara, dan) and c202 (instructors ivo and uma; dan, dora). Each course's staff open their own
formgrader only; students reach only their own courses' assignments; a student of both sees
both; each course container keeps its own gradebook and grades only for its own course.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests
from live import TEST_STACK, compose, service_url
from test_exchange import EXCHANGE, sh, solve
from test_exchange_resubmit import release

pytestmark = pytest.mark.docker

BOTH = "dan"  # a student of c101 and c202


def container(course: str) -> str:
    return f"{TEST_STACK.project}-course-{course}"


def in_course(course: str, command: str) -> str:
    """A shell command as the course's instructors run it, in that course's container."""
    r = subprocess.run(
        ["docker", "exec", "-u", f"grader-{course}", "-w", "/home/student",
         "-e", "HOME=/home/student", container(course), "sh", "-c", command],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, f"{course}: {command}: {r.stdout}{r.stderr}"
    return r.stdout + r.stderr


def wait_configured(course: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["docker", "logs", container(course)], capture_output=True, text=True)
        if f"celerylab course {course}: configured" in r.stdout + r.stderr:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{container(course)} did not configure its course within {timeout}s")


def gradebook(course: str) -> dict[str, list[str]]:
    out = in_course(
        course,
        'python -c "import json\n'
        "from nbgrader.api import Gradebook\n"
        "with Gradebook('sqlite:////home/student/gradebook.db') as gb:\n"
        "    print(json.dumps({'students': sorted(s.id for s in gb.students),\n"
        "                      'assignments': sorted(a.name for a in gb.assignments)}))\"",
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def courses(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    wait_configured("c101")
    wait_configured("c202")
    release("ps1")
    in_course(
        "c202",
        "nbgrader generate_assignment q1 && (test -d /srv/celerylab/exchange/c202/outbound/q1 || "
        "nbgrader release_assignment q1)",
    )
    return {name: stack.token_for(name) for name in ("ida", "ivo", "uma", "amy")}


def get(url: str, token: str) -> requests.Response:
    return requests.get(
        url, headers={"Authorization": f"token {token}"}, timeout=60, allow_redirects=False
    )


@pytest.mark.parametrize(
    ("who", "course", "status"),
    [("ida", "c101", 200), ("ida", "c202", 403), ("ivo", "c202", 200), ("uma", "c202", 200),
     ("ivo", "c101", 403), ("uma", "c101", 403), ("amy", "c202", 403)],
)  # fmt: skip
def test_each_formgrader_opens_for_its_own_staff_only(courses, who, course, status):
    url = f"{service_url(f'formgrader-{course}')}/formgrader/manage_assignments"
    r = get(url, courses[who])
    assert r.status_code == status, (who, course, r.status_code, r.text[:300])
    if status == 200:
        assert "nbgrader" in r.text


def test_a_student_of_one_course_cannot_reach_the_other(courses):
    amy = courses["amy"]
    listed = get(f"{EXCHANGE}/courses", amy).json()["courses"]
    assert [c["id"] for c in listed] == ["c101"], listed
    r = get(f"{EXCHANGE}/courses/c202/view", amy)
    assert r.status_code == 403 and "not a student of course 'c202'" in r.json()["message"]
    r = requests.post(
        f"{EXCHANGE}/courses/c202/submit/q1",
        data=b"x",
        headers={"Authorization": f"token {amy}"},
        timeout=30,
    )
    assert r.status_code == 403, r.text


def test_a_student_of_both_sees_both_and_submits_to_each_its_own(stack, courses):
    stack.start(BOTH)
    lab = stack.lab(BOTH, stack.token_for(BOTH))
    try:
        listed = sh(lab, "nbgrader list")
        assert "c101 ps1" in listed and "c202 q1" in listed, listed
        assert sh(lab, "nbgrader fetch_assignment q1 --course c202").startswith("0")
        assert "BEGIN HIDDEN TESTS" not in lab.read_file("q1/q1.ipynb")
        solve(lab, "q1")
        out = sh(lab, "nbgrader submit q1 --course c202")
        assert out.startswith("0"), out
        # Released to c202 only: c101 has no q1 to fetch.
        assert not sh(lab, "nbgrader fetch_assignment q1 --course c101").startswith("0")
    finally:
        lab.close()
        stack.stop(BOTH)  # a running lab would count in other tests (monitoring)
    out = in_course("c202", "nbgrader collect q1")
    assert BOTH in out, out
    assert "q1" not in in_course("c101", "ls submitted/*/ 2>/dev/null || true").split()


def test_each_course_container_has_its_own_gradebook(courses):
    c101, c202 = gradebook("c101"), gradebook("c202")
    assert c202 == {"students": ["dan", "dora"], "assignments": ["q1"]}, c202
    assert "dora" not in c101["students"] and "q1" not in c101["assignments"], c101
    assert {"ps1", "ps2"} <= set(c101["assignments"])
    # Each course directory (its own volume) holds its own sources only.
    assert in_course("c202", "ls source").split() == ["q1"]
    assert "q1" not in in_course("c101", "ls source").split()


GRADE_AS = """
import pathlib, tempfile
import nbformat
from celerylab_lab.sandbox_execute import GradingServiceError, SandboxedExecute
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
work = pathlib.Path(tempfile.mkdtemp()) / "autograded" / "probe" / "q1"
work.mkdir(parents=True)
for course in ("c202", "{own}"):
    try:
        SandboxedExecute(course_id=course).preprocess(
            nb, {{"metadata": {{"path": str(work)}}, "unique_key": "probe"}}
        )
        print(course, "graded")
    except GradingServiceError as e:
        print(course, "refused:", e)
"""


def test_a_course_grading_key_grades_for_its_own_course_only(courses):
    # c101's container seals a task with its own key, once for c202 and once for itself.
    r = subprocess.run(
        ["docker", "exec", "-u", "grader-c101", container("c101"), "python3", "-c",
         GRADE_AS.format(own="c101")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert lines.get("c202", "").startswith("refused:"), r.stdout + r.stderr
    assert lines.get("c101") == "graded", r.stdout + r.stderr
