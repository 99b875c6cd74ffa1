"""The Expert path's lessons (E15 to E19) teach what they claim: each spec topic has its section, in
order, with runnable examples and a self-check, and when the lesson runs top to bottom in a
lab-like session the student sees the outputs the prose tells them to look for."""

import re
from pathlib import Path

import pytest
from celerylab_course.curriculum import Curriculum
from celerylab_course.notebooks import parse_cellscript
from course_notebooks import LabSession, errors, outputs

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load(REPO / "course")

# What a student sees when the lesson runs, one line per claim the prose makes about it.
SEEN = {
    "e15-lessons": [
        # 1. Celery's conf layers, provenance, rollback by content hash
        "task_acks_late: True (the update layer wins)",
        "celery.result_expires        = 60       from environ",
        "ValueError: unknown environment 'prodution'",
        "unknown task: [{",
        "'error': 'unknown task'",
        "flag after:  off",
        # 2. factory, observer, strategy, template, composite
        "caller sees: NotRegistered: 'e15_lesson.tasks.export_xml' | state: FAILURE",
        "DuplicateTaskNameWarning",
        "observer recorded: [\"e15_lesson.tasks.double: ValueError('x is required')\"]",
        "('task-failed',",
        "careful -> 2.0",
        "ValueError: unknown mode 'turbo'",
        "tenant task -> tenant.globex",
        "{'orders': 2, 'revenue': 42.5}",
        "result: 18 = 4 + 8 + 6",
        "RuntimeError: Never call result.get() within a task!",
        # 3. horizontal workers, shards, caching, pooling
        "'extra':",
        "wayne     shard 1 -> shard1",
        "'from': 'cache'",
        "every pool made in its own process: True",
        "going from 2 to 3 shards by modulo moves 668 of 1000 keys",
        # 4. tenants
        "'queue': 'tenant.globex', 'tenant': 'globex'",
        "'tenant': 'acme'}",
        "NoPermissionError: this user has no permissions",
        "QuotaExceeded: globex used 4 of 3 units this window",
        "KeyError: \"unknown tenant 'initech'\"",
        "rejected keys ['celery']",
        "TimeLimitExceeded:",
        # 5. validation, tests, drift, compliance
        "celery.task_acks_lat: not a Celery setting",
        "passed: test_tenant_routing",
        "AssertionError: the staging layer fails validation: staging",
        "drift task_acks_late: declared True, running False",
        "inspect().conf() shows broker_url = redis://:********@redis.internal:6379/0",
        "inspect().conf() shows task_default_routing_key = ********",
        "left to compare: ['task_acks_late']",
        "result keys added by 10 ignore_result tasks: 0",
        "with pickle: ['no pickle accepted']",
    ],
    "e16-lessons": [
        # 1. hooks in order, direct calls skip them, retry policy, idempotency by task id
        "divide: signal task_prerun\ndivide: before_start\ndivide: on_success 2.0",
        "divide: on_failure ZeroDivisionError('division by zero')",
        "hooks recorded: []",
        "flaky: on_retry ConnectionError('payment API unreachable (attempt 2)')",
        "flaky: signal task_postrun RETRY",
        "times charged: 1",
        "NotRegistered: 'e16_lesson.tasks.Charge'",
        # 2. signals: publish headers, handler errors, weak references
        "the worker's task received trace_id: trace-42",
        "after disconnecting: None",
        "fragile returned: done | state: SUCCESS",
        "weak (the default), handlers called: 0",
        "weak=False, handlers called: 1",
        # 3. bootsteps: info in stats, CLI option, timer
        "what Announce.info() adds to inspect stats: {'tag': 'lab'}",
        "the worker does not start: AttributeError: module 'celery.worker.components' has no "
        "attribute 'Timers'",
        "Step after Timer: True | last: Consumer",
        "worker option: ['--announce-tag'] default: lab",
        "heartbeat advanced by",
        # 4. consumer step and pools
        "['payment:17', 'refund:18', \"rejected {'unexpected': True}: KeyError('kind')\"]",
        "on {'threads@e16'}",
        "'error': 'AttributeError(",
        "threads worker exited with 0",
        # 5. packaging and testing
        "TypeError: e16_ext.install: unknown settings ['e16_ext_heartbeat_second']",
        "task through the embedded worker: 21",
        "the extension's step reports: {'registry_key': 'e16:workers'}",
        "ValueError: Signal receiver must accept keyword arguments.",
    ],
}


def _cells(assignment):
    return parse_cellscript((REPO / "course/content" / assignment / "lessons.nbs").read_text())


@pytest.mark.parametrize("assignment", sorted(SEEN))
def test_every_spec_topic_has_its_section_with_examples_and_a_self_check(assignment):
    module = CURRICULUM.by_assignment()[assignment]
    sections, current = {}, None
    for kind, _, text in _cells(assignment):
        heading = re.search(r"^## (.+)$", text, re.M) if kind == "markdown" else None
        if heading:
            current = heading.group(1).strip()
            sections[current] = {"examples": 0, "selfchecks": 0}
        elif kind == "code" and current:
            sections[current]["selfchecks" if "selfcheck." in text else "examples"] += 1
    expected = [f"{n}. {t.title}" for n, t in enumerate(module.topics, 1)]
    assert list(sections) == [*expected, "Review", "Reflection"], (
        f"{assignment}: sections {list(sections)}; expected the spec topics {expected} in order, "
        "then Review and Reflection"
    )
    for title in expected:
        counts = sections[title]
        assert counts["examples"] >= 2, f"{assignment} '{title}': {counts['examples']} examples"
        assert counts["selfchecks"] >= 1, f"{assignment} '{title}' has no self-check"


@pytest.mark.redis
@pytest.mark.parametrize("assignment", sorted(SEEN))
def test_the_student_sees_what_the_lesson_describes(assignment, tmp_path):
    session = LabSession(tmp_path, full=False)
    try:
        nb = session.execute(REPO / "source" / assignment, "lessons.ipynb")
    finally:
        session.close()
    assert errors(nb) == []
    seen = outputs(nb)
    missing = [line for line in SEEN[assignment] if line not in seen]
    assert not missing, f"{assignment}: the student does not see {missing}\n--- output ---\n{seen}"
