"""A student submits twice: the latest submission counts, the earlier one is kept.

The exchange keeps every submission (inbound/<student>+<assignment>+<time>+<random>); the
student's own list shows both with the exchange's times; `nbgrader collect` takes the latest
into the course, and autograde scores that one. A submission after the collect is taken by
`nbgrader collect --update` (plain collect keeps what the course has, and says so).
"""

from __future__ import annotations

import json

import pytest
from live import compose
from test_exchange import ANSWER, inbound, instructor, sh, wait_for_course_container

pytestmark = pytest.mark.docker

STUDENT = "dan"  # on c101's roster (integration-tests/fixtures/courses/c101.csv)
WRONG, RIGHT = "    return a - b", ANSWER[1]


def release(assignment: str) -> None:
    """Generate and release in c101's container, unless another test released it already."""
    instructor(
        f"nbgrader generate_assignment {assignment} && "
        f"(test -d /srv/celerylab/exchange/c101/outbound/{assignment} || "
        f"nbgrader release_assignment {assignment})"
    )


def answer(lab, body: str) -> None:
    """Write this answer into the fetched notebook's solution cell (whatever it held)."""
    notebook = json.loads(lab.read_file("ps1/ps1.ipynb"))
    (cell,) = [
        c
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "answer"
    ]
    cell["source"] = "def add(a, b):\n" + body
    lab.write_file("ps1/ps1.ipynb", json.dumps(notebook))


def collected() -> tuple[str, str]:
    """The collected submission's time, and its answer line, in the course directory."""
    folder = f"submitted/{STUDENT}/ps1"
    notebook = json.loads(instructor(f"cat {folder}/ps1.ipynb"))
    (cell,) = [
        c
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "answer"
    ]
    body = "".join(cell["source"]).splitlines()[-1].strip()
    return instructor(f"cat {folder}/timestamp.txt").strip(), body


def mine() -> dict[str, str]:
    return {n: t for n, t in inbound("c101").items() if n.startswith(f"{STUDENT}+ps1+")}


@pytest.fixture(scope="module")
def twice(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    wait_for_course_container()
    release("ps1")
    stack.start(STUDENT)
    lab = stack.lab(STUDENT, stack.token_for(STUDENT))
    before = set(mine())
    assert sh(lab, "nbgrader fetch_assignment ps1 --course c101").startswith("0")
    outputs = []
    for body in (WRONG, RIGHT):
        answer(lab, body)
        out = sh(lab, "nbgrader submit ps1 --course c101")
        assert out.startswith("0"), out
        outputs.append(out)
    submissions = {n: t for n, t in mine().items() if n not in before}
    yield {"lab": lab, "outputs": outputs, "submissions": submissions}
    lab.close()
    stack.stop(STUDENT)  # a running lab would count in later tests (monitoring)


def test_both_submissions_are_kept_with_the_exchanges_times(twice):
    stamps = sorted(twice["submissions"].values())
    assert len(stamps) == 2, twice["submissions"]
    # Each submit tells the student the time the exchange recorded.
    for out, stamp in zip(twice["outputs"], stamps, strict=True):
        assert stamp in out, (stamp, out)
    listed = sh(twice["lab"], "nbgrader list --cached --course c101")
    for stamp in stamps:
        assert stamp in listed, f"the student's list must show {stamp}: {listed}"


def test_collect_takes_the_latest_and_autograde_scores_it(twice):
    latest = max(twice["submissions"].values())
    out = instructor("nbgrader collect ps1")
    assert STUDENT in out, out
    assert collected() == (latest, RIGHT.strip())
    assert len(mine()) >= 2, "collecting must not remove submissions from the exchange"
    instructor(f"nbgrader autograde ps1 --student {STUDENT}")
    score = instructor(
        'python -c "from nbgrader.api import Gradebook\n'
        "with Gradebook('sqlite:////home/student/gradebook.db') as gb:\n"
        f"    print(gb.find_submission('ps1', '{STUDENT}').score)\""
    )
    # The earlier (wrong) answer would score 0.0: the latest, right one counts.
    assert score.strip().splitlines()[-1] == "2.0", score


def test_a_submission_after_the_collect_needs_collect_update(twice):
    lab = twice["lab"]
    kept = collected()
    answer(lab, WRONG)
    out = sh(lab, "nbgrader submit ps1 --course c101")
    assert out.startswith("0"), out
    third = max(mine().values())
    out = instructor("nbgrader collect ps1")
    assert collected() == kept, "plain collect keeps the collected submission"
    assert f"Submission already exists, use --update to update: {STUDENT} ps1" in out, out
    instructor("nbgrader collect --update ps1")
    assert collected() == (third, WRONG.strip())
