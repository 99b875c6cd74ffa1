"""Track A (Django) lessons: one section per curriculum topic, in order, with self-checks that
give feedback, and, run on a real Redis and worker, the output a student reads in each section.

The structural checks read the released notebooks; the output checks execute a lesson once (as
test_course_notebooks_execute does) and look for what the text of the lesson tells the student
they will see."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from celerylab_course import selfcheck
from course_notebooks import LabSession, errors, outputs

REPO = Path(__file__).resolve().parents[2]
MODULES = {"a1": "A1-DJANGO-INT"}  # the Track A lessons written to issue 22's section layout


def _notebook(short: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "release" / f"{short}-lessons" / "lessons.ipynb", as_version=4)


def _headings(nb: nbformat.NotebookNode) -> list[str]:
    return [
        line[3:].strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]


@pytest.mark.parametrize("short", sorted(MODULES))
def test_one_section_per_topic_in_spec_order_then_review_and_reflection(short):
    module = yaml.safe_load(
        (REPO / "course" / "curriculum" / "modules" / f"{MODULES[short]}.yaml").read_text()
    )
    want = [f"{n}. {topic['title']}" for n, topic in enumerate(module["topics"], 1)]
    numbered = [h for h in _headings(_notebook(short)) if re.match(r"\d+\. ", h)]
    assert numbered == want, f"{short}: sections {numbered}, curriculum topics {want}"
    assert _headings(_notebook(short))[-2:] == ["Review", "Reflection"]


@pytest.mark.parametrize("short", sorted(MODULES))
def test_every_self_check_has_a_valid_key_and_explains_itself(short):
    checks = []
    for cell in _notebook(short).cells:
        if cell.cell_type == "code" and cell.source.startswith("selfcheck.choice("):
            checks.append(eval(cell.source, {"selfcheck": selfcheck}))  # noqa: S307 - our own cells
    assert len(checks) >= 10, f"{short}: {len(checks)} self-checks (two per topic, plus review)"
    for check in checks:
        assert check.check(check.answer).startswith("Right.") and len(check.why) > 20
        wrong = (check.answer + 1) % len(check.options)
        assert check.check(wrong).startswith("Not quite")


@pytest.fixture(scope="module")
def a1_output(tmp_path_factory):
    session = LabSession(tmp_path_factory.mktemp("a1"), full=False)
    try:
        nb = session.execute(REPO / "source" / "a1-lessons", "lessons.ipynb")
    finally:
        session.close()
    assert errors(nb) == []
    return outputs(nb)


A1_SEEN = {
    "integration: an unknown task name fails": "caller sees: NotRegistered 'tasks.add_stock'",
    "integration: a misspelt setting changes nothing": "task_acks_late    : False",
    "connections: closed before every task": "'open_at_start': False",
    "migrations: code ahead of the schema": "OperationalError - no such column: colour",
    "migrations: the worker's database is up to date": "still needs: []",
    "transactions: the worker reads before the commit": "the worker said: DoesNotExist",
    "transactions: delay_on_commit sends nothing yet": "delay_on_commit returns: None",
    "transactions: the task runs after the commit": "after the commit: confirmed",
    "serialization: an instance is refused": "EncodeError: Object of type Product is not JSON",
    "serialization: a tuple arrives as a list": "('pen', 2)",
    "bulk: the database adds": '"stock" = ("orders_product"."stock" + 1)',
    "settings: the environment wins over settings": "the settings value        : redis://settings-host:6379/0",
    "settings: a settings typo": "No module named 'shop.setings'",
    "management command: requeued every pending order": "pending orders now: 0",
    "validation: the system check catches pickle": "(orders.E001) Celery must accept JSON only",
    "admin: the action enqueues": "message: ['Sent 2 restock tasks']",
    "admin: a view-only clerk has no action": "clerk's actions: []",
    "admin: a forged POST sends nothing": "tasks sent: 0",
    "admin: no TaskResult rows with a Redis backend": "RedisBackend | TaskResult rows: 0",
    "testing: a failing task under apply()": "state: FAILURE | exception: DoesNotExist",
    "testing: a mock accepts an instance": "the mock accepted: call(<Product: pen>, 1)",
    "performance: a group through the worker": "40 tasks through your worker",
}


@pytest.mark.redis
@pytest.mark.parametrize("what", sorted(A1_SEEN))
def test_a1_student_sees(a1_output, what):
    assert A1_SEEN[what] in a1_output, f"{what}: expected {A1_SEEN[what]!r} in the lesson's output"


@pytest.mark.redis
def test_a1_numbers_that_teach(a1_output):
    naive = re.search(r"naive    : \{'total': (\d+), 'queries': (\d+)\}", a1_output)
    joined = re.search(r"aggregate: \{'total': (\d+), 'queries': (\d+)\}", a1_output)
    assert naive and joined and naive[1] == joined[1], "both totals shown and equal"
    assert int(naive[2]) > int(joined[2]) == 1, "the aggregate is one query, the naive one more"
    one, bulk = (int(m) for m in re.findall(r"\{'rows': 100, 'queries': (\d+)\}", a1_output))
    assert bulk < one / 10, f"bulk_create ({bulk} queries) vs get_or_create ({one})"
    assert "what the app connects with: redis://settings-host" not in a1_output
    assert a1_output.count("ALL PASSED") == 6 and "FAILURES" not in a1_output
