"""Checking quiz answers (standard library only: runs inside graded notebooks).

Each `check_*` prints the explanation when the answer is right and raises AssertionError with
the expected answer's explanation when it is wrong, so nbgrader's feedback teaches either way.
Fill-in-the-blank answers are compared leniently: text ignores case, spacing, quotes and a final
full stop; code is compared as Python syntax trees (spacing, quote style and keyword-argument
order do not matter); numbers compare numerically.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

LETTERS = "ABCD"


class AnswerFormatError(AssertionError):
    """The answer is not in the form the question asks for."""


def _letter(given: object) -> str:
    if not isinstance(given, str) or given.strip().upper().rstrip(".)") not in LETTERS:
        raise AnswerFormatError(f"write one letter, A to D, as a string in quotes (got {given!r})")
    return given.strip().upper().rstrip(".)")


def format_choice(given: object) -> None:
    _letter(given)


def format_true_false(given: object) -> None:
    if not isinstance(given, bool):
        raise AnswerFormatError(f"write True or False, without quotes (got {given!r})")


def format_blank(given: object) -> None:
    if (
        not isinstance(given, str | int | float)
        or isinstance(given, bool)
        or not str(given).strip()
    ):
        raise AnswerFormatError(f'write your answer as a string, e.g. "acks_late" (got {given!r})')


def format_matching(given: object, terms: int) -> None:
    if not isinstance(given, Mapping):
        raise AnswerFormatError(
            f'write a dict from term number to letter, e.g. {{1: "B", ...}} (got {given!r})'
        )
    missing = [n for n in range(1, terms + 1) if n not in given]
    if missing:
        raise AnswerFormatError(f"give a letter for every term; missing: {missing}")


def _verdict(ok: bool, qid: str, explanation: str, wrong: str) -> None:
    if not ok:
        raise AssertionError(f"{qid}: {wrong}\nExplanation: {explanation}")
    print(f"{qid}: correct. {explanation}")


def check_choice(qid: str, given: object, answer: str, explanation: str) -> None:
    letter = _letter(given)
    _verdict(letter == answer, qid, explanation, f"you chose {letter}; the answer is {answer}.")


def check_true_false(qid: str, given: object, answer: bool, explanation: str) -> None:
    format_true_false(given)
    _verdict(given is answer, qid, explanation, f"the statement is {answer}, not {given}.")


def check_matching(qid: str, given: object, answer: Mapping[int, str], explanation: str) -> None:
    format_matching(given, len(answer))
    wrong = [n for n, letter in answer.items() if str(given[n]).strip().upper() != letter]
    _verdict(not wrong, qid, explanation, f"term(s) {wrong} are matched to the wrong definition.")


def normalize_text(text: object) -> str:
    s = str(text).strip().strip("`'\"").strip()
    s = re.sub(r"\s+", " ", s).casefold()
    return s.rstrip(".").strip()


class _SortKeywords(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        node.keywords.sort(key=lambda k: k.arg or "")
        return node


def normalize_code(code: object) -> str | None:
    """A canonical form of a code answer, or None when it is not valid Python."""
    text = str(code).strip().strip("`").strip()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return ast.dump(_SortKeywords().visit(tree), annotate_fields=False)


def _number(value: object) -> float | None:
    try:
        return float(str(value).strip().replace("_", ""))
    except ValueError:
        return None


def blank_matches(given: object, answers: Iterable[object], match: str) -> bool:
    if match == "number":
        g = _number(given)
        return g is not None and any(g == _number(a) for a in answers)
    if match == "code":
        g = normalize_code(given)
        if g is not None and any(g == normalize_code(a) for a in answers):
            return True
    return any(normalize_text(given) == normalize_text(a) for a in answers)


def check_blank(
    qid: str, given: object, answers: list[object], match: str, explanation: str
) -> None:
    format_blank(given)
    _verdict(
        blank_matches(given, answers, match),
        qid,
        explanation,
        f"{given!r} is not it; an accepted answer is {answers[0]!r}.",
    )
