"""Robust tasks: validation, retries with exponential backoff and JSON-safe results (F03 example).

Usage:
    cd course/examples
    celery -A f03_robust_tasks worker --loglevel=INFO          # terminal 1
    python -m f03_robust_tasks '{"id": "A-1", "items": [{"qty": 3, "price": "0.10"}]}'
                                                               # terminal 2: prints the invoice

`invoice` validates its input (TypeError/ValueError, never retried) and totals prices with
Decimal; `notify` calls an unreliable service and retries ConnectionError with exponential
backoff and jitter, at most five times.
"""

import json
import sys
from decimal import Decimal, InvalidOperation

from celery import Celery

app = Celery("f03_robust_tasks")
app.conf.update(task_serializer="json", accept_content=["json"], result_expires=3600)


def _price(value):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError("price must be a decimal string or an int")
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"price {value!r} is not a number") from None
    if price < 0:
        raise ValueError("price must not be negative")
    return price


@app.task(name="examples.invoice")
def invoice(order):
    """Validate an order and return {"id", "total"} with the total as a 2-decimal string."""
    if not isinstance(order, dict) or not isinstance(order.get("items"), list):
        raise TypeError("order must be a dict with a list of items")
    if not order["items"]:
        raise ValueError("an order needs items")
    total = Decimal(0)
    for item in order["items"]:
        qty = item.get("qty")
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise TypeError("qty must be an int")
        if qty < 1:
            raise ValueError("qty must be at least 1")
        total += qty * _price(item.get("price"))
    return {"id": order.get("id"), "total": str(total.quantize(Decimal("0.01")))}


FAILURES = {}


@app.task(
    name="examples.notify",
    bind=True,
    autoretry_for=(ConnectionError,),
    max_retries=5,
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
)
def notify(self, address, fail_times=0):
    """Send a notification; the first `fail_times` attempts raise ConnectionError."""
    if self.request.retries < fail_times:
        raise ConnectionError("mail server unavailable")
    return {"sent_to": address, "attempts": self.request.retries + 1}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    result = invoice.delay(json.loads(argv[0]))
    try:
        print(json.dumps(result.get(timeout=10)))
    except (TypeError, ValueError) as e:
        print(f"{result.state}: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
