"""A stand-in for a remote exchange-rate service (F03 lab; do not edit).

`get_rate(currency)` answers like a real HTTP API would, including its failures: what it does
for a currency is set by a *plan* stored in your Redis (the one CELERY_BROKER_URL names), so
tests can make it fail on purpose:

    set_plan("USD", "2")        # fail with TemporaryError twice, then answer
    set_plan("USD", "down")     # always TemporaryError (the service is down)
    set_plan("USD", "unknown")  # PermanentError (the service does not know the currency)
    set_plan("USD", None)       # back to normal

`calls(currency)` tells how many times get_rate was called for it since the plan was set.
"""

import os

import redis

RATES = {"EUR": "1.0000", "USD": "1.0850", "GBP": "0.8560"}


class TemporaryError(Exception):
    """The service is overloaded or unreachable: trying again later may work."""


class PermanentError(Exception):
    """The request can never succeed: do not retry."""


def _redis():
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_timeout=5)


def set_plan(currency, plan):
    r = _redis()
    r.delete(f"ratesvc:calls:{currency}")
    if plan is None:
        r.delete(f"ratesvc:plan:{currency}")
    else:
        r.set(f"ratesvc:plan:{currency}", plan)


def calls(currency):
    return int(_redis().get(f"ratesvc:calls:{currency}") or 0)


def get_rate(currency):
    """The exchange rate from EUR to currency, as a decimal string such as "1.0850"."""
    r = _redis()
    n = r.incr(f"ratesvc:calls:{currency}")
    plan = (r.get(f"ratesvc:plan:{currency}") or b"").decode()
    if plan == "down" or (plan.isdigit() and n <= int(plan)):
        raise TemporaryError(f"rate service busy (call {n})")
    if plan == "unknown" or currency not in RATES:
        raise PermanentError(f"unknown currency {currency!r}")
    return RATES[currency]
