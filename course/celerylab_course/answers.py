"""Checking quiz answers (standard library only: runs inside graded notebooks).

Each `check_*` prints the explanation when the answer is right and raises AssertionError with
the expected answer's explanation when it is wrong, so nbgrader's feedback teaches either way.
A quiz's choice options are in an order of each student's own (`show_options` in the lab,
`shuffle=<quiz>` in the checks): the letters are permuted per quiz and student, as an exam
paper's are (papers.letter_order), and the key is mapped to the student's letters when graded.
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


def _order(quiz: str, who: str) -> list[int]:
    from celerylab_course import papers

    return papers.letter_order(len(LETTERS), quiz, who)


def student_letter(answer: str, quiz: str, who: str) -> str:
    """The letter under which `who` sees the bank's option `answer` in `quiz`."""
    return LETTERS[_order(quiz, who).index(LETTERS.index(answer))]


def show_options(quiz: str, options: list[str]) -> None:
    """Display a choice question's options in the student's own order. A kernel that does not
    know whose quiz it is (a grading sandbox started ahead) says so instead of guessing."""
    from celerylab_course import papers

    try:
        who = papers.student()
    except AssertionError:
        print("Options: shown in your lab (their order is your own).")
        return
    order = _order(quiz, who)
    text = "\n".join(f"- **{LETTERS[n]}.** {options[i]}" for n, i in enumerate(order))
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside Jupyter: plain text serves as well
        print(text)
    else:
        display(Markdown(text))


def solve_choice(answer: str, quiz: str) -> str:
    """The key in the current student's letters (the source notebook's solution)."""
    from celerylab_course import papers

    return student_letter(answer, quiz, papers.student())


def check_choice(qid: str, given: object, answer: str, explanation: str, shuffle: str = "") -> None:
    """`answer` is the bank's letter; with `shuffle` (the quiz) it is mapped to the letters of
    the submitting student (CELERYLAB_STUDENT: grading without it is an error)."""
    letter = _letter(given)
    if shuffle:
        from celerylab_course import papers

        answer = student_letter(answer, shuffle, papers.student(grading=True))
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
