"""Students fetch, submit and get feedback through the exchange service with nbgrader's own
commands; nobody reads another's work, submits as someone else or sets their own submission
time. (Release and feedback are written into the exchange as nbgrader's release commands
would, until the course containers do it.)"""

import csv
import io
import json
import re
import subprocess
import time

import pytest
import requests
from hubclient import KernelError
from live import TEST_STACK, compose, service_url

pytestmark = pytest.mark.docker

EXCHANGE = f"{service_url('celerylab-exchange')}/api"
COURSE = f"{TEST_STACK.project}-course-c101"
#: The course container's own account (its UID is the course's: coursecontainers.course_uids).
INSTRUCTOR = "grader-c101"
ANSWER = ("    # YOUR CODE HERE\n    raise NotImplementedError()", "    return a + b")


def instructor(command: str) -> str:
    """nbgrader's CLI as the course's instructors run it, in the course container."""
    r = subprocess.run(
        [
            "docker",
            "exec",
            "-u",
            INSTRUCTOR,
            "-w",
            "/home/student",
            "-e",
            "HOME=/home/student",
            COURSE,
            "sh",
            "-c",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, f"{command}: {r.stdout}{r.stderr}"
    return r.stdout + r.stderr


def wait_for_course_container(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = subprocess.run(["docker", "logs", COURSE], capture_output=True, text=True)
        if "celerylab course c101: configured" in logs.stdout + logs.stderr:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{COURSE} did not configure its course within {timeout}s")


def in_exchange(code: str) -> str:
    """Python as the exchange's own user, inside its container."""
    r = compose("exec", "-T", "exchange", "python", "-c", code, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def inbound(course: str) -> dict[str, str]:
    return json.loads(
        in_exchange(
            "import json, pathlib\n"
            f"d = pathlib.Path('/srv/celerylab/exchange/{course}/inbound')\n"
            "print(json.dumps({p.name: (p / 'timestamp.txt').read_text() for p in d.iterdir()}"
            " if d.is_dir() else {}))"
        )
    )


def solve(lab, assignment: str) -> None:
    """Answer like a student: fill the solution cell of the released notebook."""
    path = f"{assignment}/{assignment}.ipynb"
    notebook = json.loads(lab.read_file(path))
    (cell,) = [
        c
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "answer"
    ]
    source = "".join(cell["source"])
    assert ANSWER[0] in source, f"the release must hold the stub, not the solution: {source!r}"
    cell["source"] = source.replace(*ANSWER)
    lab.write_file(path, json.dumps(notebook))


def sh(lab, command: str) -> str:
    """A shell command in the lab's kernel, as a notebook's `!` would run it."""
    return lab.run(
        "import subprocess\n"
        f"r = subprocess.run({command!r}, shell=True, capture_output=True, text=True)\n"
        "print(r.returncode); print(r.stdout + r.stderr)"
    )


@pytest.fixture(scope="module")
def labs(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    # (Passwords are printed only to users without one: another module may have synced first.)
    groups = {g["name"]: set(g["users"]) for g in stack.api("GET", "/groups").json()}
    assert {"amy", "ben"} <= groups["nbgrader-c101"] and "ida" in groups["formgrade-c101"]
    wait_for_course_container()
    # --force: another module (test_browser_course) may have released ps1 already.
    instructor("nbgrader generate_assignment ps1 && nbgrader release_assignment --force ps1")
    labs = {}
    for name in ("amy", "ben"):
        stack.start(name)
        labs[name] = stack.lab(name, stack.token_for(name))
    yield labs
    for lab in labs.values():
        lab.close()


def test_student_fetches_and_submits_with_nbgrader(labs):
    amy = labs["amy"]
    assert "c101 ps1" in sh(amy, "nbgrader list")
    out = sh(amy, "nbgrader fetch_assignment ps1 --course c101")
    assert out.startswith("0"), out
    notebook = amy.read_file("ps1/ps1.ipynb")
    assert "BEGIN HIDDEN TESTS" not in notebook and "return a + b" not in notebook
    solve(amy, "ps1")
    out = sh(amy, "nbgrader submit ps1 --course c101")
    assert out.startswith("0"), out
    ((_name, stamp),) = [(n, t) for n, t in inbound("c101").items() if n.startswith("amy+ps1+")]
    cached = sh(amy, "nbgrader list --cached")
    assert stamp in cached, f"the lab's record must show the exchange's time {stamp}: {cached}"


def test_name_and_time_of_a_submission_come_from_the_exchange(labs):
    ben = labs["ben"]
    assert sh(ben, "nbgrader fetch_assignment ps1 --course c101").startswith("0")
    ben.write_file("ps1/timestamp.txt", "2000-01-01 00:00:00.000000 UTC")
    before = inbound("c101")
    out = sh(ben, "nbgrader submit ps1 --course c101 --student=amy")
    assert out.startswith("0"), out
    new = {n: t for n, t in inbound("c101").items() if n not in before}
    assert len(new) == 1, new
    ((name, stamp),) = new.items()
    assert name.startswith("ben+ps1+"), f"ben's work was filed as {name}"
    assert not stamp.startswith("2000"), "a student's own timestamp must not count"


def test_students_never_see_the_exchange_or_others_work(labs, stack):
    ben = labs["ben"]
    assert ben.run("import os; print(os.path.exists('/srv/celerylab/exchange'))").strip() == "False"
    out = sh(ben, "nbgrader list --inbound --course c101")
    assert not out.startswith("0") and "amy" not in out.split("\n", 1)[1]
    view = requests.get(
        f"{EXCHANGE}/courses/c101/view", timeout=30, headers={"Authorization": f"token {ben.token}"}
    )
    assert view.status_code == 200 and b"amy" not in view.content


def test_only_students_of_the_course_and_released_work(labs, stack):
    ida = stack.token_for("ida")  # the instructor is not a student of c101
    r = requests.get(
        f"{EXCHANGE}/courses/c101/view", timeout=30, headers={"Authorization": f"token {ida}"}
    )
    assert r.status_code == 403 and "not a student of course 'c101'" in r.json()["message"]
    r = requests.get(f"{EXCHANGE}/courses/c101/view", timeout=30)
    assert r.status_code in (401, 403)
    with pytest.raises(KernelError):
        labs["ben"].run("raise SystemExit(1)")  # kernels report errors (sanity of the helper)
    out = sh(labs["ben"], "nbgrader fetch_assignment ps2 --course c101")
    assert not out.startswith("0")


def test_bad_uploads_are_refused_with_a_reason(labs):
    headers = {"Authorization": f"token {labs['ben'].token}"}
    r = requests.post(
        f"{EXCHANGE}/courses/c101/submit/ps1", data=b"not an archive", headers=headers, timeout=30
    )
    assert r.status_code == 400 and "not a gzip" in r.json()["message"]
    r = requests.post(f"{EXCHANGE}/courses/c101/submit/ps2", data=b"x", headers=headers, timeout=30)
    assert r.status_code == 404 and "not released" in r.json()["message"]


def test_instructor_collects_autogrades_and_exports(labs):
    out = instructor("nbgrader collect ps1")
    assert "amy" in out and "ben" in out, out
    instructor("nbgrader autograde ps1")
    instructor("nbgrader export --to grades.csv")
    grades = {
        row["student_id"]: row for row in csv.DictReader(io.StringIO(instructor("cat grades.csv")))
    }
    assert float(grades["amy"]["score"]) == 2.0, grades["amy"]  # correct, hidden tests pass
    assert float(grades["ben"]["score"]) == 0.0, grades["ben"]  # untouched stub
    # The CSV says what the gradebook says.
    scores = instructor(
        'python -c "from nbgrader.api import Gradebook\n'
        "with Gradebook('sqlite:////home/student/gradebook.db') as gb:\n"
        "    print({s: gb.find_submission('ps1', s).score for s in ('amy', 'ben')})\""
    )
    assert "'amy': 2.0" in scores and "'ben': 0.0" in scores, scores


def test_feedback_goes_to_its_owner_only(labs):
    instructor("nbgrader generate_feedback ps1 && nbgrader release_feedback ps1")
    amy, ben = labs["amy"], labs["ben"]
    assert sh(amy, "nbgrader fetch_feedback ps1 --course c101").startswith("0")
    read = "import glob; print([open(f).read() for f in glob.glob('ps1/feedback/*/*.html')])"
    mine = set(re.findall(r"Score: ([0-9.]+) / ([0-9.]+)", amy.run(read)))
    assert mine == {("2.0", "2.0")}, f"amy's feedback: {mine}"
    assert sh(ben, "nbgrader fetch_feedback ps1 --course c101").startswith("0")
    theirs = set(re.findall(r"Score: ([0-9.]+) / ([0-9.]+)", ben.run(read)))
    assert theirs == {("0.0", "2.0")}, f"ben must get his own feedback only: {theirs}"


def test_late_submission_is_recorded_and_penalised(labs):
    instructor("nbgrader generate_assignment ps2 && nbgrader release_assignment ps2")
    amy = labs["amy"]
    assert sh(amy, "nbgrader fetch_assignment ps2 --course c101").startswith("0")
    solve(amy, "ps2")
    assert sh(amy, "nbgrader submit ps2 --course c101").startswith("0")
    page = amy.get("my-courses/", timeout=60).text
    assert "late" in page, page
    instructor("nbgrader collect ps2 && nbgrader autograde ps2 && nbgrader export --to late.csv")
    (row,) = [
        r
        for r in csv.DictReader(io.StringIO(instructor("cat late.csv")))
        if r["assignment"] == "ps2" and r["student_id"] == "amy"
    ]
    # due 2020, 10%/day, zero after 3 days late: full marks earned, all taken as late penalty
    assert float(row["raw_score"]) == 2.0 and float(row["late_submission_penalty"]) == 2.0, row
    assert float(row["score"]) == 0.0


def test_formgrader_opens_for_instructors_only(labs, stack):
    url = f"{service_url('formgrader-c101')}/formgrader/manage_assignments"
    ida = requests.get(
        url, headers={"Authorization": f"token {stack.token_for('ida')}"}, timeout=60
    )
    assert ida.status_code == 200 and "nbgrader" in ida.text
    amy = requests.get(
        url,
        headers={"Authorization": f"token {labs['amy'].token}"},
        timeout=60,
        allow_redirects=False,
    )
    assert amy.status_code == 403


def test_my_courses_page_shows_due_dates_and_submissions(labs):
    amy = labs["amy"]
    courses = amy.get("my-courses/json", timeout=60).json()
    (c101,) = courses
    assert c101["title"] == "Celery 101 (test course)"
    ps1, ps2 = c101["assignments"]
    assert (ps1["id"], ps1["due"], ps1["released"]) == ("ps1", "2030-01-01T00:00:00+00:00", True)
    assert (ps2["id"], ps2["due"]) == ("ps2", "2020-01-01T00:00:00+00:00")
    page = amy.get("my-courses/", timeout=60).text
    assert "2030-01-01 00:00 UTC" in page and "submitted 20" in page, page
    assert "loses 10% per day late" in page
