"""Exactly-once payments under at-least-once delivery: an idempotency key applied atomically,
bounded retries and a dead-letter list (P12 example).

Usage:
    cd course/examples
    celery -A p12_payments worker --loglevel=INFO             # terminal 1
    python -m p12_payments pay-1 alice 500                    # terminal 2: balance 500
    python -m p12_payments pay-1 alice 500                    # again: still 500
    python -m p12_payments pay-2 alice -5                     # rejected, in the dead letters

Prints the account's balance after the payment, or the failure and the dead-letter list.
"""

import json
import sys
import time

from celery import Celery, Task

app = Celery("p12_payments")
APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('INCRBY', KEYS[2], ARGV[1])
end
return redis.call('GET', KEYS[2]) or '0'
"""


class TransientError(Exception):
    pass


def dead_letters():
    return [json.loads(e) for e in app.backend.client.lrange("p12_payments:dead", 0, -1)]


class DeadLetterTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        entry = {"payment_id": args[0] if args else None, "error": type(exc).__name__}
        app.backend.client.rpush("p12_payments:dead", json.dumps(entry))


@app.task(
    base=DeadLetterTask, autoretry_for=(TransientError,), max_retries=3, default_retry_delay=0.1
)
def apply_payment(payment_id, account, cents):
    if not isinstance(cents, int) or cents <= 0:
        raise ValueError(f"cents must be a positive int, not {cents!r}")
    keys = [f"p12_payments:{payment_id}:done", f"p12_payments:balance:{account}"]
    return int(app.backend.client.eval(APPLY_ONCE, 2, *keys, cents))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: python -m p12_payments PAYMENT_ID ACCOUNT CENTS", file=sys.stderr)
        return 2
    payment_id, account, cents = argv[0], argv[1], int(argv[2])
    try:
        print(apply_payment.delay(payment_id, account, cents).get(timeout=30))
    except ValueError as e:
        print(f"FAILURE: {e}")
        # the worker records the dead letter just after it stores the failure: give it a moment
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(d["payment_id"] == payment_id for d in dead_letters()):
                break
            time.sleep(0.1)
        print("dead letters:", json.dumps(dead_letters()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
