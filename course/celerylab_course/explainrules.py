"""Conformance rules for the explanations the spec asks of students.

- tf-reason: "True/False Questions ... Include explanation requirements". Every True/False item
  of a quiz asks for its justification, graded by rubric: its source notebook has the item's
  manually graded `<id>-reasoning` cell (quizgen adds it with rules.yaml's true_false_reason
  unless the item carries a rubric of its own). Every ready exam likewise: its papers put the
  True/False items in the same slots for every student, and each of those slots of the theory
  notebook has its manually graded `<exam>-qNN-reasoning` cell.
- scenario-written: "Scenario Analysis: real-world problem solving, design decision evaluation".
  At least rules.yaml's written_scenario_share of a bank's scenario items ask for the decision
  argued in writing: they carry a rubric (and their explanation is the graders' model answer).
  The same share holds for each exam's own pool (all its modules together), whose written items
  have slots of their own on every paper (papers.WRITTEN); each such slot of the theory notebook
  has its manually graded `<exam>-qNN-decision` cell.

conformance.run() runs RULES after its own; each rule yields conformance.Finding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

from celerylab_course.conformance import FAIL, OK, Context, Finding


def _manual_cells(notebook) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {
        c["metadata"]["nbgrader"]["grade_id"]
        for c in cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        and c["metadata"]["nbgrader"].get("solution")
    }


def rule_tf_reason(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    for m in sorted(c.modules.values(), key=lambda m: m.code):
        bank, name = c.banks.get(m.code), m.quiz.assignment
        tf = [q.id for q in bank.questions if q.type == "true_false"] if bank else []
        if not tf or not name:
            continue
        notebook = ctx.repo / "source" / name / f"{name}.ipynb"
        if not notebook.is_file():
            continue  # rule_ready reports a missing quiz
        manual = _manual_cells(notebook)
        missing = [qid for qid in tf if f"{qid}-reasoning" not in manual]
        yield Finding(
            FAIL if missing else OK,
            "tf-reason",
            m.code,
            f"{len(tf) - len(missing)} of {len(tf)} True/False items ask for a justification "
            "graded by rubric" + (f"; none for {', '.join(missing)}" if missing else ""),
        )


def rule_exam_tf_reason(ctx: Context) -> Iterator[Finding]:
    from celerylab_course import exams, papers

    for e in sorted(exams.load(ctx.curriculum).values(), key=lambda e: e.id):
        notebook = ctx.repo / "source" / e.id / f"{exams.THEORY}.ipynb"
        if e.status != "ready" or e.path not in ctx.curriculum.paths or not notebook.is_file():
            continue  # rule_exams reports an exam that is not built
        slots = papers.slots_of(exams.spec(ctx.curriculum, e, private=False), "true_false")
        manual = _manual_cells(notebook)
        missing = [n for n in slots if f"{e.id}-q{n:02d}-reasoning" not in manual]
        yield Finding(
            FAIL if missing or not slots else OK,
            "tf-reason",
            e.id,
            f"{len(slots) - len(missing)} of {len(slots)} True/False slots ask for a "
            "justification graded by rubric"
            + (f"; none for slot(s) {', '.join(map(str, missing))}" if missing else ""),
        )


def _written_share(share: float, questions, subject: str) -> Iterator[Finding]:
    scenarios = [q for q in questions if q.type == "scenario"]
    if not scenarios:
        return
    written = sum(bool(q.rubric) for q in scenarios)
    need = math.ceil(share * len(scenarios) - 1e-9)
    yield Finding(
        OK if written >= need else FAIL,
        "scenario-written",
        subject,
        f"{written} of {len(scenarios)} scenario items ask for a written decision graded by "
        f"rubric (want at least {need})",
    )


def rule_scenario_written(ctx: Context) -> Iterator[Finding]:
    share = ctx.curriculum.rules.written_scenario_share
    for code, bank in sorted(ctx.curriculum.banks.items()):
        yield from _written_share(share, bank.questions, code)
    from celerylab_course import exams

    for e in sorted(exams.load(ctx.curriculum).values(), key=lambda e: e.id):
        banks = exams.pool_banks(ctx.curriculum, e)
        if e.status == "ready" and banks:
            yield from _written_share(share, [q for b in banks for q in b.questions], e.id)


def rule_exam_written_slots(ctx: Context) -> Iterator[Finding]:
    from celerylab_course import exams, papers

    for e in sorted(exams.load(ctx.curriculum).values(), key=lambda e: e.id):
        notebook = ctx.repo / "source" / e.id / f"{exams.THEORY}.ipynb"
        if e.status != "ready" or e.path not in ctx.curriculum.paths or not notebook.is_file():
            continue
        if not exams.pool_banks(ctx.curriculum, e):
            continue  # poolrules reports an exam without a pool of its own
        slots = papers.slots_of(exams.spec(ctx.curriculum, e, private=False), papers.WRITTEN)
        manual = _manual_cells(notebook)
        missing = [n for n in slots if f"{e.id}-q{n:02d}-decision" not in manual]
        yield Finding(
            FAIL if missing or not slots else OK,
            "scenario-written",
            f"{e.id} paper",
            f"{len(slots) - len(missing)} of {len(slots)} written-scenario slots have a decision "
            "cell graded by rubric"
            + (f"; none for slot(s) {', '.join(map(str, missing))}" if missing else ""),
        )


RULES = [rule_tf_reason, rule_exam_tf_reason, rule_scenario_written, rule_exam_written_slots]
