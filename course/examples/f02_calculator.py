"""Calculator: the F02 example application (the lab's reference design, in one module).

Usage:
    # in a lab terminal (CELERY_BROKER_URL and CELERY_RESULT_BACKEND are already set)
    cd course/examples
    celery -A f02_calculator worker --loglevel=INFO    # terminal 1: the worker
    python -m f02_calculator 7 / 2                     # terminal 2: prints 3.5
    python -m f02_calculator 1 / 0                     # FAILURE: ZeroDivisionError

Each operation is a task; arguments must be int or float (bool is not a number), anything else
raises TypeError, and division by zero raises ZeroDivisionError, so failures reach the caller
and Flower as FAILURE states.
"""

import sys

from celery import Celery

app = Celery("f02_calculator")

OPERATORS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def _check_numbers(*values):
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = type(value).__name__
            raise TypeError(f"expected int or float, got {kind}: {value!r}")


@app.task
def add(a, b):
    _check_numbers(a, b)
    return a + b


@app.task
def subtract(a, b):
    _check_numbers(a, b)
    return a - b


@app.task
def multiply(a, b):
    _check_numbers(a, b)
    return a * b


@app.task
def divide(a, b):
    _check_numbers(a, b)
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _number(text):
    return float(text) if "." in text or "e" in text.lower() else int(text)


def main(argv=None):
    a, op, b = argv if argv is not None else sys.argv[1:]
    task = globals()[OPERATORS[op]]
    result = task.delay(_number(a), _number(b))
    try:
        print(result.get(timeout=10))
    except Exception as e:
        print(f"{result.state}: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
