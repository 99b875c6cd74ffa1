"""The spec's success criteria, checked against the nbgrader gradebook.

A criterion with a check is met when the student's score on the named grade cells (or the whole
assignment) reaches `min_fraction` of their points. Cells that still wait for an instructor make
the criterion "pending", never met by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from celerylab_course.curriculum import Criterion, Curriculum

MET, NOT_MET, PENDING, NOT_SUBMITTED, UNCHECKED = (
    "met",
    "not met",
    "pending",
    "not submitted",
    "unchecked",
)


@dataclass(frozen=True)
class Outcome:
    module: str
    text: str
    status: str
    score: float = 0.0
    max_score: float = 0.0


def _grades(gb, assignment: str, student: str) -> dict[str, object] | None:
    from nbgrader.api import MissingEntry

    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return None
    return {g.name: g for nb in submission.notebooks for g in nb.grades}


def evaluate_criterion(criterion: Criterion, grades: dict | None) -> tuple[str, float, float]:
    if criterion.assignment is None:
        return UNCHECKED, 0.0, 0.0
    if grades is None:
        return NOT_SUBMITTED, 0.0, 0.0
    chosen = (
        [grades[c] for c in criterion.cells if c in grades]
        if criterion.cells
        else list(grades.values())
    )
    if criterion.cells and len(chosen) != len(criterion.cells):
        missing = sorted(set(criterion.cells) - set(grades))
        raise KeyError(f"{criterion.assignment} has no grade cells {missing}")
    score = sum(g.score or 0.0 for g in chosen)
    max_score = sum(g.max_score for g in chosen)
    if any(g.needs_manual_grade for g in chosen):
        return PENDING, score, max_score
    met = max_score > 0 and score >= criterion.min_fraction * max_score - 1e-9
    return (MET if met else NOT_MET), score, max_score


def evaluate(
    curriculum: Curriculum, db_url: str, student: str, modules: list[str] | None = None
) -> list[Outcome]:
    from nbgrader.api import Gradebook

    outcomes = []
    with Gradebook(db_url) as gb:
        for module in curriculum.modules.values():
            if modules and module.code not in modules:
                continue
            for criterion in module.success_criteria:
                grades = (
                    _grades(gb, criterion.assignment, student) if criterion.assignment else None
                )
                status, score, max_score = evaluate_criterion(criterion, grades)
                outcomes.append(Outcome(module.code, criterion.text, status, score, max_score))
    return outcomes


def format_report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        pts = f" ({o.score:g}/{o.max_score:g})" if o.max_score else ""
        lines.append(f"{o.status:<13} {o.module:<24} {o.text}{pts}")
    met = sum(o.status == MET for o in outcomes)
    lines.append(f"{met} of {len(outcomes)} success criteria met")
    return "\n".join(lines)
