"""Certificates from the gradebook: which exams a student passed, by each exam's pass rules, and
whether the certificates a path or track requires (Track A: Expert Certification) are held.

    celerylab-course certificates GRADEBOOK_URL STUDENT

An exam with manually graded cells still waiting for an instructor is "pending", never passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from celerylab_course import exams
from celerylab_course.curriculum import Curriculum

CERTIFIED, NOT_PASSED, PENDING, NOT_SUBMITTED = "certified", "not passed", "pending", "not taken"


@dataclass(frozen=True)
class ExamOutcome:
    exam: str
    path: str
    certificate: str
    status: str
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)  # part -> (score, max)


@dataclass(frozen=True)
class Requirement:
    path: str  # the path or track that asks
    needs: str  # the certificate it needs
    held: bool


def judge(exam: exams.Exam, parts: dict[str, tuple[float, float]], pending: bool) -> str:
    """Apply the exam's pass rules to its parts' (score, max)."""
    if pending:
        return PENDING
    rules = exam.pass_rules

    def reached(score: float, top: float, fraction: float) -> bool:
        return top > 0 and score >= fraction * top - 1e-9

    overall = tuple(map(sum, zip(*parts.values(), strict=True))) if parts else (0.0, 0.0)
    ok = all(reached(*parts.get(p, (0.0, 0.0)), rules[p]) for p in (exams.THEORY, exams.PRACTICAL))
    return CERTIFIED if ok and reached(*overall, rules["overall"]) else NOT_PASSED


def evaluate(curriculum: Curriculum, db_url: str, student: str) -> list[ExamOutcome]:
    from nbgrader.api import Gradebook, MissingEntry

    outcomes = []
    with Gradebook(db_url) as gb:
        for exam in exams.load(curriculum).values():
            try:
                submission = gb.find_submission(exam.id, student)
            except MissingEntry:
                outcomes.append(ExamOutcome(exam.id, exam.path, exam.certificate, NOT_SUBMITTED))
                continue
            parts, pending = {}, False
            for nb in submission.notebooks:
                score = sum(g.score or 0.0 for g in nb.grades)
                top = sum(g.max_score for g in nb.grades)
                parts[nb.name] = (score, top)
                pending = pending or any(g.needs_manual_grade for g in nb.grades)
            outcomes.append(
                ExamOutcome(
                    exam.id, exam.path, exam.certificate, judge(exam, parts, pending), parts
                )
            )
    return outcomes


def requirements(curriculum: Curriculum, outcomes: list[ExamOutcome]) -> list[Requirement]:
    """Each path's required certificates (paths.yaml `requires`) and whether they are held."""
    held = {o.path for o in outcomes if o.status == CERTIFIED}
    by_path = {e.path: e.certificate for e in exams.load(curriculum).values()}
    return [
        Requirement(p.id, by_path.get(need, f"{need} certification"), need in held)
        for p in curriculum.paths.values()
        for need in p.requires
    ]


def format_report(outcomes: list[ExamOutcome], needs: list[Requirement]) -> str:
    lines = []
    for o in outcomes:
        parts = ", ".join(f"{p} {s:g}/{t:g}" for p, (s, t) in sorted(o.parts.items()))
        lines.append(
            f"{o.status:<10} {o.certificate:<34} {o.exam}" + (f" ({parts})" if parts else "")
        )
    for r in needs:
        state = "held" if r.held else "NOT held: the path's modules are locked for this student"
        lines.append(f"requires   {r.path}: {r.needs} - {state}")
    held = sum(o.status == CERTIFIED for o in outcomes)
    lines.append(f"{held} of {len(outcomes)} certificates held")
    return "\n".join(lines)
