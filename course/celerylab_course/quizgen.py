"""Question bank -> nbgrader quiz notebook.

Every question becomes a prompt (read-only), an answer cell (autograded answer: the key sits
between solution markers) and a test cell worth its points whose visible part checks the answer's
form and whose hidden part checks the answer itself with `celerylab_course.answers`, printing the
explanation as feedback. Scenario questions with a rubric, and every True/False question (its
justification: rules.yaml's true_false_reason unless the item has a rubric), add a manually
graded answer whose criteria are shown to the student.

A choice question's options are shown by a read-only code cell (`answers.show_options`) in an
order of the student's own, seeded by quiz and student; the solution and the hidden check name
the bank's key and map it to the student's letters (`shuffle=<quiz>`), so the key a student can
guess from the bank's order is worth nothing.
"""

from __future__ import annotations

import string
from dataclasses import replace

from nbformat.notebooknode import NotebookNode

from celerylab_course import notebooks as nb
from celerylab_course.curriculum import Bank, Curriculum, Module, Question

TYPE_NAMES = {
    "multiple_choice": "Multiple choice",
    "true_false": "True or false",
    "fill_blank": "Fill in the blank",
    "matching": "Matching",
    "scenario": "Scenario analysis",
}
# No example shows a letter: a sample answer in the prompt is a hint students follow.
HOW = {
    "multiple_choice": "Set `{var}` to one letter, A to D, as a string in quotes.",
    "true_false": "Set `{var}` to `True` or `False` (no quotes).",
    "fill_blank": 'Set `{var}` to the missing text, as a string: `{var} = "..."`.',
    "matching": (
        "Set `{var}` to a dict from each term's number to its definition's letter (a string): "
        "`{var} = {{1: ..., 2: ..., ...}}`."
    ),
    "scenario": "Set `{var}` to the letter of your decision, A to D, as a string in quotes.",
}


def variable(q: Question) -> str:
    return "answer_" + q.id.rsplit("-", 1)[-1].lstrip("q")


def _options(options) -> list[str]:
    return [f"- **{letter}.** {text}" for letter, text in zip("ABCD", options, strict=True)]


def _shuffled_definitions(q: Question) -> list[tuple[str, str]]:
    """Definitions in a fixed order that differs from the terms' (rotated by one), lettered."""
    defs = [d for _, d in q.pairs]
    rotated = defs[1:] + defs[:1]
    return list(zip(string.ascii_uppercase, rotated, strict=False))


def matching_key(q: Question) -> dict[int, str]:
    letters = {d: letter for letter, d in _shuffled_definitions(q)}
    return {n: letters[d] for n, (_, d) in enumerate(q.pairs, 1)}


def shuffled(q: Question) -> bool:
    """The question's options are shown in each student's own order."""
    return q.type in ("multiple_choice", "scenario") and bool(q.options) and q.autograded


def prompt(q: Question, number: int) -> str:
    lines = [f"### Question {number} · {TYPE_NAMES[q.type]} · {q.difficulty}", "", q.prompt, ""]
    if shuffled(q):
        lines += ["Run the cell below to show the options (their order is your own).", ""]
    elif q.type in ("multiple_choice", "scenario") and q.options:
        lines += [*_options(q.options), ""]
    if q.type == "matching":
        lines += [
            "**Terms**",
            "",
            *[f"{n}. {t}" for n, (t, _) in enumerate(q.pairs, 1)],
            "",
            "**Definitions**",
            "",
            *[f"- **{letter}.** {d}" for letter, d in _shuffled_definitions(q)],
            "",
        ]
    if q.autograded:
        lines.append(HOW[q.type].format(var=variable(q)))
    return "\n".join(lines).strip()


def _key(q: Question, quiz: str) -> str:
    if shuffled(q):
        return f"answers.solve_choice({q.answer!r}, {quiz!r})"
    if q.type == "true_false":
        return repr(q.answer)
    if q.type == "fill_blank":
        return repr(q.answers[0])
    if q.type == "matching":
        return repr(matching_key(q))
    return repr(q.answer)


def _check(q: Question, quiz: str) -> tuple[str, str]:
    """(visible format check, hidden answer check) for the question's test cell."""
    var, expl = variable(q), repr(q.explanation)
    if q.type in ("multiple_choice", "scenario"):
        return (
            f"answers.format_choice({var})",
            f"answers.check_choice({q.id!r}, {var}, {q.answer!r}, {expl}, shuffle={quiz!r})",
        )
    if q.type == "true_false":
        return (
            f"answers.format_true_false({var})",
            f"answers.check_true_false({q.id!r}, {var}, {q.answer!r}, {expl})",
        )
    if q.type == "fill_blank":
        return (
            f"answers.format_blank({var})",
            f"answers.check_blank({q.id!r}, {var}, {list(q.answers)!r}, {q.match!r}, {expl})",
        )
    key = matching_key(q)
    return (
        f"answers.format_matching({var}, {len(key)})",
        f"answers.check_matching({q.id!r}, {var}, {key!r}, {expl})",
    )


def with_reason(q: Question, reason: dict) -> Question:
    """A True/False item asks for its justification: the item's own rubric, else `reason`
    (rules.yaml: true_false_reason)."""
    if q.type != "true_false" or q.rubric or not reason:
        return q
    return replace(q, rubric=tuple(reason["criteria"]), rubric_points=reason["points"])


def question_cells(q: Question, number: int, quiz: str) -> list[NotebookNode]:
    cells = [nb.readonly(prompt(q, number), f"{q.id}-prompt", "markdown")]
    if shuffled(q):
        show = f"from celerylab_course import answers\n\nanswers.show_options({quiz!r}, [\n"
        show += "".join(f"    {o!r},\n" for o in q.options) + "])"
        cells.append(nb.readonly(show, f"{q.id}-options", "code"))
    if q.autograded:
        var = variable(q)
        cells.append(
            nb.answer(
                f"### BEGIN SOLUTION\n{var} = {_key(q, quiz)}\n### END SOLUTION", f"{q.id}-answer"
            )
        )
        visible, hidden = _check(q, quiz)
        cells.append(
            nb.tests(
                "from celerylab_course import answers\n\n"
                "# Checks the form of your answer only; the answer is checked when graded.\n"
                f"{visible}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
                q.id,
                1,
            )
        )
    if q.rubric:
        criteria = "\n".join(f"- {c}" for c in q.rubric)
        cells.append(
            nb.readonly(
                f"**Explain your reasoning** in the cell below ({q.rubric_points} points, "
                f"graded by your instructor). It is marked on:\n\n{criteria}",
                f"{q.id}-rubric",
                "markdown",
            )
        )
        cells.append(
            nb.manual(
                f"**Model answer (instructors only).** {q.explanation}",
                f"{q.id}-reasoning" if q.autograded else q.id,
                q.rubric_points,
            )
        )
    return cells


def points(bank: Bank, reason: dict | None = None) -> tuple[int, int]:
    auto = sum(1 for q in bank.questions if q.autograded)
    return auto, sum(with_reason(q, reason or {}).rubric_points for q in bank.questions)


def quiz_notebook(curriculum: Curriculum, module: Module, bank: Bank) -> NotebookNode:
    reason = curriculum.rules.true_false_reason
    auto, manual = points(bank, reason)
    quiz = module.quiz
    intro = (
        f"**{quiz.title}** · {quiz.questions} questions · {quiz.minutes} minutes · "
        f"pass mark {curriculum.rules.pass_fraction:.0%}\n\n"
        "Answer each question in the code cell under it, run the cell, then run the check "
        "below it: the check tells you whether your answer has the right form (not whether "
        "it is right). "
        f"{auto} points are graded automatically"
        + (f" and {manual} by your instructor" if manual else "")
        + ". After grading, your feedback explains every answer."
    )
    cells = [
        nb.readonly(
            nb.header(curriculum, module, f"Quiz: {quiz.title}") + "\n\n" + intro,
            f"{module.short.lower()}-quiz-header",
            "markdown",
        )
    ]
    for n, q in enumerate(bank.questions, 1):
        cells += question_cells(with_reason(q, reason), n, quiz.assignment)
    return nb.notebook(cells, f"{module.short.lower()}-quiz")
