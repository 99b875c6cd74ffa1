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
# The Track A lessons written to issue 22's section layout so far.
MODULES = {"a1": "A1-DJANGO-INT", "a2": "A2-DJANGO-SCHEDULING", "a3": "A3-DJANGO-REALTIME"}
MODULES["a4"] = "A4-DJANGO-DEPLOYMENT"  # issue 22, A4 (its block is at the end)


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


def _executed(tmp: Path, short: str) -> str:
    session = LabSession(tmp, full=False)
    try:
        nb = session.execute(REPO / "source" / f"{short}-lessons", "lessons.ipynb")
    finally:
        session.close()
    assert errors(nb) == []
    return outputs(nb)


@pytest.fixture(scope="module")
def a1_output(tmp_path_factory):
    return _executed(tmp_path_factory.mktemp("a1"), "a1")


@pytest.fixture(scope="module")
def a2_output(tmp_path_factory):
    return _executed(tmp_path_factory.mktemp("a2"), "a2")


@pytest.fixture(scope="module")
def a3_output(tmp_path_factory):
    return _executed(tmp_path_factory.mktemp("a3"), "a3")


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
    "settings: the environment wins over settings": (
        "the settings value        : redis://settings-host:6379/0"
    ),
    "settings: a settings typo": "No module named 'shop.setings'",
    "settings: a pickled message is refused by a JSON-only worker": (
        "ContentDisallowed: Refusing to deserialize untrusted content of type pickle"
    ),
    "settings: an annotation wins over the decorator": (
        "report time_limit   : 30 (the decorator said 5)"
    ),
    "settings: an annotation sets a rate limit": "add_stock rate_limit: 10/s",
    "queries: an index turns a scan into a search": "USING INDEX order_status_created_idx",
    "management command: requeued every pending order": "pending orders now: 0",
    "validation: the system check catches pickle": "(orders.E001) Celery must accept JSON only",
    "admin: the action enqueues": "message: ['Sent 2 restock tasks']",
    "admin: a view-only clerk has no action": "clerk's actions: []",
    "admin: a forged POST sends nothing": "tasks sent: 0",
    "admin: no TaskResult rows with a Redis backend": "RedisBackend | TaskResult rows: 0",
    "admin: two backend reads per row": "per row)",
    "admin: a forgotten result reads as PENDING": "state now: PENDING",
    "admin: PENDING also means never sent": "an id that was never sent: PENDING",
    "testing: a failing task under apply()": "state: FAILURE | exception: DoesNotExist",
    "testing: a mock accepts an instance": "the mock accepted: call(<Product: ",
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
    plans = re.search(r"without an index: (.*)\nwith the index  : (.*)", a1_output)
    assert plans and "SCAN" in plans[1] and "SEARCH" in plans[2], "the index changes the plan"
    reads = re.search(r"made (\d+) result-backend reads \((\d+) per row\)", a1_output)
    assert reads and int(reads[2]) == 2, "the changelist reads the backend twice per row"


A2_SEEN = {
    "models: str(dict) is not JSON": "what beat will hit: JSONDecodeError",
    "models: clocked entries must be one-off": "clocked must be one off, one_off must set True",
    "models: an entry needs a schedule": "One of clocked, interval, crontab, or solar must be set.",
    "beat: an overdue entry is due once": "last run yesterday   due=True",
    "beat: a fresh entry is not due": "last run just now    due=False",
    "time zones: the missing spring hour": "round trip: 2026-03-29T03:30:00+02:00",
    "time zones: the doubled autumn hour": "happens at 00:30 UTC and 01:30 UTC",
    "locks: a second beat is refused": "beat B tries          : None",
    "health: a silent beat is unhealthy": "silent 10 min : (False",
    "scale: one fan-out, one report per tenant": "[('acme', 10), ('globex', 20), ('initech', 30)]",
    "scale: a late task is discarded": "state: REVOKED | report written: False",
    "results: extended results name the task": "name: tenants.tasks.report | args: [2",
    "results: a TaskResult row as the admin lists it": "tenants.tasks.report SUCCESS true",
    "idempotency: duplicates create nothing": "created by the duplicates: [False, False, False]",
    "catch-up: missing days are found": "days with missing reports: ['2026-03-03', '2026-03-04']",
    "audit: no day is short after catch-up": "days short: []",
    "models: beat disables an entry it cannot parse": "after beat loaded it: enabled = False",
    "models: a settings entry shares the crontab row": (
        "shares the nightly CrontabSchedule row: True"
    ),
    "models: mon-fri skips the weekend": "weekdays 09:30  next run: Mon 09 Mar 09:30",
    "models: day_of_month and day_of_week must both match": (
        "1st AND Monday  next run: Mon 01 Jun 01:00"
    ),
    "models: the admin's permissions": (
        "'change_periodictask', 'delete_periodictask', 'view_periodictask'"
    ),
    "models: disabling clears last_run_at": "disabled, last run  : None",
    "beat: a send is recorded in memory first": "total_run_count in memory 1, in the database 0",
    "beat: sync writes it": "after sync(): in the database 1",
    "time zones: the spring run comes an hour late": "29 Mar (spring): ['01:30 UTC = 03:30 CEST']",
    "time zones: the autumn run happens once": "25 Oct (autumn): ['00:30 UTC = 02:30 CEST']",
    "health: the worker answers ping": "{'ok': 'pong'}",
    "health: beat's remote-control node": (
        "beat would answer as: celerybeat@lab-host | enabled here: False"
    ),
    "scale: an entry's routing reaches the message": (
        "{'queue': 'scheduling', 'priority': 3, 'headers': {'periodic_task_name': 'lesson-routed'}}"
    ),
    "scale: chunks send fewer messages": "messages sent: 2 for 3 reports",
    "scale: a chunk's result is a list": "results per chunk: [[True, True], [True]]",
    "results: an unknown id is PENDING and writes nothing": (
        "an id nobody sent: PENDING | rows for it: 0"
    ),
    "results: filtered by the beat entry": (
        "filter by schedule: [('tenants.tasks.report', 'SUCCESS')]"
    ),
    "results: a saved group restored by id": "members restored: [True, True] | GroupResult rows: 1",
    "results: cleanup deletes an aged row": "after ageing the row two days and cleaning up: 0 rows",
    "duplicates: a restarted beat sends again": "restarted  : due = True -> sends it again",
    "duplicates: one dedup key per effect": "three deliveries of one mail: [True, False, False]",
    "catch-up: bounded per run": (
        "repaired in this run: ['2026-03-06', '2026-03-07'] | left for the next run: "
        "['2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11']"
    ),
}


@pytest.mark.redis
@pytest.mark.parametrize("what", sorted(A2_SEEN))
def test_a2_student_sees(a2_output, what):
    assert A2_SEEN[what] in a2_output, f"{what}: expected {A2_SEEN[what]!r} in the lesson's output"


@pytest.mark.redis
def test_a2_result_expiry_is_visible(a2_output):
    ttl = re.search(r"\| TTL: (-?\d+) s", a2_output)
    assert ttl and 0 < int(ttl[1]) <= 86400, "the result's Redis key carries result_expires as TTL"


@pytest.mark.redis
def test_a2_numbers_that_teach(a2_output):
    loaded = r": (\d+) entries loaded in \d+ ms, (\d+) queries"
    more = re.search(r"with 200 more entries" + loaded, a2_output)
    fewer = re.search(r"after deleting them  " + loaded, a2_output)
    assert more and fewer and int(more[1]) - int(fewer[1]) == 200, "the reload sees the 200 entries"
    assert more[2] == fewer[2], "a reload's query count does not grow with the entries"
    per_report = re.search(
        r"one report: (\d+) queries \| 10,000 tenants over 600 s: (\d+) queries/s", a2_output
    )
    assert per_report and int(per_report[2]) == round(int(per_report[1]) * 10_000 / 600)


A3_SEEN = {
    "progress: update_state outside a task": (
        "ValueError - task_id must not be empty. Got None instead."
    ),
    "progress: the final state overwrites progress": "result backend entry : SUCCESS (progress was",
    "progress: an own hash with its own TTL": "| TTL 3600 s",
    "progress: a never-sent id": "never-sent id reads  : PENDING",
    "granularity: fewer writes": "every=25:  2 progress writes",
    "groups: completed_count to the end": "of 4",
    "cancellation: the flag stops the task": "'cancelled': True}",
    "cancellation: a queued task is revoked": "queued run: REVOKED",
    "polling: started through the view": "start: 202 {'task_id': ",
    "polling: the endpoint is not cacheable": (
        "Cache-Control: no-store | Content-Type: application/json"
    ),
    "sse: the stream's content type": "Content-Type: text/event-stream",
    "sse: the retry field first": "'retry: 2000'",
    "sse: resumed without repeats": "no step repeated: True",
    "asgi: Django answered over ASGI": (
        "['http.response.start', 'http.response.body'] | status: 200"
    ),
    "layer: nobody listens, nothing arrives": (
        "subscribers reached by a message to an empty group: 0"
    ),
    "layer: a listener receives": 'what the page receives: {"done": 2}',
    "websocket: every step reached the socket": "frames: [1, 2, 3, 4, 5]",
    "websocket: accepted, sent, closed": "['websocket.accept', 'websocket.send'",
    "auth: the job is bound to its owner": "| owner: alice | steps: 5 | task id matches: True",
    "auth: anonymous start refused": "anonymous start: 403",
    "auth: the owner may": "alice     progress, events, cancel: [200, 200, 200]",
    "auth: another user may not": "bob       progress, events, cancel: [403, 403, 403]",
    "auth: anonymous may not": "anonymous progress, events, cancel: [403, 403, 403]",
    "auth: unknown id": "unknown id: 404",
    "share: a token reads back": "read back  : True",
    "share: a tampered token": "tampered   -> BadSignature: Signature",
    "share: an old token": "too old    -> SignatureExpired: Signature age",
    "expiry: forget deletes the result": "after forget : exists 0 | state PENDING",
    "throttle: unthrottled writes every step": "min_interval=0   : 50 progress writes for 50 steps",
    "testing: the end-to-end tests pass": "passed: test_a_stranger_cannot_follow_it",
    "load: every stream saw the end": "streams that saw SUCCESS: 10 of 10",
}


@pytest.mark.redis
@pytest.mark.parametrize("what", sorted(A3_SEEN))
def test_a3_student_sees(a3_output, what):
    assert A3_SEEN[what] in a3_output, f"{what}: expected {A3_SEEN[what]!r} in the lesson's output"


@pytest.mark.redis
def test_a3_numbers_that_teach(a3_output):
    reads = r"20 watchers, direct reads: (\d+) \| through the shared cache: (\d+)"
    watchers = re.search(reads, a3_output)
    assert watchers and int(watchers[2]) * 3 < int(watchers[1]), "the shared cache cuts reads"
    writes = r"min_interval=\S+\s*: *(\d+) progress writes"
    throttled = [int(n) for n in re.findall(writes, a3_output)]
    assert len(throttled) == 3 and throttled[0] == 50 and throttled[2] < throttled[1] < 50
    ten = re.search(r"backend reads for all ten: (\d+)", a3_output)
    assert ten and int(ten[1]) < 50, "ten streams share one task's reads"


# --- A4 (deployment) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def a4_output(tmp_path_factory):
    return _executed(tmp_path_factory.mktemp("a4"), "a4")


A4_SEEN = {
    "packaging: SIGTERM reaches an exec-form worker": (
        "worker: got SIGTERM, warm shutdown | nothing left running"
    ),
    "packaging: a shell without exec swallows it": (
        "worker: (nothing: it never saw the signal) | the worker was still running"
    ),
    "packaging: a required setting is missing": "ImproperlyConfigured: set DEPOT_PAYMENT_KEY",
    "packaging: a misspelt -A module": (
        "ModuleNotFoundError: No module named 'depot_web' | missing module: depot_web"
    ),
    "packaging: the right -A module loads": "the right name loads: <Celery depot at 0x",
    "packaging: web health and readiness": "web  /readyz : 200 {'pending_migrations': []}",
    "packaging: the worker answers ping": "{'ok': 'pong'}",
    "migrations: an early contract breaks old code": (
        "after the contract, the old query: OperationalError - no such column: key"
    ),
    "migrations: a v1 message on v2 code": "a v1 message on v2 code : order 7 by post",
    "migrations: an unknown argument": "unexpected keyword argument 'insured'",
    "migrations: a drained queue keeps the message": (
        "messages waiting in 'depot': 1 | state: PENDING"
    ),
    "migrations: the queue read by task name": "waiting: jobs.tasks.ship (21,) {'carrier': 'dhl'}",
    "migrations: an ETA task is held by the worker": (
        "in the queue: 0 | held by the worker: ['jobs.tasks.ship'] | in Redis's unacked hash: 1"
    ),
    "migrations: acks_late and prefetch from the worker": (
        "'CELERY_TASK_ACKS_LATE': True, 'CELERY_TASK_REJECT_ON_WORKER_LOST': True"
    ),
    "configuration: a secret file": "read from the mounted file: s3cr3t...",
    "configuration: the dump censors the password": "broker_url: 'redis://:********@redis.internal",
    "configuration: kombu's visibility timeout": "visibility_timeout: kombu's default 3600 s",
    "configuration: the environment wins": "CELERY_BROKER_URL in the environment wins: True",
    "configuration: an unreachable broker": (
        "OperationalError - Error 111 connecting to 127.0.0.1:1"
    ),
    "configuration: Celery closes connections between tasks": (
        "{'CONN_MAX_AGE': 60, 'open at start': False}"
    ),
    "configuration: the deploy check's error": "errors  : ['async.E001']",
    "configuration: check --deploy stops": "manage.py check --deploy -> SystemCheckError",
    "monitoring: the task log format": "INFO jobs.tasks.ship[3f6c0b0e-demo]: shipped order 7",
    "monitoring: a request id in a header": "the task read from its request: req-42",
    "monitoring: task_failure reports": "failed: TypeError: ship() got an unexpected keyword",
    "monitoring: a burst in the queue": "queue length during the burst: 20",
    "monitoring: LLEN misses priorities": "LLEN depot: 0 | every priority level: 1",
    "rollouts: a canary queue waits": "waiting in depot-canary: 2 | states: ['PENDING', 'PENDING']",
    "rollouts: the canary slice grows without moving anyone": "the 5% are inside the 50%: True",
    "rollouts: an unknown task after a rollback": "FAILURE | NotRegistered | still queued: 0",
    "rollouts: the smoke test": "smoke test passed: {'depot': 'unset'}",
    "rollouts: a revoked task": "the revoked task: REVOKED | TaskRevokedError",
}


@pytest.mark.redis
@pytest.mark.parametrize("what", sorted(A4_SEEN))
def test_a4_student_sees(a4_output, what):
    assert A4_SEEN[what] in a4_output, f"{what}: expected {A4_SEEN[what]!r} in the lesson's output"


@pytest.mark.redis
def test_a4_numbers_that_teach(a4_output):
    runs = re.findall(r"'open at start': (True|False)", a4_output)
    assert runs == ["False"] * 3, "three runs on two processes, none found a connection left open"
    shares = re.findall(r"share \d+%: (\d+) of 1000 tenants", a4_output)
    assert len(shares) == 2 and 20 < int(shares[0]) < 80 and 400 < int(shares[1]) < 600
    assert "queue length after the worker caught up: 0" in a4_output
    assert "after the worker took it: 0 | True" in a4_output
