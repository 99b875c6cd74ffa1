"""Bank and exam-pool keys that running Celery can settle, settled by running it.

Each check runs the installed (pinned) Celery against a real Redis and returns what it observed:
for a True/False item, whether the statement holds; for a choice item, a phrase the right
option must contain. tests/course/test_assessment_integrity.py runs every check against a
redis-server and fails when the bank's key disagrees, so a key cannot drift from the Celery the
labs run. Add a check here when you write an item a few lines of Celery can decide.
"""

from __future__ import annotations

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
}
