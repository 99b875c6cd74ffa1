"""Students fetch, submit and get feedback through the exchange service with nbgrader's own
commands; nobody reads another's work, submits as someone else or sets their own submission
time. (Release and feedback are written into the exchange as nbgrader's release commands
would, until the course containers do it.)"""

import json

import pytest
import requests
from hubclient import KernelError
from live import PORT, compose

pytestmark = pytest.mark.docker

EXCHANGE = f"http://127.0.0.1:{PORT}/services/celerylab-exchange/api"
NOTEBOOK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "answer",
                "metadata": {},
                "outputs": [],
                "source": "answer = None",
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)


def in_exchange(code: str) -> str:
    """Run Python as the exchange's own user, inside its container (what instructors' nbgrader
    does through the volume)."""
    r = compose("exec", "-T", "exchange", "python", "-c", code, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def release(course: str, assignment: str) -> None:
    in_exchange(
        "import pathlib, sys\n"
        f"d = pathlib.Path('/srv/celerylab/exchange/{course}/outbound/{assignment}')\n"
        "d.mkdir(parents=True, exist_ok=True)\n"
        f"(d / '{assignment}.ipynb').write_text({NOTEBOOK!r})\n"
    )


def inbound(course: str) -> dict[str, str]:
    return json.loads(
        in_exchange(
            "import json, pathlib\n"
            f"d = pathlib.Path('/srv/celerylab/exchange/{course}/inbound')\n"
            "print(json.dumps({p.name: (p / 'timestamp.txt').read_text() for p in d.iterdir()}"
            " if d.is_dir() else {}))"
        )
    )


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
    assert {"amy", "ben", "ida"} <= {row.split(",")[0] for row in r.stdout.split()}
    release("c101", "ps1")
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
    amy.write_file("ps1/ps1.ipynb", NOTEBOOK.replace("answer = None", "answer = 42"))
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


def test_feedback_goes_to_its_owner_only(labs):
    # As `nbgrader release_feedback` names it: md5(submission secret + notebook id).
    in_exchange(
        "import hashlib, pathlib\n"
        "root = pathlib.Path('/srv/celerylab/exchange/c101')\n"
        "(root / 'feedback').mkdir(exist_ok=True)\n"
        "for sub in (root / 'inbound').glob('amy+ps1+*'):\n"
        "    secret = (sub / 'submission_secret.txt').read_text()\n"
        "    name = hashlib.md5((secret + 'ps1').encode()).hexdigest()\n"
        "    (root / 'feedback' / f'{name}.html').write_text('<p>well done, amy</p>')\n"
    )
    amy, ben = labs["amy"], labs["ben"]
    assert sh(amy, "nbgrader fetch_feedback ps1 --course c101").startswith("0")
    found = amy.run("import glob; print(glob.glob('ps1/feedback/*/ps1.html'))")
    assert "ps1.html" in found, found
    sh(ben, "nbgrader fetch_feedback ps1 --course c101")
    assert ben.run("import glob; print(glob.glob('ps1/feedback/*/*.html'))").strip() == "[]"


def test_my_courses_page_shows_due_dates_and_submissions(labs):
    amy = labs["amy"]
    courses = amy.get("courses/json", timeout=60).json()
    (c101,) = courses
    assert c101["title"] == "Celery 101 (test course)"
    ps1, ps2 = c101["assignments"]
    assert (ps1["id"], ps1["due"], ps1["released"]) == ("ps1", "2030-01-01T00:00:00+00:00", True)
    assert (ps2["id"], ps2["released"]) == ("ps2", False)
    page = amy.get("courses/", timeout=60).text
    assert "2030-01-01 00:00 UTC" in page and "submitted 20" in page, page
    assert "loses 10% per day late" in page
