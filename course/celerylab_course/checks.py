"""Assertions for hidden tests that teach: each failure says what was expected, what happened,
and a hint. Standard library and celery only, like labkit."""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any


def _call(fn: Callable, args: tuple, kwargs: dict | None = None) -> str:
    name = getattr(fn, "__name__", None) or getattr(fn, "name", None) or repr(fn)
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    return f"{name.rsplit('.', 1)[-1]}({', '.join(shown)})"


def expect_equal(got: Any, expected: Any, what: str, hint: str = "") -> None:
    same = got == expected
    if isinstance(got, float) or isinstance(expected, float):
        try:
            same = math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
        except TypeError:
            same = False
    if not same or type(got) is bool is not type(expected):
        raise AssertionError(
            f"{what} gave {got!r}; expected {expected!r}." + (f" Hint: {hint}" if hint else "")
        )


def expect_exact(got: Any, expected: Any, what: str, hint: str = "") -> None:
    """Equal and of the same type: 5.0 is not 5, and 1e20 is not 10**20 + 1. For results a lab
    says must be exact (ints stay ints)."""
    if type(got) is not type(expected) or got != expected:
        raise AssertionError(
            f"{what} gave {got!r} ({type(got).__name__}); expected {expected!r} "
            f"({type(expected).__name__})." + (f" Hint: {hint}" if hint else "")
        )


#: Settings and Celery() arguments that name a broker or result backend.
URL_SETTINGS = frozenset(
    {"broker", "backend", "broker_url", "result_backend", "broker_read_url", "broker_write_url"}
    | {"BROKER_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "RESULT_BACKEND"}
)
_URL = re.compile(
    r"^(redis|rediss|amqp|amqps|pyamqp|sqs|rpc|memory|filesystem|mongodb|"
    r"(sqla|db)\+\w+)://",
    re.IGNORECASE,
)


def hard_coded_urls(path: str) -> list[str]:
    """Where a module's source fixes a broker or result backend itself, instead of leaving
    them to CELERY_BROKER_URL and CELERY_RESULT_BACKEND: a URL written as a string, or a URL
    setting (`broker=`, `conf.broker_url = ...`, `{"result_backend": ...}`) given a string.
    Celery 5 lets the environment override both, so the running app cannot tell; the source
    can."""
    tree = ast.parse(open(path, encoding="utf-8").read())  # noqa: SIM115
    found = []

    def literal(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    for node in ast.walk(tree):
        if literal(node) and _URL.match(node.value):
            found.append(f"line {node.lineno}: the URL {node.value!r}")
        elif isinstance(node, ast.keyword) and node.arg in URL_SETTINGS and literal(node.value):
            found.append(f"line {node.value.lineno}: {node.arg}={node.value.value!r}")
        elif isinstance(node, ast.Assign) and literal(node.value):
            for t in node.targets:
                name = t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", None)
                if isinstance(t, ast.Subscript) and literal(t.slice):
                    name = t.slice.value
                if name in URL_SETTINGS:
                    found.append(f"line {node.lineno}: {name} = {node.value.value!r}")
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if literal(k) and k.value in URL_SETTINGS and literal(v):
                    found.append(f"line {k.lineno}: {k.value!r}: {v.value!r}")
    return sorted(set(found), key=lambda f: int(f.split()[1].rstrip(":")))


def expect_no_hard_coded_urls(path: str) -> None:
    found = hard_coded_urls(path)
    if found:
        raise AssertionError(
            f"{path} fixes the broker or result backend in code ({'; '.join(found)}). "
            "Hint: create the app as Celery('name') and let CELERY_BROKER_URL and "
            "CELERY_RESULT_BACKEND configure it, so the same module runs in every environment."
        )


def expect_raises(
    exc: type[BaseException], fn: Callable, *args: Any, hint: str = "", **kwargs: Any
) -> BaseException:
    """Call fn(*args, **kwargs) and return the exception of type exc it must raise."""
    call = _call(fn, args, kwargs)
    try:
        value = fn(*args, **kwargs)
    except exc as e:
        return e
    except Exception as e:
        raise AssertionError(
            f"{call} raised {type(e).__name__}: {e}; expected {exc.__name__}."
            + (f" Hint: {hint}" if hint else "")
        ) from None
    raise AssertionError(
        f"{call} returned {value!r}; expected it to raise {exc.__name__}."
        + (f" Hint: {hint}" if hint else "")
    )


def expect_failure(
    result, exc: type[BaseException], what: str, timeout: float = 15, hint: str = ""
) -> None:
    """A task run through a worker ends in FAILURE and get() re-raises `exc`."""
    try:
        value = result.get(timeout=timeout)
    except exc:
        pass
    except Exception as e:
        raise AssertionError(
            f"{what} through the worker raised {type(e).__name__}: {e}; expected "
            f"{exc.__name__}." + (f" Hint: {hint}" if hint else "")
        ) from None
    else:
        raise AssertionError(
            f"{what} through the worker returned {value!r}; expected it to fail with "
            f"{exc.__name__}." + (f" Hint: {hint}" if hint else "")
        )
    if result.state != "FAILURE":
        raise AssertionError(f"{what} ended in state {result.state}; expected FAILURE.")


def pep8_problems(path: str, max_line_length: int = 79) -> list[str]:
    """PEP 8 findings of pycodestyle for one file (empty when clean)."""
    import io
    from contextlib import redirect_stdout

    import pycodestyle

    style = pycodestyle.StyleGuide(max_line_length=max_line_length)
    out = io.StringIO()
    with redirect_stdout(out):
        style.check_files([path])
    # An instructor's solution still holds nbgrader's "### BEGIN SOLUTION" lines; they are not
    # the student's style.
    lines = open(path, encoding="utf-8").read().splitlines()  # noqa: SIM115

    def on_marker(finding: str) -> bool:
        try:
            n = int(finding.split(":")[1])
        except (IndexError, ValueError):
            return False
        return 0 < n <= len(lines) and "SOLUTION" in lines[n - 1] and lines[n - 1].startswith("###")

    return [f for f in out.getvalue().splitlines() if not on_marker(f)]


#: Share of the style points each kind of PEP 8 finding (one pycodestyle code) costs.
STYLE_SHARE_PER_KIND = 0.25


def style_grade(path: str, points: float, max_line_length: int = 79) -> float:
    """Style points in proportion: each kind of finding (say E501, line too long) costs a
    quarter of them however many lines it concerns, so one long line never costs them all.
    Prints the findings; end a test cell with it to make it the cell's partial grade."""
    problems = pep8_problems(path, max_line_length)
    kinds = Counter(p.split(": ", 1)[1].split()[0] for p in problems if ": " in p)
    score = points * max(0.0, 1 - STYLE_SHARE_PER_KIND * len(kinds))
    if problems:
        listed = "\n".join(problems[:10])
        print(
            f"{path}: {len(problems)} PEP 8 finding(s) of {len(kinds)} kind(s) "
            f"({', '.join(sorted(kinds))}); each kind costs {STYLE_SHARE_PER_KIND:.0%} of the "
            f"{points:g} style point(s): {score:g} kept.\n{listed}\n"
            "Hint: each line shows file:line:column and the rule; fix them and run this cell again."
        )
    else:
        print(f"{path}: PEP 8 clean, {points:g} of {points:g} style point(s)")
    return score


def expect_pep8(path: str, max_line_length: int = 79) -> None:
    problems = pep8_problems(path, max_line_length)
    if problems:
        listed = "\n".join(problems[:10])
        raise AssertionError(
            f"{path} does not follow PEP 8 ({len(problems)} problem(s)):\n{listed}\n"
            "Hint: each line shows file:line:column and the rule; fix them and run this cell again."
        )
    print(f"{path}: PEP 8 clean")
