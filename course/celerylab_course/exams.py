"""Certification exams: one per path and track.

An exam is data (course/exams/<path>.yaml): a theory part drawn from the banks of the path's
modules by the spec's question-type mix and the path level's difficulty mix, fixed by a seed; a
practical part written as a cell script in course/content/<id>/ and graded against a live worker;
and its pass rules. `draw` is deterministic: the same banks and seed give the same questions.
"""

from __future__ import annotations

import math
import random
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from celerylab_course import notebooks, quizgen
from celerylab_course.curriculum import Curriculum, CurriculumError, Question, validate

THEORY, PRACTICAL = "theory", "practical"  # the exam's notebooks (and parts)


class DrawError(ValueError):
    """The banks cannot supply the exam's question count in the required mixes."""


@dataclass(frozen=True)
class Exam:
    id: str
    path: str
    title: str
    certificate: str
    status: str
    seed: int
    questions: int
    theory_minutes: int
    practical_title: str
    practical_minutes: int
    requirements: tuple[str, ...]
    pass_rules: dict[str, float]
    source: Path

    @property
    def minutes(self) -> int:
        return self.theory_minutes + self.practical_minutes


def load(curriculum: Curriculum) -> dict[str, Exam]:
    """Every exam under course/exams/, by id."""
    found = {}
    for file in sorted((curriculum.root / "exams").glob("*.yaml")):
        try:
            d = yaml.safe_load(file.read_text())
        except yaml.YAMLError as e:
            raise CurriculumError(f"{file} is not valid YAML: {e}") from None
        validate(d, "exam", file)
        e = Exam(
            id=d["id"],
            path=d["path"],
            title=d["title"],
            certificate=d["certificate"],
            status=d["status"],
            seed=d["seed"],
            questions=d["theory"]["questions"],
            theory_minutes=d["theory"]["minutes"],
            practical_title=d["practical"]["title"],
            practical_minutes=d["practical"]["minutes"],
            requirements=tuple(d["practical"].get("requirements", ())),
            pass_rules=dict(d["pass"]),
            source=file,
        )
        if e.id in found:
            raise CurriculumError(f"{file}: exam {e.id} is defined twice")
        found[e.id] = e
    return found


def targets(shares: dict[str, float], n: int) -> dict[str, int]:
    """Counts per kind summing to n: each share's exact count rounded down, the rest handed out
    by largest remainder (ties in the order of the shares), so each lies within floor..ceil."""
    exact = {k: s * n for k, s in shares.items()}
    counts = {k: math.floor(v + 1e-9) for k, v in exact.items()}
    order = sorted(exact, key=lambda k: -(exact[k] - counts[k]))
    for k in order[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def pool(curriculum: Curriculum, exam: Exam) -> tuple[list[tuple[str, Question]], list[str]]:
    """([(module, question)] the exam may draw from, modules of the path without a bank)."""
    path = curriculum.paths[exam.path]
    kinds = set(curriculum.rules.question_types)
    found, missing = [], []
    for code in path.modules:
        bank = curriculum.banks.get(code)
        if bank is None:
            missing.append(code)
            continue
        found += [(code, q) for q in bank.questions if q.type in kinds]
    return found, missing


def draw(curriculum: Curriculum, exam: Exam) -> list[Question]:
    """The exam's theory questions: exactly the type and difficulty targets, spread over the
    path's modules, in module order. Deterministic for a given seed and banks."""
    n = exam.questions
    want_type = targets(curriculum.rules.question_types, n)
    level = curriculum.paths[exam.path].level
    want_diff = targets(curriculum.rules.difficulty[level], n)
    candidates, _ = pool(curriculum, exam)
    rng = random.Random(exam.seed)  # noqa: S311 - a reproducible draw, not a secret
    order = {code: i for i, code in enumerate(curriculum.paths[exam.path].modules)}
    for _attempt in range(500):
        by_module: dict[str, list[Question]] = {}
        for code, q in candidates:
            by_module.setdefault(code, []).append(q)
        for qs in by_module.values():
            rng.shuffle(qs)
        # Round robin over the modules, so every module is examined.
        queue = [
            (code, q)
            for i in range(n)
            for code, qs in by_module.items()
            if i < len(qs)
            for q in [qs[i]]
        ]
        types, diffs, chosen = Counter(), Counter(), []
        for code, q in queue:
            if types[q.type] < want_type[q.type] and diffs[q.difficulty] < want_diff[q.difficulty]:
                types[q.type] += 1
                diffs[q.difficulty] += 1
                chosen.append((code, q))
            if len(chosen) == n:
                chosen.sort(key=lambda cq: (order[cq[0]], cq[1].id))
                return [q for _, q in chosen]
        rng.shuffle(candidates)
    raise DrawError(
        f"{exam.id}: the banks of {exam.path} cannot give {n} questions with types {want_type} "
        f"and difficulties {want_diff} ({len(candidates)} questions available)"
    )


def _header(curriculum: Curriculum, exam: Exam, part: str) -> str:
    path = curriculum.paths[exam.path]
    rules = exam.pass_rules
    what = (
        f"**Theory:** {exam.questions} questions drawn from the {path.title}'s modules, "
        f"{exam.theory_minutes} minutes."
        if part == THEORY
        else f"**Practical:** {exam.practical_title}, {exam.practical_minutes} minutes, graded "
        "against a live worker."
    )
    return "\n".join(
        [
            f"# {exam.title}",
            f"## {'Theory' if part == THEORY else 'Practical'} part",
            "",
            f"**Path:** {path.title} · **Exam time:** {exam.minutes} minutes "
            f"({exam.theory_minutes} theory + {exam.practical_minutes} practical) · "
            f"**Earns:** {exam.certificate}",
            "",
            what,
            "",
            f"**To pass:** at least {rules['theory']:.0%} of the theory points, "
            f"{rules['practical']:.0%} of the practical points and {rules['overall']:.0%} of all "
            "points.",
        ]
    )


def theory_notebook(curriculum: Curriculum, exam: Exam):
    cells = [
        notebooks.readonly(
            _header(curriculum, exam, THEORY), f"{exam.id}-theory-header", "markdown"
        )
    ]
    for number, q in enumerate(draw(curriculum, exam), 1):
        cells += quizgen.question_cells(q, number)
    return notebooks.notebook(cells, f"{exam.id}-theory")


def build(curriculum: Curriculum, exam: Exam, out: Path) -> None:
    """Write theory.ipynb (drawn), practical.ipynb and the practical's files into `out`."""
    notebooks.write(theory_notebook(curriculum, exam), out / f"{THEORY}.ipynb")
    content = curriculum.root / "content" / exam.id
    for path in sorted(content.rglob("*")):
        rel = path.relative_to(content)
        if {"__pycache__", ".ipynb_checkpoints"} & set(rel.parts) or path.is_dir():
            continue
        if path.suffix == ".nbs":
            nb = notebooks.from_cellscript(path, curriculum, None, "")
            head = notebooks.readonly(
                _header(curriculum, exam, PRACTICAL), f"{exam.id}-practical-header", "markdown"
            )
            head["id"] = f"{exam.id}-practical-header"
            nb.cells.insert(0, head)
            notebooks.write(nb, out / rel.with_suffix(".ipynb"))
        else:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / rel)
