"""The Professional path's lessons (P09-P14) show students what their text says they will see.

test_course_notebooks_execute.py proves each lesson runs without an error; here each lesson is
run once more in a lab session and its printed output is checked for the values the prose
explains (a resumed chain's result, the error text of a common mistake, a chord's total), so a
Celery upgrade that changes a behaviour the lesson teaches fails here, not in a classroom.
Only outputs that do not depend on timing or on how the worker's processes share work are
checked."""

import re
from pathlib import Path

import pytest
from course_notebooks import LabSession, errors, outputs

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.redis

# What a student sees, per lesson: each string must appear in the cells' printed output.
EXPECTED = {
    "p09-lessons": [
        # 1. chains: results walked back through parents; parent links are client-side only
        "every step, first to last: [20, 40, 41, 43, 46]",
        "parent of the rebuilt result: 43",
        "parent of AsyncResult(id):    None",
        "the link ran as a child: [('SUCCESS', 11)]",
        "states, first to last: ['FAILURE', 'FAILURE', 'FAILURE']",
        "the chain stopped: ConnectionError('warehouse API down for run recover-1')",
        "states: ['SUCCESS', 'SUCCESS', 'FAILURE', 'FAILURE'] -> resume at step 2 with input 40",
        "resumed chain result: 141",
        "signatures carried by each step's message: [29, 28, 27, 26, 25] ... [2, 1, 0]",
        "TypeError: parse() takes 1 positional argument but 2 were given",
        "RuntimeError: Never call result.get() within a task!",
        # 2. chords
        "body result: 14",
        "chord, then two more steps: 15",
        "get() raised the header's error: KeyError('kiwi')",
        "the body's own state: FAILURE - ChordError",
        "errback saw: p09_lesson.tasks.total",
        "{'total': 12, 'rejected': ['kiwi', 'mango']}",
        "sum of squares by a tree of chords: 506 | check: 506",
        "40 header tasks: 160 in",
        "4 batched header tasks: 160 in",
        # 3. groups
        "chunks: 10 calls in 2 messages -> [[0, 2, 4, 6, 8], [10, 12, 14, 16, 18]]",
        "a link on a group: Cannot add link to group: use a chord",
        "completed: 6 successful(): False failed(): True",
        "restored 8 members; states: {'SUCCESS': 6, 'FAILURE': 2}",
        "success rate 75%; outcomes by kind: {'ok': 6, 'ValueError': 2}",
        "after forget(): {'PENDING': 8}",
        "still failing after one retry: [4, 8]",
        # 4. workflow state
        "real work done: 3 times",
        "order-1 ledger: ['reserved', 'charged']",
        "order-2 ledger: ['reserved', 'released']",
        "rejected: order order-3: cannot go from shipped to refunded",
        "stuck for more than 10 minutes: [('etl-2', 900)]",
        # 5. canvas
        "group | task is a _chord -> 12",
        "a group inside a chain: _chain -> 24",
        "from configuration: 12.5",
        "replaced at run time by a chord: 30",
        "shape: _chord with 3 header tasks and body p09_lesson.tasks.invoice",
        "subtask_type: mapreduce | rebuilt here as: mapreduce",
        "rebuilt by a worker as: mapreduce",
        "mapreduce result: 19",
        "Signature -> NotRegistered: 'p09.mapreduce'",
    ],
    "p10-lessons": [
        # 1. Flower: its task view is a bounded State fed by events; its buttons are control calls
        "resize   (-1,)  FAILURE  -",
        "tasks seen: 5, tasks kept: 3 -> ['(-1,)', '(3,)', '(4,)']",
        "{'ok': 'new rate limit set successfully'}",
        "held by the worker until its ETA: True",
        "the worker has recorded the revoke: True",
        "disable_events: [{'ok': 'task events already disabled'}]",
        "after disable_events: ['task-received', 'task-started', 'task-succeeded']",
        # 2. events: only the first events carry the name; State turns them into objects
        "task-started    ['timestamp', 'uuid']",
        "task-succeeded  ['result', 'runtime', 'timestamp', 'uuid']",
        "tasks by state: {'SUCCESS': 2, 'FAILURE': 1}",
        "failed: [('resize', '(0,)', \"ValueError('size must be positive')\")]",
        "pool processes: 2",
        "events per task: 4.0",
        ": p10_lesson.tasks.slow args=[0.8]",
        "query_task after it finished: {'",
        "asking a worker that does not exist: None",
        # 3. metrics: exposition format, cardinality, a gauge read at scrape time
        'celery_tasks_total{name="resize",state="failure"} 1.0',
        "# TYPE celery_task_runtime_seconds histogram",
        "label = task id:   50 series (one per task, forever)",
        "naive last - first: 5 | increase() with resets: 35.0",
        "buckets (0.01, 0.1, 1, 10): p95 estimate 0.55 s (true p95 0.30 s)",
        "buckets (0.01, 0.1, 0.5, 1, 10): p95 estimate 0.30 s (true p95 0.30 s)",
        'celery_queue_length{queue="reports"} 3.0',
        # 4. structured logs and spans carry the task context
        "'message': 'resizing to 7', 'task': 'p10_lesson.tasks.resize'",
        "3 spans, all with this root: True",
        "outside a task: [",
        "] ???[???]: resizing to 3",
        "'message': 'logged from the notebook, outside any task', 'task': None",
        "raised unexpected  level ERROR traceback: True",
        "raised expected    level INFO  traceback: False",
        # 5. alert inputs
        "reports: 3 waiting, oldest for",
        "failure rate 20% over 10 tasks",
        "workers answering ping: 1",
        'celery_queue_oldest_age_seconds{queue="reports"} ',
        "celery_workers_online 1.0",
    ],
    "p11-lessons": [
        # 1. pools: what the worker reports; waiting work overlaps on threads; the GIL
        "celery.concurrency.prefork:TaskPool",
        "pre1     pool: 4 x 0.2 s waits took",
        "at most 1 running at once, in 1 process",
        "threads: 2 CPU tasks in 1 process(es)",
        # 2. prefetch: where the messages are while a slow task runs; when each kind acks
        "p11-pre4: prefetch_count 4",
        "p11-pre1: prefetch_count 1",
        "pre4: while the slow task runs, 0 waiting in the queue, 4 held by the worker",
        "pre1: while the slow task runs, 3 waiting in the queue, 1 held by the worker",
        "late_ack  acks_late=True  unacked while running: True  after: False",
        "early_ack acks_late=False unacked while running: False after: False",
        "same strategy: True",
        # 3. limits: per worker, shared in Redis, soft/hard, ignored on threads, retry with the rest
        "workers that set their own bucket: 4",
        "{'ok': 'new rate limit set successfully'}",
        "never above the limit: True",
        "bounded(3): stopped at the soft limit",
        "SoftTimeLimitExceeded is an Exception: True",
        "runaway(3): FAILURE TimeLimitExceeded(1)",
        "bounded(1) on the threads pool: done",
        "import_rows(8 rows): {'rows imported': 8, 'runs': 2}",
        # 4. measuring: the profile names the hot function; message sizes; stored results
        "(burn)",
        "message with 3 numbers: ",
        "result key of noop: True | of an ignore_result task: False",
        "active on p11-pre1: [('io_wait', [0.6])]",
        "reserved on p11-pre1: 0",
        # 5. scaling: routes by configuration, batching, result keys
        "io_wait ran on:  p11-threads",
        "not on the threads worker: True",
        "40 calls in 4 messages",
        "(40 results)",
        "25 noop + 25 fire_and_forget tasks added 25 result keys",
        "shutdown sent to 3 workers",
    ],
    "p12-lessons": [
        # 1. delivery: a killed process loses the task unless reject_on_worker_lost requeues it
        "early ack:       FAILURE WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL)",
        "acks_late alone: FAILURE WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL)",
        "acks_late + reject_on_worker_lost: SUCCESS 2",
        "put back in the queue if still unacknowledged after 3600 s",
        "after the task returned: 0 unacknowledged",
        # 2. idempotency: keys, atomic check-and-set, natural idempotency, an outbox guard
        "naive_credit delivered twice -> balance 200",
        "credit_once  delivered twice -> balance 100",
        "check, then act:        balance 200",
        "atomic check-and-set:   balance 100",
        "set three times -> balance 700",
        "['sent', 'already sent']",
        "e-mails in the outbox: 1",
        # 3. retries: backoff with jitter, Celery's 1 s floor, transient and permanent errors
        "charged after 3 retries",
        "retry_backoff=True waits: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600]",
        "the first retry came 1.",
        "declined -> FAILURE: CardDeclined('card declined by issuer') after 0 retries",
        "busy     -> FAILURE: Busy('partner busy') after 3 retries",
        # 4. dead letters: what the backend keeps, on_failure records, idempotent replay
        "{'status': 'FAILURE', 'name': 'p12_lesson.tasks.charge_card', 'args': ['declined'], "
        "'retries': 0}",
        "exception: CardDeclined - ['card declined by issuer']",
        "dead letters: [('pay-10', \"CardDeclined('pay-10: card declined')\"), "
        "('pay-11', \"Busy('pay-11: partner busy')\")]",
        "replayed pay-11 -> SUCCESS 1000",
        "replayed twice -> SUCCESS 1000 | shop balance: 1000",
        "p12_dead_letters 2  by task {'pay': 2}",
        # 5. testing: injected faults, a redelivery test, seeded chaos
        "sync_order(order-1): SUCCESS 1 | faults left: 0",
        "redelivery test passed: one effect after a crash and a duplicate",
        "all succeeded: True | synced exactly once each: True",
    ],
    "p14-lessons": [
        # 1. containers: health check by name, warm shutdown on SIGTERM, settings from the env
        "health_check(p14-term) -> 0",
        "health_check(a worker that is not there) -> 1",
        "the task: in flight - SUCCESS",
        "the worker exited with code 0",
        "['worker: Warm shutdown (MainProcess)']",
        "| same as the environment: True",
        "worker_prefetch_multiplier is still: 1",
        # 2. autoscaling: the pool grows to MAX at once, shrinks after the keepalive; LLEN; bounds
        "before: {'max': 3, 'min': 0, 'current': 0, 'qty': 0}",
        "6 tasks ran in 3 processes",
        "after the keepalive: {'max': 3, 'min': 0, 'current': 0, 'qty': 0}",
        "'Scaling down 3 processes.'",
        "{'ok': 'autoscale now max=2 min=1'}",
        "after autoscale(2, 1): {'max': 2, 'min': 1, 'current': 1, 'qty': 0}",
        "LLEN p14.reports: 30",
        "backlog  10000 -> 8 worker(s)",
        "cooldown  0 s: workers [1, 4, 1, 1, 6, 1, 1, 1, 5, 1, 1, 1] -> 6 changes",
        "cooldown 30 s: workers [1, 4, 4, 4, 6, 6, 6, 6, 6, 6, 1, 1] -> 3 changes",
        # 3. rollouts: a drained worker leaves messages queued; old messages meet new code
        "{'ok': 'no longer consuming from p14.auto'}",
        "queues p14-auto consumes: []",
        "waiting in p14.auto: 3 | states: {'PENDING'}",
        "run after the drain: ['during drain 0', 'during drain 1', 'during drain 2']",
        "resize        v1 message -> img-7 -> 640x640",
        "TypeError: resize_strict() missing 1 required positional argument: 'height'",
        "a message for a removed task: FAILURE NotRegistered",
        "unguarded -> reports sent for one tick: 2",
        "guarded -> reports sent for one tick: 1",
        # 4. capacity: Little's law holds on the measured run; waits grow as utilisation nears 1
        "equal: True",
        "thumbnails λ= 20/s S= 0.5 s -> busy 10.0, plan 15 processes = 4 workers of 4",
        "  95%      ->  2.110 s",
        # 5. operating at scale: a queue without consumers, result lifetimes, cost
        "p14.reports  waiting   3 consumers []",
        "| policy: noeviction",
        "result_expires: 1 day, 0:00:00",
        "autoscaled:         52 worker-hours = 5.20/day (46% less)",
        "p14-auto exited with code 0",
    ],
    # ---- P13 (lessons-p13) ----
    "p13-lessons": [
        # 1. serializers: pickle runs code; a JSON-only worker and client refuse it; JSON's shapes
        "this ran while the bytes were being unpickled",
        "notes written by the worker: [b'sent as json']",
        "the pickled task's state: PENDING | still queued: 0",
        "ContentDisallowed: Refusing to deserialize untrusted content of type pickle "
        "(application/x-python-serialize)",
        "client accepting json only: Refusing to deserialize untrusted content of type pickle",
        "client accepting pickle: None",
        "-> list: [1, 2]",
        "-> dict: {'1': 'one'}",
        "-> Decimal: Decimal('9.99')",
        "-> datetime: datetime.datetime(2026, 1, 2, 3, 4)",
        "-> EncodeError: Object of type set is not JSON serializable",
        "checked by the client, at delay(): transfer() missing 1 required positional argument: "
        "'cents'",
        "checked by the task itself: FAILURE ValueError('amount out of range: -5000000')",
        # 2. signing: only signed messages (and control commands) are obeyed; bodies stay readable
        "unsigned ping: []",
        "signed task:   moved 500 cents to acct-1",
        "content type: application/data",
        "signer:       p13 publisher ",
        "signature:    256 bytes",
        'body:         [["acct-1", 500], {}',
        "states: {'unsigned': 'PENDING', 'intruder': 'PENDING'} | tampered: PENDING",
        "TypeError('catching classes that do not inherit from BaseException is not allowed')",
        "Received invalid task message: Refusing to deserialize untrusted content of type json "
        "(application/json)",
        "Unknown certificate: b\\'p13 intruder ",
        "ImproperlyConfigured You have to configure a special task serializer",
        "allowed_serializers=['auth', 'json']: KeyError 'auth'",
        "message body: json 90 bytes, auth ",
        # 3. broker: an ACL user without @dangerous still runs Celery; TLS verifies or fails
        "NoPermissionError: this user has no permissions to run the 'flushall' command",
        "AuthenticationError: invalid username-password pair or user is disabled.",
        "sent and read back as p13-app: moved 700 cents to acct-2",
        "the backend connection's user: p13-app",
        "answers PING over a verified connection: True",
        "ValueError: A rediss:// URL must have parameter ssl_cert_reqs",
        "messages queued on the TLS Redis: 1",
        "broker URL as Celery prints it: rediss://:**@127.0.0.1:",
        "certificate verify failed: self-signed certificate in certificate",
        "certificate verify failed: Hostname mismatch",
        # 4. secrets: where an argument ends up; references; redaction; argsrepr; expiry
        "in the message body:   True",
        "in the argsrepr header: ('alice', 'hunter2')",
        "in the result backend: True | ['alice', 'hunter2']",
        "charged 1250 cents to card ending 1111",
        "card number in the stored result: False | args stored: ['card-ref-81', 1250]",
        "after the vault entry expired: FAILURE LookupError(",
        "maybe_sanitize_url: redis://:**@10.0.0.5:6379/0",
        "broker_url: 'redis://:********@10.0.0.5:6379/0'",
        "payment_api_token: '********'",
        "the URL this app really uses in the lab: redis://:**@127.0.0.1:",
        "argsrepr header shows: ('alice', '***') | body still has it: True",
        "the task still got the password: alice logged in",
        "result_extended stores: ['alice', 'hunter2']",
        "result key of an ignore_result task exists: False",
        "after forget(): 0",
        # 5. review: Flower's API, remote control open to any client, a signed-only shutdown
        "POST /api/task/send-task/<name>",
        "POST /api/worker/shutdown/<name>",
        "{'accept_content': ['json'], 'result_expires': 600, 'result_extended': True}",
        "{'ok': 'new rate limit set successfully'}",
        "after an unsigned shutdown, the signed worker answers: True",
        "after a signed shutdown, it exited with code 0",
        "worker accepts messages serialized with pickle is a very bad idea!",
        "first draft: 7 finding(s)",
        "HIGH   a worker or client accepts pickle: remote code execution",
        "p13_lesson: 2 finding(s)",
        "p13_signed: 0 finding(s)",
        "cleaned up",
    ],
    # ---- end P13 ----
}


@pytest.mark.parametrize("assignment", sorted(EXPECTED))
def test_lesson_shows_what_its_text_explains(assignment, tmp_path):
    session = LabSession(tmp_path, full=False)
    try:
        nb = session.execute(REPO / "source" / assignment, "lessons.ipynb")
    finally:
        session.close()
    assert errors(nb) == []
    printed = outputs(nb)
    missing = [s for s in EXPECTED[assignment] if s not in printed]
    assert missing == [], f"{assignment} no longer prints: {missing}"
    if assignment == "p09-lessons":
        # every task of the stamped workflow carried the run id, none took it as an argument
        assert printed.count("'run': 'etl-7'") == 3, printed
    if assignment == "p13-lessons":
        # the payload ran twice: unpickled in the notebook, then by the client accepting pickle
        assert printed.count("this ran while the bytes were being unpickled") == 2, printed
        # a result key lives at most result_expires (600 s) and was just written
        ttl = int(re.search(r"time to live of a result key: (\d+) s", printed).group(1))
        assert 540 <= ttl <= 600, ttl
