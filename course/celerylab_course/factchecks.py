"""Bank and exam-pool keys that running Celery can settle, settled by running it.

Each check runs the installed (pinned) Celery against a real Redis and returns what it observed:
for a True/False item, whether the statement holds; for a choice item, a phrase the right
option must contain; for a fill-in item, an answer the item must accept. Each check takes under
5 s. tests/course/test_assessment_integrity.py runs every check against a
redis-server and fails when the bank's key disagrees, so a key cannot drift from the Celery the
labs run. Add a check here when you write an item a few lines of Celery can decide.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal

from celery import Celery, chord
from celery.contrib.testing.worker import start_worker

TIMEOUT = 20


@contextmanager
def _app(redis_url: str, **conf) -> Iterator[Celery]:
    """A fresh app on its own queue, so parallel checks and stale messages cannot meet.

    Its tasks are declared ``shared=False``: Celery adds a shared task to every app finalized
    later, so two checks' tasks of one name (``slow``) would meet in the second check's app.
    """
    app = Celery(f"factcheck-{uuid.uuid4().hex[:8]}", broker=redis_url, backend=redis_url)
    queue = f"factcheck-{uuid.uuid4().hex}"
    app.conf.update(task_default_queue=queue, broker_connection_retry_on_startup=True, **conf)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def _worker(app: Celery) -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def decimal_round_trips(redis_url: str) -> bool:
    """f03-q07: a Decimal result comes back as an equal Decimal through the JSON serializer."""
    with _app(redis_url) as app:

        @app.task(shared=False)
        def price() -> Decimal:
            return Decimal("19.99")

        with _worker(app):
            got = price.delay().get(timeout=TIMEOUT)
    return isinstance(got, Decimal) and got == Decimal("19.99")


def environment_overrides_config(redis_url: str) -> str:
    """f02-q03: CELERY_BROKER_URL and CELERY_RESULT_BACKEND win over URLs set in code."""
    saved = {k: os.environ.get(k) for k in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = redis_url
    try:
        nowhere = "redis://127.0.0.1:1/0"  # nothing listens on port 1
        app = Celery("factcheck-env", broker=nowhere, backend=nowhere)
        used = (app.connection_for_write().as_uri(), app.backend.url or "")
        app.close()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    if all(f":{port}/" in u for u in used):
        return "reads them as the broker and result backend URLs"
    return "you must pass `broker=` and `backend=` explicitly"


def runs_without_result_backend(redis_url: str) -> bool:
    """f01-q07: a worker executes tasks when the app has no result backend."""
    import redis

    key = f"factcheck-ran-{uuid.uuid4().hex}"
    app = Celery(f"factcheck-{uuid.uuid4().hex[:8]}", broker=redis_url)
    app.conf.update(task_default_queue=key, broker_connection_retry_on_startup=True)

    @app.task(shared=False)
    def mark() -> None:
        redis.Redis.from_url(redis_url).set(key, "1")

    client = redis.Redis.from_url(redis_url)
    with _worker(app):
        mark.delay()
        for _ in range(TIMEOUT * 10):
            if client.get(key):
                break
            import time

            time.sleep(0.1)
    app.close()
    return client.get(key) == b"1"


def direct_call_sends_message(redis_url: str) -> bool:
    """f02-q06: calling a task function directly sends it to a worker (it runs in the caller)."""
    import redis

    with _app(redis_url) as app:

        @app.task(shared=False)
        def add(a: int, b: int) -> int:
            return a + b

        result = add(2, 3)
        queued = redis.Redis.from_url(redis_url).llen(app.conf.task_default_queue)
    return not (result == 5 and queued == 0)


def retry_exhausted_raises_exc(redis_url: str) -> bool:
    """f03-q06: with max_retries used up, self.retry(exc=e) raises e and the task FAILs with it."""
    with _app(redis_url) as app:

        @app.task(shared=False, bind=True, max_retries=0)
        def flaky(self) -> None:
            try:
                raise ConnectionError("down")
            except ConnectionError as e:
                raise self.retry(exc=e, countdown=0) from e

        with _worker(app):
            r = flaky.delay()
            with suppress(ConnectionError):
                r.get(timeout=TIMEOUT)
            state, exc = r.state, r.result
    return state == "FAILURE" and isinstance(exc, ConnectionError)


def track_started_reports_started(redis_url: str) -> bool:
    """f04-q06: with task_track_started=True a running task's state is STARTED."""
    import threading

    release = threading.Event()
    with _app(redis_url, task_track_started=True) as app:

        @app.task(shared=False)
        def slow() -> None:
            release.wait(TIMEOUT)

        with _worker(app):
            r = slow.delay()
            states = set()
            for _ in range(TIMEOUT * 10):
                states.add(r.state)
                if "STARTED" in states:
                    break
                release.wait(0.1)
            release.set()
            r.get(timeout=TIMEOUT)
    return "STARTED" in states


def unconsumed_queue_raises(redis_url: str) -> bool:
    """f05-q06: sending to a queue no worker consumes raises in the caller (it does not)."""
    with _app(redis_url) as app:

        @app.task(shared=False)
        def noop() -> None:
            return None

        try:
            noop.apply_async(queue=f"nobody-{uuid.uuid4().hex}")
        except Exception:  # any error in the caller makes the statement true
            return True
    return False


def chord_body_runs_after_failure(redis_url: str) -> bool:
    """f06-q06: a chord's body still runs when one header task fails (it does not)."""
    import redis

    key = f"factcheck-body-{uuid.uuid4().hex}"
    with _app(redis_url) as app:

        @app.task(shared=False)
        def part(n: int) -> int:
            if n == 2:
                raise ValueError("bad part")
            return n

        @app.task(shared=False)
        def body(results) -> None:
            redis.Redis.from_url(redis_url).set(key, "1")

        with _worker(app):
            r = chord([part.s(n) for n in range(4)])(body.s())
            with suppress(Exception):  # the chord's failure is expected
                r.get(timeout=TIMEOUT)
    return redis.Redis.from_url(redis_url).get(key) == b"1"


def unknown_id_is_pending(redis_url: str) -> bool:
    """xa3-q04: the state of a task id that was never sent is PENDING."""
    from celery.result import AsyncResult

    with _app(redis_url) as app:
        return AsyncResult(uuid.uuid4().hex, app=app).state == "PENDING"


def default_queue_is_celery(redis_url: str) -> bool:
    """xe15-q04: a task sent without routing goes to the queue "celery" by default."""
    app = Celery(f"factcheck-{uuid.uuid4().hex[:8]}", broker=redis_url)
    try:
        queue = app.amqp.router.route({}, "factcheck.any")["queue"]
        return queue.name == "celery"
    finally:
        app.close()


def router_none_falls_through(redis_url: str) -> bool:
    """xe15-q05: a router returning None lets the next router decide."""
    with _app(redis_url) as app:
        app.conf.task_routes = (
            lambda name, args, kwargs, options, task=None, **kw: None,
            {"factcheck.*": {"queue": "second"}},
        )
        return app.amqp.router.route({}, "factcheck.any")["queue"].name == "second"


def first_attempt_has_no_retries(redis_url: str) -> bool:
    """xe16-q04: self.request.retries is 0 during a bound task's first attempt."""
    with _app(redis_url) as app:

        @app.task(shared=False, bind=True)
        def attempt(self) -> int:
            return self.request.retries

        with _worker(app):
            return attempt.delay().get(timeout=TIMEOUT) == 0


def task_subclass_registers(redis_url: str) -> bool:
    """xe16-q05: defining a subclass of app.Task registers it as a task (it does not)."""
    with _app(redis_url) as app:

        class Audited(app.Task):
            name = "factcheck.audited"

            def run(self) -> None:
                return None

        return Audited.name in app.tasks


def prefetch_is_multiplier_times_concurrency(redis_url: str) -> bool:
    """xe18-q04: with concurrency 8 and worker_prefetch_multiplier 4, a worker reserves up to 32."""
    with (
        _app(redis_url, worker_prefetch_multiplier=4) as app,
        start_worker(
            app, pool="threads", concurrency=8, perform_ping_check=False, shutdown_timeout=10
        ) as worker,
    ):
        return worker.consumer.qos.value == 32


def revoke_leaves_running_task(redis_url: str) -> bool:
    """xe19-q03: revoke(tid) without terminate=True stops that task if it is already running."""
    import time

    from redis import Redis

    flags = Redis.from_url(redis_url)
    started = f"factcheck-started-{uuid.uuid4().hex}"
    with _app(redis_url) as app:

        @app.task(shared=False)
        def slow(flag: str) -> str:
            Redis.from_url(redis_url).set(flag, 1, ex=60)
            time.sleep(1.5)
            return "finished"

        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10
        ):
            result = slow.delay(started)
            deadline = time.monotonic() + TIMEOUT
            while not flags.exists(started):
                if time.monotonic() > deadline:
                    raise TimeoutError("the task never started")
                time.sleep(0.05)
            app.control.revoke(result.id)
            try:
                finished = result.get(timeout=TIMEOUT) == "finished"
            except Exception:  # revoked, or anything else: it did not run to its end
                finished = False
    return not finished


def _llen(redis_url: str, queue: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).llen(queue)


def autoscale_keeps_bounds(redis_url: str) -> bool:
    """xa4-q04, p14-q05: `--autoscale=10,3` bounds the pool at 10 processes and at 3, and the pool
    starts at the lower bound (the worker is built as the CLI builds it, not started: the
    autoscaler's own loop grows and shrinks it between the bounds it holds)."""
    with _app(redis_url) as app:
        worker = app.WorkController(
            pool_cls="prefork", autoscale="10,3", without_mingle=True, without_gossip=True
        )
        scaler = worker.autoscaler
        return (scaler.max_concurrency, scaler.min_concurrency, worker.pool.limit) == (10, 3, 3)


def _one_result_key(redis_url: str, **conf) -> str:
    """Run a task that returns 1 on an app with `conf`; the Redis key its result was stored at."""
    with _app(redis_url, **conf) as app:

        @app.task(shared=False)
        def one() -> int:
            return 1

        with _worker(app):
            r = one.delay()
            r.get(timeout=TIMEOUT)
    return f"celery-task-meta-{r.id}"


def results_expire_after_a_day(redis_url: str) -> bool:
    """xf04-q03: a result stored in the Redis backend expires after one day by default."""
    import redis

    ttl = redis.Redis.from_url(redis_url).ttl(_one_result_key(redis_url))
    return 86400 - 60 < ttl <= 86400


def returned_task_state(redis_url: str) -> str:
    """xa3-q06: the state of a task that returned without an error."""
    with _app(redis_url) as app:

        @app.task(shared=False)
        def one() -> int:
            return 1

        with _worker(app):
            r = one.delay()
            r.get(timeout=TIMEOUT)
            return r.state


def task_option_beats_app_setting(redis_url: str) -> str:
    """xe15-q03: acks_late given to the task wins over task_acks_late=False in the config."""
    with _app(redis_url, task_acks_late=False) as app:

        @app.task(shared=False, acks_late=True)
        def job() -> None:
            return None

        return "Late" if job.acks_late else "Early"


def glob_route(redis_url: str) -> str:
    """xe15-q02: a task_routes key with a glob routes every task whose name it matches."""
    with _app(redis_url, task_routes={"billing.*": {"queue": "billing"}}) as app:
        queue = app.amqp.router.route({}, "billing.charge")["queue"].name
    return "{'billing.*': {'queue': 'billing'}}" if queue == "billing" else "no glob"


def named_route(redis_url: str) -> str:
    """xf05-q01: task_routes by task name sends the call to that queue."""
    with _app(redis_url, task_routes={"shop.tasks.resize": {"queue": "images"}}) as app:
        queue = app.amqp.router.route({}, "shop.tasks.resize")["queue"].name
    return f"`{queue}` queue"


def _chain_app(app: Celery):
    import redis

    @app.task(shared=False)
    def add(a: int, b: int) -> int:
        return a + b

    @app.task(shared=False)
    def mul(x: int, y: int) -> int:
        redis.Redis.from_url(app.conf.broker_url).set(f"{app.main}-mul", repr((x, y)), ex=60)
        return x * y

    @app.task(shared=False)
    def echo(*args) -> tuple:
        return args

    return add, mul, echo


def chain_result(redis_url: str) -> str:
    """xf06-q01: chain(add.s(2, 2), mul.s(10))() passes 4 to mul as its first argument."""
    with _app(redis_url) as app:
        add, mul, _ = _chain_app(app)
        with _worker(app):
            return str((add.s(2, 2) | mul.s(10))().get(timeout=TIMEOUT))


def chain_arguments(redis_url: str) -> str:
    """f06-q02: in (add.s(1, 2) | mul.s(10)), mul receives the previous result first."""
    import redis

    with _app(redis_url) as app:
        add, mul, _ = _chain_app(app)
        with _worker(app):
            (add.s(1, 2) | mul.s(10))().get(timeout=TIMEOUT)
        return redis.Redis.from_url(redis_url).get(f"{app.main}-mul").decode()


def immutable_gets_previous_result(redis_url: str) -> bool:
    """p09-q07: an immutable signature (.si) in a chain receives the previous result (no)."""
    with _app(redis_url) as app:
        add, _, echo = _chain_app(app)
        with _worker(app):
            got = (add.s(1, 2) | echo.si(9))().get(timeout=TIMEOUT)
    return list(got) != [9]


def chord_body_gets_header_order(redis_url: str) -> bool:
    """xp09-q05: a chord's body gets the header's results in header order, whatever order the
    tasks finished in (the first header task here finishes last)."""
    import time

    with _app(redis_url) as app:

        @app.task(shared=False)
        def late(n: int) -> int:
            time.sleep(0.2 * (3 - n))
            return n

        @app.task(shared=False)
        def collect(results) -> list:
            return results

        with start_worker(
            app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10
        ):
            got = chord([late.s(n) for n in range(4)])(collect.s()).get(timeout=TIMEOUT)
    return got == [0, 1, 2, 3]


def chord_body_calls(redis_url: str) -> int:
    """p09-q10: a chord of 40 succeeding header tasks calls its body once."""
    import redis

    key = f"factcheck-body-{uuid.uuid4().hex}"
    with _app(redis_url) as app:

        @app.task(shared=False)
        def validate(n: int) -> int:
            return n

        @app.task(shared=False)
        def load(results) -> int:
            return redis.Redis.from_url(redis_url).incr(key)

        with _worker(app):
            chord(validate.s(n) for n in range(40))(load.s()).get(timeout=TIMEOUT)
    count = redis.Redis.from_url(redis_url).get(key)
    return int(count or 0)


def group_then_task_gets_list(redis_url: str) -> str:
    """xp09-q01: in chain(a.s(), group(b.s(), c.s()), d.s()), d receives the group's results."""
    from celery import chain, group

    with _app(redis_url) as app:
        add, _, echo = _chain_app(app)
        with _worker(app):
            got = chain(add.s(1, 1), group(add.s(1), add.s(2)), echo.s()).delay()
            args = got.get(timeout=TIMEOUT)
    return "A list of the results" if list(args) == [[3, 4]] else repr(args)


def get_inside_task_allowed(redis_url: str) -> bool:
    """xp09-q04, f04-q07: a task may wait on .get() of a task it started (by default it may not,
    timeout or not: Celery raises RuntimeError). start_worker switches off the guard a real
    worker's pool bootstep switches on (pool.task_join_will_block), so it is put back here."""
    import time

    from celery.result import _set_task_join_will_block

    with _app(redis_url) as app:

        @app.task(shared=False)
        def sub() -> int:
            return 1

        @app.task(shared=False)
        def outer() -> str:
            try:
                sub.delay().get(timeout=1)
            except RuntimeError:
                return "refused"
            return "waited"

        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10
        ) as worker:
            _set_task_join_will_block(worker.pool.task_join_will_block)
            try:
                r = outer.delay()
                deadline = time.monotonic() + TIMEOUT
                while r.state not in ("SUCCESS", "FAILURE") and time.monotonic() < deadline:
                    time.sleep(0.05)  # polled: .get() here would meet the same guard
                return r.result == "waited"
            finally:
                _set_task_join_will_block(False)


def starmap_messages(redis_url: str) -> str:
    """xp09-q03: add.starmap([...]).delay() sends one task message."""
    with _app(redis_url) as app:
        add, _, _ = _chain_app(app)
        add.starmap([(1, 2), (3, 4)]).delay()
        sent = _llen(redis_url, app.conf.task_default_queue)
    return "One task message" if sent == 1 else f"{sent} messages"


def eager_goes_through_broker(redis_url: str) -> bool:
    """xf08-q02: with task_always_eager, tasks still travel through the broker (they do not)."""
    with _app(redis_url, task_always_eager=True) as app:
        add, _, _ = _chain_app(app)
        result = add.delay(1, 2)
        sent = _llen(redis_url, app.conf.task_default_queue)
    return sent > 0 or result.get() != 3


def get_without_backend_raises(redis_url: str) -> bool:
    """xf02-q03: result.get() on an app without a result backend raises at once."""
    import time

    app = Celery(f"factcheck-{uuid.uuid4().hex[:8]}", broker=redis_url)
    app.conf.update(task_default_queue=f"factcheck-{uuid.uuid4().hex}")

    @app.task(shared=False)
    def one() -> int:
        return 1

    try:
        start = time.monotonic()
        try:
            one.delay().get(timeout=TIMEOUT)
        except NotImplementedError:
            return time.monotonic() - start < 2
        return False
    finally:
        app.close()


def crontab_hours(redis_url: str) -> str:
    """xf07-q01: crontab(minute=0, hour="*/6") fires at 00:00, 06:00, 12:00 and 18:00."""
    from celery.schedules import crontab

    c = crontab(minute=0, hour="*/6")
    times = [f"{h:02d}:{m:02d}" for h in sorted(c.hour) for m in sorted(c.minute)]
    return ", ".join(times[:-1]) + " and " + times[-1]


def progress_info(redis_url: str) -> str:
    """xf04-q02: result.info of a task in a custom state is the meta it gave update_state."""
    import threading

    release = threading.Event()
    with _app(redis_url) as app:

        @app.task(shared=False, bind=True)
        def export(self) -> None:
            self.update_state(state="PROGRESS", meta={"done": 40})
            release.wait(TIMEOUT)

        with _worker(app):
            r = export.delay()
            for _ in range(TIMEOUT * 10):
                if r.state == "PROGRESS":
                    break
                release.wait(0.1)
            info = r.info
            release.set()
            r.get(timeout=TIMEOUT)
    return repr(info)


def late_ack_failure_is_acked(redis_url: str) -> bool:
    """xp12-q03: a late-acknowledged task that raises is acknowledged (not delivered again)."""
    import time

    import redis

    client = redis.Redis.from_url(redis_url)
    with _app(redis_url) as app:

        @app.task(shared=False, acks_late=True)
        def fails() -> None:
            raise ValueError("bad input")

        with _worker(app):
            r = fails.delay()
            with suppress(ValueError):
                r.get(timeout=TIMEOUT)
            # the result is stored before the message is acknowledged: give the ack a moment
            for _ in range(20):
                if r.id.encode() not in b"".join(client.hvals("unacked")):
                    break
                time.sleep(0.1)
        unacked = b"".join(client.hvals("unacked"))
        queued = _llen(redis_url, app.conf.task_default_queue)
    return r.id.encode() not in unacked and queued == 0


def autoretry_runs_at_most_four(redis_url: str) -> bool:
    """p12-q06: autoretry_for with max_retries=3 runs the task at most four times (a first run
    and three retries)."""
    import redis

    key = f"factcheck-runs-{uuid.uuid4().hex}"
    with _app(redis_url) as app:

        @app.task(
            shared=False, autoretry_for=(ConnectionError,), max_retries=3, default_retry_delay=0
        )
        def flaky() -> None:
            redis.Redis.from_url(redis_url).incr(key)
            raise ConnectionError("down")

        with _worker(app), suppress(ConnectionError):
            flaky.delay().get(timeout=TIMEOUT)
    return int(redis.Redis.from_url(redis_url).get(key) or 0) == 4


def on_failure_every_retry(redis_url: str) -> bool:
    """p12-q05, e16-q07: a task's on_failure runs on every retry (it runs once, at the end)."""
    import redis

    key = f"factcheck-failures-{uuid.uuid4().hex}"
    with _app(redis_url) as app:

        class Counted(app.Task):
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                redis.Redis.from_url(redis_url).incr(key)

        @app.task(
            shared=False,
            base=Counted,
            autoretry_for=(ConnectionError,),
            max_retries=1,
            default_retry_delay=0,
        )
        def flaky() -> None:
            raise ConnectionError("down")

        with _worker(app), suppress(ConnectionError):
            flaky.delay().get(timeout=TIMEOUT)
    return int(redis.Redis.from_url(redis_url).get(key) or 0) > 1


def result_key_suffix(redis_url: str) -> str:
    """f04-q10: the Redis backend stores a result under celery-task-meta-<task id>."""
    import redis

    exists = redis.Redis.from_url(redis_url).exists(_one_result_key(redis_url))
    return "id" if exists else "something else"


def delay_returns(redis_url: str) -> str:
    """f02-q02: add.delay(2, 3) returns an AsyncResult (sending needs no worker)."""
    with _app(redis_url) as app:
        add, _, _ = _chain_app(app)
        return type(add.delay(2, 3)).__name__


def pickle_refused_by_json_worker(redis_url: str) -> bool:
    """p13-q05: a worker with accept_content=["json"] refuses a pickled task message."""
    import time

    with _app(redis_url, accept_content=["json"]) as app:
        add, _, _ = _chain_app(app)
        with _worker(app):
            r = add.apply_async((1, 2), serializer="pickle")
            ok = add.apply_async((1, 2), serializer="json")
            ok.get(timeout=TIMEOUT)  # the worker has read the queue past the pickled message
            time.sleep(0.3)
            return r.state == "PENDING"


def route_by_name(redis_url: str) -> str:
    """f05-q02: task_routes keyed by the task's name routes every call of it, callers unchanged."""
    routes = {"proj.tasks.resize": {"queue": "images"}}
    with _app(redis_url, task_routes=routes) as app:
        queue = app.amqp.router.route({}, "proj.tasks.resize")["queue"].name
    return f"`task_routes = {routes}`" if queue == "images" else "no route"


def queue_is_redis_list(redis_url: str) -> str:
    """f05-q03: on the Redis broker a queue is a Redis list named after it, of serialized
    messages."""
    import redis

    with _app(redis_url) as app:
        add, _, _ = _chain_app(app)
        add.delay(1, 2)
        queue = app.conf.task_default_queue
        client = redis.Redis.from_url(redis_url)
        kind = client.type(queue).decode()
        body = json.loads(client.lindex(queue, 0))
    named = kind == "list" and body["headers"]["task"] == add.name
    return "A Redis list named after the queue" if named else f"a {kind}"


def ignore_result_skips_the_write(redis_url: str) -> str:
    """xe18-q02: ignore_result=True saves the result backend's write (and its memory) per call."""
    import redis

    with _app(redis_url) as app:

        @app.task(shared=False, ignore_result=True)
        def beat() -> int:
            return 1

        @app.task(shared=False)
        def after() -> int:
            return 2

        with _worker(app):
            r = beat.delay()
            after.delay().get(timeout=TIMEOUT)  # the solo worker has run beat before this
    stored = redis.Redis.from_url(redis_url).exists(f"celery-task-meta-{r.id}")
    return "nothing saved" if stored else "A write to the result backend per call"


def result_expires_sets_ttl(redis_url: str) -> str:
    """f04-q02: result_expires decides how long results stay in the backend."""
    import redis

    ttl = redis.Redis.from_url(redis_url).ttl(_one_result_key(redis_url, result_expires=60))
    return "`result_expires`" if 50 < ttl <= 60 else f"ttl {ttl}"


def redis_broker_and_backend(redis_url: str) -> bool:
    """f01-q08: one Redis serves as broker and result backend of the same app."""
    return returned_task_state(redis_url) == "SUCCESS"  # _app uses redis_url for both


def _autoscale_option(redis_url: str) -> str:
    return "10,3" if autoscale_keeps_bounds(redis_url) else "3,10"


def _phrase(check: Callable[[str], bool], phrase: str) -> Callable[[str], str]:
    """A True/False observation as the phrase a choice item's key must hold (when it holds)."""

    def observe(redis_url: str) -> str:
        return phrase if check(redis_url) else f"not: {phrase}"

    observe.__doc__ = check.__doc__
    return observe


def _immutable_ignores_previous_result(redis_url: str) -> bool:
    return not immutable_gets_previous_result(redis_url)


def _retries_then_fails(redis_url: str) -> str:
    return "FAILURE" if retry_exhausted_raises_exc(redis_url) else "no failure"


def _track_started_setting(redis_url: str) -> str:
    return "task_track_started" if track_started_reports_started(redis_url) else "none"


#: Question id -> its check. A True/False item's check returns the statement's truth; a choice
#: item's check returns a phrase the keyed option must contain.
CHECKS: dict[str, Callable[[str], bool | str]] = {
    "f01-q07": runs_without_result_backend,
    "f02-q03": environment_overrides_config,
    "f02-q06": direct_call_sends_message,
    "f03-q06": retry_exhausted_raises_exc,
    "f03-q07": decimal_round_trips,
    "f04-q06": track_started_reports_started,
    "f05-q06": unconsumed_queue_raises,
    "f06-q06": chord_body_runs_after_failure,
    # the exams' own pools (course/exams/pools/)
    "xa3-q04": unknown_id_is_pending,
    "xe15-q04": default_queue_is_celery,
    "xe15-q05": router_none_falls_through,
    "xe16-q04": first_attempt_has_no_retries,
    "xe16-q05": task_subclass_registers,
    "xe17-q05": unconsumed_queue_raises,
    "xe18-q04": prefetch_is_multiplier_times_concurrency,
    "xe19-q03": revoke_leaves_running_task,
    # issue 21's last pass over the banks and pools: every item a few lines of Celery settle
    "xa4-q04": autoscale_keeps_bounds,
    "p14-q05": autoscale_keeps_bounds,
    "xf04-q03": results_expire_after_a_day,
    "xa3-q06": returned_task_state,
    "xf04-q01": _phrase(unknown_id_is_pending, "PENDING"),
    "xe15-q03": task_option_beats_app_setting,
    "xe15-q02": glob_route,
    "xf05-q01": named_route,
    "xf06-q01": chain_result,
    "f06-q02": chain_arguments,
    "p09-q07": immutable_gets_previous_result,
    "xf06-q03": chord_body_runs_after_failure,
    "xp09-q05": chord_body_gets_header_order,
    "p09-q10": chord_body_calls,
    "xp09-q01": group_then_task_gets_list,
    "xp09-q04": get_inside_task_allowed,
    "f04-q07": get_inside_task_allowed,
    "xp09-q03": starmap_messages,
    "xf08-q02": eager_goes_through_broker,
    "xf02-q03": get_without_backend_raises,
    "xf07-q01": crontab_hours,
    "xf04-q02": progress_info,
    "xp12-q03": late_ack_failure_is_acked,
    "p12-q06": autoretry_runs_at_most_four,
    "p12-q05": on_failure_every_retry,
    "e16-q07": on_failure_every_retry,
    "xf03-q01": _retries_then_fails,
    "xf04-q04": _track_started_setting,
    "xp11-q02": _phrase(prefetch_is_multiplier_times_concurrency, "32"),
    "f04-q10": result_key_suffix,
    "f02-q02": delay_returns,
    "xf06-q02": _phrase(_immutable_ignores_previous_result, "immutable"),
    "f06-q04": _phrase(_immutable_ignores_previous_result, "immutable"),
    "p13-q05": pickle_refused_by_json_worker,
    "f05-q02": route_by_name,
    "f05-q03": queue_is_redis_list,
    "xe18-q02": ignore_result_skips_the_write,
    "f04-q02": result_expires_sets_ttl,
    "f01-q08": redis_broker_and_backend,
    "p11-q08": _autoscale_option,
}
