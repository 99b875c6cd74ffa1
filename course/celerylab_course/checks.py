"""Assertions for hidden tests that teach: each failure says what was expected, what happened,
and a hint. Standard library and celery only, like labkit."""

from __future__ import annotations

import math
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


def expect_pep8(path: str, max_line_length: int = 79) -> None:
    problems = pep8_problems(path, max_line_length)
    if problems:
        listed = "\n".join(problems[:10])
        raise AssertionError(
            f"{path} does not follow PEP 8 ({len(problems)} problem(s)):\n{listed}\n"
            "Hint: each line shows file:line:column and the rule; fix them and run this cell again."
        )
    print(f"{path}: PEP 8 clean")
