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
    "e17-lessons": [
        # 1. partition and workload routes, an unconsumed queue, fan-out, results, idempotency,
        # backpressure
        " ada: router says orders.p0  | worker says: ada placed on orders.p0",
        "  cy: router says orders.p3  | worker says: cy placed on orders.p3",
        "celery.exceptions.TimeoutError: The operation timed out.",
        "state: PENDING | messages waiting in e17.heavy: 1",
        "group : 100 messages, 100 result keys, sum 9900",
        "chunks:  10 messages,  10 result keys, sum 9900",
        "kept result expires in 24.0 h",
        "ignored .get() returns None at once",
        "its result key exists: False",
        "['order A-1001 already charged', 'order A-1001 charged 42']",
        "two task ids: True | times charged: 1",
        "Backpressure: e17.heavy has 3 waiting (limit 3): try later",
        # 2. sentinel, quorum defaults, visibility timeout, failover, publish failure, loss
        "ValueError: 'master_name' transport option must be specified.",
        "transport class: SentinelTransport",
        "task_default_queue_type                    = 'classic'",
        "after the crash: in queue 0 | unacked 1",
        "after the sweep: in queue 1 | unacked 0",
        "127.0.0.1:9 refused; now connected to 127.0.0.1:",
        "Error 111 connecting to 127.0.0.1:9. Connection refused.",
        "before the failure, queued: 3",
        "after the replacement, queued: 0",
        # 3. routing by owner, message size, runbook, results per region
        "bob: home region B | ran: waits in region B",
        "messages waiting in region B: 1",
        "RuntimeError: runbook stopped: region C does not answer, ownership unchanged",
        "ownership of ['ada', 'cy'] moved to region B",
        "region A says: 42 SUCCESS",
        "region B says: PENDING",
        "region B .get(): TimeoutError: The operation timed out.",
        "region B stopped; healthy now: False",
        # 4. priorities on Redis, round-robin between queues, add/cancel consumer
        "served in order: [0, 5, 3, 9]",
        "served: ababaaaa",
        "'ok': 'add consumer e17.heavy'",
        "report of 20 pages",
        "e17.heavy now holds 0",
        "'ok': 'no longer consuming from e17.heavy'",
        # 5. failover headroom, plan review
        "15 processes per region: normal 67%, after losing a region 133%, backlog grows 20 tasks/s",
        "draft -> PlanRejected: rates are estimated, not measured; sized for the mean 12/s, not "
        "the peak 60/s; peak utilisation 83% is over 70%; after losing a region the survivor runs "
        "at 167%",
        "revised -> approved",
    ],
    "e18-lessons": [
        # 1. queue wait vs run time, percentiles, events, warm-up, fair comparison
        "the last task spent",
        "tasks near the mean:",
        "task-succeeded events: 10 | runtime p50",
        "first round trip of a new client:",
        "A: median",
        # 2. cProfile, tracemalloc, stage timings, sampled stacks, eager mode
        "{method 'sendall' of '_socket.socket' objects}",
        "pool processes to profile:",
        "remember  peak  256 KiB | still held after return: ['tasks.py:",
        "LEAK entries seen by successive tasks:",
        "batched=True  redis",
        "pipeline;<listcomp>;...;",
        "eager apply(): set (ran in this notebook)",
        "delay(): kombu.exceptions.EncodeError: Object of type set is not JSON serializable",
        # 3. pools measured
        "8 x io_wait(0.1): prefork (2 processes)",
        "4 x crunch on threads (8 threads)",
        "pool thread   max-concurrency  8 | prefetch count 32",
        "two pure-Python loops: in a row",
        "{'ok': 'pool will grow'}",
        "{'ok': 'pool will shrink'}",
        "threads worker exited with 0",
        # 4. serialization, references, compression, results
        "tuple arrives as: list",
        "datetime arrives as: datetime",
        "Decimal arrives as: Decimal",
        "pickle to a JSON-only worker: TimeoutError: The operation timed out. | state PENDING",
        "29 bytes, round trip",
        "codecs available here:",
        "after forget(): stored 0 | state now PENDING",
        # 5. prefetch, acks, batching, canvas batching, rate limits
        "prefetch count: 8",
        "acks_late",
        "4 tasks of 25",
        "200 results, sum 19900",
        "rate_limit='100000/s':",
    ],
    "e19-lessons": [
        # 1. triage and status update
        "queues without a consumer  {'e19.reports': 1}",
        "Investigating: 1 report(s) are waiting and not being produced",
        # 2. crash, hang, redelivery loop and quarantine, inspection, replay
        "WorkerLostError: Worker exited prematurely: exitcode 1",
        "the worker replaced its process and still answers: pong",
        "TimeLimitExceeded(0.5)",
        "good invoice: invoice 18 parsed",
        "deliveries of the poison message: 3",
        "'crashed': 2}",
        "poison state: PENDING | worker still answers: pong",
        "args: [{'number': 19, 'format': 'legacy'}] | content type: application/json | still "
        "queued: 1",
        "...: invoice 17 parsed",
        "left in quarantine: 0",
        # 3. inspect, revoke, cancelled consumer, stranded queue, purge
        "scheduled: [('e19_lesson.tasks.remind'",
        "revoked ids the worker keeps: True",
        "ping: TimeoutError: The operation timed out. | in Redis: 1",
        "your worker consumes: []",
        "{'ok': 'add consumer celery'}",
        "after add_consumer: pong",
        "after lending a consumer: none stranded",
        "purged 4 messages from e19.reports; copy kept: 4",
        # 4. recycling, the leak's sawtooth, tracemalloc, run-time limits, the fix verified
        "process per call: [0, 0, 0, 3, 3, 3] (2 processes for 6 tasks)",
        "call 4: process B",
        "grew most: tasks.py:",
        "{'ok': 'time limits set successfully'}",
        "{'ok': 'new rate limit set successfully'}",
        "{'ok': 'rate limit disabled successfully'}",
        "| after 0.0 MiB",
        "leaky worker exited with 0",
        # 5. restart loses queued work, effective settings, reconciliation, verification
        "queued before the failure: 3",
        "queued after the restart: 1 (the first three are gone, without an error)",
        "broker_connection_max_retries    not changed (default 100)",
        "missing after the failure: ['order-3', 'order-4']",
        "missing after reconciliation: none",
        "all clear: True",
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
