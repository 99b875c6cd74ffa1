"""Foundation lessons (F01-F08) show the student what they claim: each lesson is executed once in
a lab-like session and its printed output is checked; the Compose checker F01 teaches agrees with
`docker compose config` itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from celerylab_course import compose
from course_notebooks import LabSession, errors

REPO = Path(__file__).resolve().parents[2]
_EXECUTED: dict[str, str] = {}


def printed(lesson: str, tmp_path_factory) -> str:
    """Everything the lesson's code cells printed or displayed, executed once per test run."""
    if lesson not in _EXECUTED:
        session = LabSession(tmp_path_factory.mktemp(lesson), full=False)
        try:
            nb = session.execute(REPO / "source" / lesson, "lessons.ipynb")
        finally:
            session.close()
        assert errors(nb) == []
        parts = []
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                parts.append(out.get("text", ""))
                parts.append(out.get("data", {}).get("text/plain", ""))
                parts.append(out.get("data", {}).get("text/markdown", ""))
        _EXECUTED[lesson] = "\n".join(parts)
    return _EXECUTED[lesson]


# ---------------------------------------------------------------- F01


@pytest.mark.redis
def test_f01_shows_processes_messages_and_the_stack(tmp_path_factory):
    out = printed("f01-lessons", tmp_path_factory)
    expected = [
        "same process? False",  # the task ran in a worker process
        "the kernel's copy of the counter   : 0",  # no shared memory
        "caller gave up after",  # a timeout on the caller's side...
        "the worker finished anyway: sent to grace@example.com",  # ...is not a cancel
        "'argsrepr': '(2, 3)'",  # the raw protocol-2 message
        "a task id nobody ever sent: PENDING",
        "the caller sees: NotRegistered 'f01.no_such_task'",
        "visibility_timeout : 3600 s",
        "Error 111 connecting to 127.0.0.1:1. Connection refused.",
        "invalid username-password pair",
        "schema errors: []",  # the student's compose.yaml fits the Compose Specification
        "services.worker: 'depend_on' does not match any of the regexes",
        "services.flower.ports: 5555 is not of type 'array'",
        "start order: ['backend', 'broker', 'flower', 'worker']",
        "celery rules: []",
        "depends_on has a cycle: broker -> flower -> broker",
        "CELERY_BROKER_URL points at 'localhost', which is not a service",
        "Celery uses   : redis://:**@127.0.0.1",  # the environment wins over the code
        "flower   up: True",
        "Flower saw the task: f01_lesson.tasks.send_welcome_email SUCCESS",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F01 lesson output lacks {missing}"
    assert "flowchart LR" in out and "worker --> broker" in out  # the service graph is drawn


# ---------------------------------------------------------------- F02


@pytest.mark.redis
def test_f02_shows_apps_tasks_execution_and_flower_alerting(tmp_path_factory):
    out = printed("f02-lessons", tmp_path_factory)
    expected = [
        "task name: shop.defined_in_the_notebook",
        "task_default_queue: web",  # namespace="CELERY"
        "CELERY_TASK_SERIALIZER -> task_serializer",  # mixing old and new names
        "TypeError in the caller: add() missing 1 required positional argument: 'b'",
        "EncodeError in the caller: Object of type set is not JSON serializable",
        "invalid : ValueError - qty must be positive, got 0",
        "apply  : EagerResult 5 SUCCESS",
        "STARTED -> SUCCESS | result: 49",
        "after forget(): PENDING",
        "re-raised in the caller: ValueError('boom')",
        "revoked before it ran : REVOKED",
        "expired before it ran : REVOKED",
        "TimeLimitExceeded: TimeLimitExceeded(0.5)",
        "401 Unauthorized - FLOWER_UNAUTHENTICATED_API environment variable is required",
        "states Flower saw: {'FAILURE': 3, 'SUCCESS': 5}",
        "pool processes now: 3",
        "quiet period: ['ok: no new failures']",
        "ALERT CeleryTaskFailed: f02_lesson.tasks.fail failed 2 time(s) since last check",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F02 lesson output lacks {missing}"


# ---------------------------------------------------------------- F03


@pytest.mark.redis
def test_f03_shows_options_validation_retries_and_serialization(tmp_path_factory):
    out = printed("f03-lessons", tmp_path_factory)
    expected = [
        "f03.gives_up max_retries=2",  # decorator options read back from the task class
        "DuplicateTaskNameWarning",  # a decorator without functools.wraps
        "a message for cancel_order runs: invoice 42",
        "f03.reports.monthly  -> queue reports",  # task_routes by name glob
        "report 2026-11 built from queue reports",
        "messages waiting in the Redis list 'nobody': 1",  # a queue nobody consumes
        "lists: ['prio-demo', 'prio-demo<sep>3', 'prio-demo<sep>9']",  # Redis priority steps
        "soft limit after 0.3 s: cleaned up and stopped",
        "audit: failure f03.checked_area: InvalidArgument: sides must not be negative",
        "area.delay('3', 4) returned: '3333'",  # type hints are not enforced
        "valid, with qty as a string: {'sku': 'AB-1', 'total': '7.50'}",  # pydantic=True
        "the caller sees builtins.Exception",  # pydantic's error does not survive the trip
        "checked_area(True, 2): FAILURE InvalidArgument: width must be int or float, got bool",
        "sku: String should have at least 2 characters; qty: Input should be greater than 0",
        "rejected before sending (2 errors)",
        "UnpickleableExceptionWrapper",
        "f03.checked_area(width: float, height: float) -> float",
        "PENDING -> RETRY -> SUCCESS | succeeded on attempt 3",
        "audit: retry   f03.flaky because Unavailable('attempt 2 failed')",
        "no jitter, factor 2: [2, 4, 8, 16, 32, 60, 60, 60]",
        "retries needed: 4",
        "answers [503, 503, 200]: SUCCESS {'status': 200, 'attempts': 3}",
        "answers [404]: FAILURE HTTP 404: the request itself is wrong; not retried",
        "attempts spent: 4",  # autoretry_for=(Exception,) retries a permanent error
        "handled Retry on attempt 1",  # a broad except swallows the retry
        "MaxRetriesExceededError: Can't retry f03.gives_up",
        "Refusing to deserialize untrusted content of type pickle",
        "msgpack  not installed: SerializerNotInstalled",
        "EncodeError in the caller: Object of type Parcel is not JSON serializable",
        "Money Money(amount=Decimal('7.50'), currency='EUR')",  # register_type
        '"result": {"__type__": "money", "__value__": ["7.50", "EUR"]}',
        "after forget(): 0 keys | PENDING",
        "payload under its own key      :",
        "broker_url: 'redis://:********@broker:6379/0'",  # humanize(censored=True)
        "risky      : ['accepts pickle: decoding can run code', 'results never expire']",
        "lesson tasks: ['f03.too_eager retries every Exception']",
        "charged 25 to card ending 1111",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F03 lesson output lacks {missing}"
    ttl = re.search(r"result key TTL: (\d+) s", out)
    assert ttl and 3500 < int(ttl.group(1)) <= 3600, "results expire after result_expires"
    gaps = re.search(r"gaps between attempts \(s\): \[([^\]]*)\]", out)
    caps = [0.05, 0.1, 0.2, 0.4]
    # each measured gap is at most its jittered cap plus delivery time
    assert gaps and all(
        0 <= float(g) <= cap + 0.5 for g, cap in zip(gaps.group(1).split(","), caps, strict=True)
    ), gaps
    sizes = re.findall(r"^(json|msgpack|pickle|yaml) .* (\d+) bytes", out, re.MULTILINE)
    size = {name: int(n) for name, n in sizes}
    assert size["pickle"] < size["json"], size  # the comparison the lesson draws


# ---------------------------------------------------------------- F04


@pytest.mark.redis
def test_f04_shows_backends_states_progress_and_result_hygiene(tmp_path_factory):
    out = printed("f04-lessons", tmp_path_factory)
    expected = [
        '"worker": "shim-',  # result_extended stores the worker...
        "read back through AsyncResult: f04.add [20, 22] on shim-",  # ...and the arguments
        "f04.add    caused 2 backend write(s)",  # STARTED + SUCCESS
        "f04.quiet  caused 0 backend write(s)",  # ignore_result
        "this notebook listens on the task's channel",  # delay() subscribes
        "-> celery.backends.database.DatabaseBackend",  # backend classes chosen by URL
        "-> celery.backends.rpc.RPCBackend",
        "stored and read back: {'rows': 3}",
        "row: ('f04-demo-task', 'SUCCESS',",
        "the code asks for db+sqlite; the app uses: RedisBackend",  # the environment wins
        "NotImplementedError: No result backend is configured.",
        "cleanup task registered: True",
        "STARTED -> SUCCESS | slept 0.5 s",
        "STARTED info: ['hostname', 'pid']",
        "a made-up id: PENDING",
        "ready: True | successful: False | failed: True",
        "traceback's last line: ValueError: disk full",
        "get() re-raised it: ValueError('disk full')",
        "timeout 0.2 s, task of 0.4 s: returned 'slept 0.4 s'",  # a ready result wins
        "asked again: slept 1.3 s | state SUCCESS",  # the timeout did not cancel the task
        "REVOKED: TaskRevokedError: revoked",
        "after forget(): PENDING | key exists: 0",
        '"total": 6, "percent": 50, "stage": "loading"}',
        "crunch(6) caused 8 backend writes",
        "{'state': 'PROGRESS', 'percent':",
        "{'state': 'FAILURE', 'error': 'ValueError: bad input'}",
        "result: {'imported': 8, 'attempts': 2}",
        "reading the state raises ValueError: Exception information must include the exception",
        "with exc_type and exc_message: FAILURE ValueError('quota exceeded')",
        "ignored, succeeded             : PENDING",
        "errors kept, failed            : FAILURE ValueError('negative input -1')",
        "RuntimeError: Never call result.get() within a task!",
        "chain add(1, 1) | add(10) -> 12",
        "callback received 5 and returned: 105",
        "100 tasks with results: +100 keys",
        "100 tasks, ignore_result: +0 keys",
        "second request: not sent again: SUCCESS 'report 2026-11 sent'",
        "duplicate     : report 2026-11 already sent by report-2",  # the guard in the task
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F04 lesson output lacks {missing}"
    ttl = re.search(r"TTL of the first result: (\d+) s of 600", out)
    assert ttl and 500 < int(ttl.group(1)) <= 600, "results expire after result_expires"
    late = re.search(r"task of 1.3 s: TimeoutError .* after ([\d.]+) s, state STARTED", out)
    assert late and 0.2 <= float(late.group(1)) < 1.3, "get() gave up while the task ran on"
    # the retry resumed from the checkpoint: no row before the retry is reported again after it
    timeline = re.search(r"^[A-Z]+ -> .*RETRY.*$", out, re.MULTILINE)
    assert timeline, "the import's timeline shows a RETRY"
    before, after = timeline.group(0).split("RETRY", 1)
    rows_before = [int(n) for n in re.findall(r"PROGRESS\((\d+)\)", before)]
    rows_after = [int(n) for n in re.findall(r"PROGRESS\((\d+)\)", after)]
    assert rows_after and max(rows_before, default=0) <= 3 < min(rows_after), timeline.group(0)


# ---------------------------------------------------------------- F05


@pytest.mark.redis
def test_f05_shows_messages_routing_consumption_and_priorities(tmp_path_factory):
    out = printed("f05-lessons", tmp_path_factory)
    expected = [
        "'task': 'f05.media.resize'",  # the raw message's headers...
        "'argsrepr': \"('cat.png',)\"",
        "body      : ['cat.png'] {'size': 'thumbnail'} | embed keys:",
        "['callbacks', 'chain', 'chord', 'errbacks']",
        "same id in headers and result: True",
        "LLEN f05.parked -> 1",  # a queue nobody consumes keeps its message
        "SMEMBERS _kombu.binding.f05.parked -> ['f05.parked<sep><sep>f05.parked']",
        "f05.nap        while running: 0 unacked",  # early acknowledgement
        "f05.nap_late   while running: 1 unacked",  # acks_late holds the message
        "visibility timeout: 3600 s",
        "max_retries=0: OperationalError after",
        "Error 111 connecting to 127.0.0.1:1. Connection refused.",
        "kwargs={'size': 'poster'}",  # the routing function reads the arguments
        "-> f05.bulk",
        "f05.reports.build  kwargs={}",
        "'queue': 'celery', 'priority': 0",  # delivery_info seen by the worker
        "waiting: {'f05.orders.eu': 1, 'f05.orders.audit': 2}",  # a topic exchange copies
        "notify.sms   -> QueueNotFound: \"Queue 'notify' missing from task_queues\"",
        "messages waiting before and after: 1 -> 1",  # no queue bound: the message is dropped
        "waiting in f05.reports: 1 | state: PENDING",
        "after add_consumer: report monday",
        "left in Redis: 0",  # the worker reserved everything it could
        "WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL)",
        "crash_once: ran again after the crash and finished | state: SUCCESS",
        "'ok': 'add consumer f05.reprots'",  # a misspelt queue is consumed without complaint
        "active queues now: ['celery', 'f05.reprots']",
        "the high-priority tasks ran first, though sent last: True",
        "f05.media    waiting in Redis: 3",  # all priority lists counted
        "f05.reports  waiting in Redis: 1",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F05 lesson output lacks {missing}"
    active = re.search(r"active queues: (\[[^\]]*\])", out)
    assert active and "'f05.reports'" in active.group(1), "add_consumer adds the queue"
    with_retries = re.search(r"max_retries=3: OperationalError after ([\d.]+) s", out)
    assert with_retries and float(with_retries.group(1)) >= 0.3, "the retry policy waited"
    # head-of-line blocking: four 0.3 s tasks on two processes are ahead of the quick task
    same = re.search(r"same queue, sent with the burst   : waited ([\d.]+) s", out)
    assert same and float(same.group(1)) >= 0.25, "the quick task waited behind the burst"
    late = re.search(r"own queue, sent 0.1 s after burst : waited ([\d.]+) s", out)
    assert late and float(late.group(1)) >= 0.15, "a queue of its own does not free a process"


# ---------------------------------------------------------------- F06


@pytest.mark.redis
def test_f06_shows_signatures_chains_chords_and_patterns(tmp_path_factory):
    out = printed("f06-lessons", tmp_path_factory)
    expected = [
        "'subtask_type': None, 'immutable': False}",  # a signature is a dict
        "by name   : f06.add(4, 5) -> 9",
        "sig() returned: 5 | type: int",  # calling a signature runs it in the caller
        "add.s(10).delay(5)        -> 15",  # new arguments are prepended
        "notify.si(...).delay(99)  -> notified: import finished",
        "partial.clone(args=(1,)): f06.add(1, 10)",
        "| ran 0.5 s later on queue celery",  # the countdown travelled with the signature
        "same id when sent      : True | result: 42",  # freeze()
        "restored   : f06.add(1) -> 42",
        "callback : notified: 4",
        "errback  : f06.fragile",  # the errback ran in the worker
        "the parent's get() raised: add() takes 2 positional arguments but 3 were given",
        "parent state: FAILURE | callbacks sent: []",
        "(1 + 2) * 10 + 5 = 35",
        "group | sig is a _chord",
        "and carries       : [('f06.add', [5]), ('f06.mul', [10])]",  # the rest of the chain
        "TypeError in the second step: add() missing 1 required positional argument: 'b'",
        "states, last to first: ['FAILURE', 'FAILURE', 'SUCCESS']",
        "chain errback: f06.fragile",
        "a mutable step got the previous result too: notify() takes 1 positional argument",
        "results, in group order: [0, 1, 4, 9, 16, 25]",
        "naps: [0.4, 0.1, 0.2]",
        "one chain failed, the others finished: [20, ValueError('three is not allowed'), 40]",
        "ready: True | completed: 4 of 5 | failed: True",
        "restored by id: True | members: 5",
        "top words: {'the': 4, 'cat': 3, 'sat': 2}",
        "keys while running: ['celery-taskset-meta-<group>.s']",
        "immutable body: notified: album published",
        "the caller's get() raised: ValueError('three is not allowed')",
        "body state: FAILURE | a ChordError reached the errback: True",
        "group of 100  sum  9900 | new result keys: 100",
        "chunks of 25  sum  9900 | new result keys: 4",
        "starmap       sum  9900 | new result keys: 1",
        "RuntimeError: Never call result.get() within a task!",
        "sum: 10 | root id to search for in Flower:",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F06 lesson output lacks {missing}"
    ids = re.search(r"middle step saw root/parent: (\w+) / (\w+)\nfirst step's id +: (\w+)", out)
    assert ids and ids.group(1) == ids.group(2) == ids.group(3), "root and parent link the chain"
    slowest = re.search(r"total: 0.7 after ([\d.]+) s", out)
    assert slowest and float(slowest.group(1)) >= 0.6, "a chord waits for its slowest member"
    writes = [int(n) for n in re.findall(r"chord of +\d+ -> (\d+) result writes", out)]
    assert len(writes) == 2 and writes[1] - writes[0] == 15, "one write more per header member"


# ---------------------------------------------------------------- F08


@pytest.mark.redis
def test_f08_shows_failures_logs_tests_and_coverage(tmp_path_factory):
    out = printed("f08-lessons", tmp_path_factory)
    expected = [
        "stubborn(5) : TimeLimitExceeded: TimeLimitExceeded(0.8)",  # the hard limit kills it
        "crash_once: ran on delivery 2",  # acks_late + reject_on_worker_lost redelivered it
        "the errback saw : f08.charge",
        "failed: ValueError('amount must be positive, got 0')",
        "\"failure f08.refund ['B-7', 500]: ValueError('refund of 500 needs approval')\"",
        "poison row: quarantined | deliveries counted: 4",
        "resent  : imported 2",
        "revoked before it ran: REVOKED",
        "terminated while running: TaskRevokedError | REVOKED",
        "]: an info line",  # the task logger's line carries the task name and id
        "handler in the notebook ran for the worker's task: False",
        "task-failed",
        "slow(0.8) directly   : finished",  # no time limit outside a worker
        "eager, queue nobody reads: charged 5",  # eager mode ignores routing...
        "real,  queue nobody reads: PENDING | waiting in f08.nobody: 1",  # ...a worker does not
        "eager, slow(0.8)         : finished",
        "real,  slow(0.8)         : stopped cleanly",
        "a set as argument : EncodeError: Object of type set is not JSON serializable",
        "solo worker, slow(0.8)    : finished",  # the plugin's default pool ignores time limits
        "prefork worker, slow(0.8) : stopped cleanly",
        "messages left in f08.tests: 0",
        "E702 multiple statements on one line (semicolon)",
        "the lesson's own test files: 0 problems",
        "checked right after delay(): 0 item(s)",
        "checked after get()        : 1 item(s)",
        "after polling with a deadline: 5 of 5",
        "f08.import_row  acks_late without reject_on_worker_lost",
        "f08.slow        ok",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F08 lesson output lacks {missing}"
    soft = re.search(r"slow\(5\) +: stopped cleanly after ([\d.]+) s", out)  # caught in the task
    assert soft and 0.5 <= float(soft.group(1)) < 2, "the soft limit stopped a 5 s sleep early"
    assert "a debug line" not in out and "a plain logger's line" not in out  # not in tasks.log
    chain = re.findall(r"f08\.step\[([0-9a-f-]+)\]: step got (\d) \(root (\w+)\)", out)
    assert len(chain) == 3 and len({root for _, _, root in chain}) == 1, chain  # one root id
    assert chain[0][0].startswith(chain[0][2]) and len({tid for tid, _, _ in chain}) == 3
    runs = re.findall(r"^(\d+) passed", out, re.MULTILINE)
    assert runs == ["3", "6", "3", "3"], runs  # units, worker tests, integration, units again
    cover = dict(re.findall(r"^\.coverage\.(units|worker) +tasks\.py covered: (\d+)%", out, re.M))
    assert int(cover["units"]) < int(cover["worker"]), cover  # the worker runs more of tasks.py


# ---------------------------------------------------------------- F07


@pytest.mark.redis
def test_f07_shows_beat_schedules_guards_and_operations(tmp_path_factory):
    out = printed("f07-lessons", tmp_path_factory)
    expected = [
        "beat log: INFO: Scheduler: Sending due task tick (f07.tick)",
        "keys: ['__version__', 'entries', 'tz', 'utc_enabled']",  # the schedule file
        "the run of a misspelt entry: NotRegistered 'f07.tik'",
        "entries whose task is not registered: []",
        "schedule '30': AttributeError 'str' object has no attribute 'app'",
        "relative=False -> next run at 11:17",
        "relative=True  -> next run at 11:00",  # rounded down to the hour
        "weekdays at 07:00       -> ['Fri 04 07:00', 'Mon 07 07:00', 'Tue 08 07:00']",
        "hour=7 without minute   -> ['Fri 04 07:00', 'Fri 04 07:01', 'Fri 04 07:02']",
        "Valid range is 0-6. '7' was found.",  # Unix cron's Sunday=7 is rejected
        "You need to install the ephem library to use solar schedules.",
        "crontab(hour=7) with timezone Europe/Berlin     fires at 06:00 UTC",
        "no timezone set: UTC | enable_utc: True",
        "Mon 07:00: due True  next check in 1 day, 0:00:00",
        "next day: report 2026-12-09: built",
        "['ran', 'skipped: another run holds the lock']",
        "LockNotOwnedError - Cannot release a lock that's no longer owned",
        "expires=0.3: REVOKED | expires=30: SUCCESS",
        "every 10 min, last run 00:50     : schedstate(is_due=True, next=600.0)",  # one catch-up
        "daily 02:00, no deadline         : due True",
        "daily 02:00, 120 s deadline      : due False",
        "refreshed by the fan-out: 25",
        "WARNING: Reset: Timezone changed from 'Europe/Berlin' to 'UTC'",
        "tick runs so far after the change: 0",
        "typo: task 'f07.dijest' is not registered",
        "'tick every 10 minutes'      -> 600.0",  # and only one digest entry: same default name
        "1.2 s later         : {'tick': 'STALE",
        "a job that never ran: {'nightly': 'never ran'}",
        "1 beat(s): runs closer than 0.25 s: 0 -> ok",
        "test passed: weekdays only, 07:00 Berlin time",
        "sends at: ['09:05', '09:10', '09:15', '09:20', '09:25', '09:30']",
        "spring forward: fires at 01:30 UTC = 03:30 CEST on the wall clock",
        "fall back     : fires at 00:30 UTC = 02:30 CEST on the wall clock",
        "fall back, at the second 02:30: due again? False",
        "every 24 h from Sat 07:00 -> Sun 08:00 CEST",
        "crontab 07:00 from Sat    -> Sun 07:00 CEST",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"F07 lesson output lacks {missing}"
    one = re.search(r"one beat sent (\d+) ticks \| the worker ran (\d+)", out)
    assert one and one.group(1) == one.group(2) != "0", "the worker runs what beat sends"
    two = re.search(r"each beat sent: \[(\d+), (\d+)\] -> the worker ran (\d+) ticks", out)
    assert two and int(two.group(3)) == int(two.group(1)) + int(two.group(2)), "two beats add up"
    assert int(two.group(1)) > 0 and int(two.group(2)) > 0, "each beat sends its own ticks"
    pairs = re.search(r"2 beat\(s\): runs closer than 0.25 s: (\d+) -> duplicate beat\?", out)
    assert pairs and int(pairs.group(1)) >= 1, "two beats show as close pairs of runs"
    built = re.findall(r"report 2026-12-08: (built|already built, skipped)", out)
    assert sorted(built) == ["already built, skipped"] * 3 + ["built"], "one build per day"
    assert out.count("\"f07.digest('sales')\"") == 1, "the evening entry replaced the morning one"


# ---------------------------------------------------------------- the Compose checker

GOOD = """
services:
  broker: {image: "redis:7"}
  worker:
    image: app
    command: celery -A proj worker
    environment: {CELERY_BROKER_URL: "redis://broker:6379/0"}
    depends_on: [broker]
"""
BROKEN = {
    "misspelt key": GOOD.replace("depends_on", "depend_on"),
    "port as a number": GOOD + "    ports: 5555\n",
    "list as an environment value": GOOD.replace(
        '{CELERY_BROKER_URL: "redis://broker:6379/0"}', '{CELERY_BROKER_URL: ["a", "b"]}'
    ),
    "unknown top-level key": GOOD + "servces: {}\n",
}


def _docker_compose() -> list[str]:
    """`docker compose` (the Compose v2 plugin); only parses files, so no daemon is needed."""
    docker = shutil.which("docker")
    ok = (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    )
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail("docker compose is needed to cross-check the Compose schema under CI")
        pytest.skip("docker compose is not installed")
    return [docker, "compose"]


@pytest.mark.parametrize("case", ["good", *BROKEN])
def test_schema_agrees_with_docker_compose(case, tmp_path):
    text = GOOD if case == "good" else BROKEN[case]
    file = tmp_path / "compose.yaml"
    file.write_text(text)
    ours = compose.schema_errors(compose.load(file))
    theirs = subprocess.run(
        [*_docker_compose(), "-f", str(file), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (ours == []) == (theirs.returncode == 0), (case, ours, theirs.stderr)


def test_graph_checks_catch_unknown_services_cycles_and_localhost(tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(GOOD)
    doc = compose.load(file)
    assert compose.start_order(doc) == ["broker", "worker"]
    assert compose.celery_stack_problems(doc) == [
        "no service runs `celery ... flower`",
        "worker does not set CELERY_RESULT_BACKEND",
    ]
    doc["services"]["broker"]["depends_on"] = ["worker", "cache"]
    found = compose.graph_problems(doc)
    assert "broker depends on cache, which is not a service" in found
    assert any("cycle" in p for p in found)
    with pytest.raises(compose.ComposeError):
        compose.start_order(doc)
    doc["services"]["worker"]["environment"]["CELERY_BROKER_URL"] = "redis://localhost/0"
    assert "worker: CELERY_BROKER_URL points at 'localhost', which is not a service" in (
        compose.celery_stack_problems(doc)
    )
