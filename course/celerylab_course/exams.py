"""Certification exams: one per path and track.

An exam is data (course/exams/<path>.yaml): a theory part drawn for each student from the exam's
own pool (course/exams/pools/<id>/, else the banks of the path's modules) by the spec's
question-type mix and the path level's difficulty mix, options shuffled per student (papers.py);
a practical part written as a cell script in course/content/<id>/ and graded against a live
worker; and its pass rules. `draw` is deterministic: the same pool, seed and student give the
same paper.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from celerylab_course import notebooks, papers
from celerylab_course.curriculum import (
    Bank,
    Curriculum,
    CurriculumError,
    Question,
    bank_of,
    validate,
)

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


def pool_folder(curriculum: Curriculum, exam: Exam) -> Path:
    """Where the exam's own items live: one bank-format file per module of its path."""
    return curriculum.root / "exams" / "pools" / exam.id


def pool_banks(curriculum: Curriculum, exam: Exam) -> list[Bank]:
    """The exam's own pool, by module (empty while the exam still draws from the quiz banks)."""
    found = []
    for file in sorted(pool_folder(curriculum, exam).glob("*.yaml")):
        try:
            d = yaml.safe_load(file.read_text())
        except yaml.YAMLError as e:
            raise CurriculumError(f"{file} is not valid YAML: {e}") from None
        validate(d, "bank", file)
        found.append(bank_of(d, file))
    return found


def pool(curriculum: Curriculum, exam: Exam) -> tuple[list[tuple[str, Question]], list[str]]:
    """([(module, question)] the exam may draw from, modules of the path without items): its
    own pool when it has one, else (until it has) the quiz banks of the path's modules."""
    path = curriculum.paths[exam.path]
    kinds = set(curriculum.rules.question_types)
    own = {b.module: b for b in pool_banks(curriculum, exam)}
    source = own or curriculum.banks
    found, missing = [], []
    for code in path.modules:
        bank = source.get(code)
        if bank is None:
            missing.append(code)
            continue
        # A slot is autograded: written scenario items wait for slots graded by rubric.
        found += [(code, q) for q in bank.questions if q.type in kinds and q.autograded]
    return found, missing


def _key(q: Question) -> dict:
    if q.type == "fill_blank":
        return {"answers": list(q.answers), "match": q.match}
    return {"key": q.answer}


def spec(curriculum: Curriculum, exam: Exam, private: bool) -> dict:
    """What papers.py draws from: the public part (pool.json, beside the notebook) has prompts
    and options; the private part (in hidden tests and the solution only) has the keys."""
    n = exam.questions
    level = curriculum.paths[exam.path].level
    candidates, _ = pool(curriculum, exam)
    items = []
    for code, q in candidates:
        item = {
            "id": q.id,
            "module": code,
            "type": q.type,
            "difficulty": q.difficulty,
            "choices": len(q.options),
            "written": q.type == "scenario" and bool(q.rubric),
        }
        item.update(_key(q) if private else {"prompt": q.prompt, "options": list(q.options)})
        if item["written"]:
            # Its points only: the rubric names the right decision, so it stays with graders.
            item["points"] = q.rubric_points
        items.append(item)
    types = targets(curriculum.rules.question_types, n)
    return {
        "exam": exam.id,
        "seed": exam.seed,
        "questions": n,
        "modules": list(curriculum.paths[exam.path].modules),
        "types": types,
        "written": written_slots(curriculum, types, items),
        "difficulties": targets(curriculum.rules.difficulty[level], n),
        "items": items,
    }


def written_slots(curriculum: Curriculum, types: dict[str, int], items: list[dict]) -> int:
    """Scenario slots every paper gives to a written decision: rules.yaml's
    written_scenario_share of them, once the pool has written items (a pool without any, like
    the quiz banks' fallback, keeps letter picks only; the pool rules report it)."""
    if not any(it["written"] for it in items):
        return 0
    return math.ceil(curriculum.rules.written_scenario_share * types.get("scenario", 0) - 1e-9)


def draw(curriculum: Curriculum, exam: Exam, student: str = "") -> list[Question]:
    """The theory questions of `student`'s paper (options in bank order): exactly the type and
    difficulty targets, every module examined, in module order. The same pool, seed and student
    give the same paper."""
    by_id = {q.id: q for _, q in pool(curriculum, exam)[0]}
    try:
        return [by_id[it["id"]] for it in papers.select(spec(curriculum, exam, False), student)]
    except papers.DrawError as e:
        raise DrawError(str(e)) from None


def paper(curriculum: Curriculum, exam: Exam, student: str) -> list[Question]:
    """`student`'s paper as they see it: drawn, each choice's options in their shuffled order and
    its key following them."""
    public = spec(curriculum, exam, False)
    out = []
    for q in draw(curriculum, exam, student):
        item = next(it for it in public["items"] if it["id"] == q.id)
        order = papers.option_order(public, student, item)
        if order:
            key = papers.key_for({**item, "key": q.answer}, order)
            q = replace(q, options=tuple(q.options[i] for i in order), answer=key)
        out.append(q)
    return out


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


PAPER_NOTE = (
    "**Your paper is your own.** The questions below are drawn for you from a larger pool, and "
    "the options of each are in an order of your own: your neighbour's question 3 is not yours. "
    "Run each question's cell to show it, answer in the cell under it, then run the check: the "
    "check tells you whether your answer has the right form (not whether it is right)."
)


def reason_cells(curriculum: Curriculum, exam: Exam, n: int) -> list:
    """A True/False slot's justification, graded by rubric in formgrader (rules.yaml's
    true_false_reason, as for quizzes): the choice stays autograded. The statement differs per
    student, so the graders' model answer is the pool item's explanation, found by the item id
    `celerylab-course` prints for the student's slot."""
    reason = curriculum.rules.true_false_reason
    criteria = "\n".join(f"- {c}" for c in reason["criteria"])
    return [
        notebooks.readonly(
            f"**Explain your reasoning** for question {n} in the cell below "
            f"({reason['points']} points, graded by your instructor). It is marked on:\n\n"
            f"{criteria}",
            f"{exam.id}-q{n:02d}-rubric",
            "markdown",
        ),
        notebooks.manual(
            "**Model answer (instructors only).** The statement is drawn per student: the "
            "explanation of the student's item in course/exams/pools/ "
            f"(`celerylab-course exam-item {exam.id} <student> {n}` names it).",
            f"{exam.id}-q{n:02d}-reasoning",
            reason["points"],
        ),
    ]


def written_cells(exam: Exam, n: int, points: int) -> list:
    """A written-scenario slot's argued decision, graded in formgrader by the rubric of the
    student's item (graders only: it names the right decision; students see what it marks,
    papers.WRITTEN_ASK); the choice stays autograded."""
    return [
        notebooks.readonly(
            f"**Argue your decision** for question {n} in the cell below ({points} points, "
            f"graded by your instructor). It is marked on:\n\n{papers.WRITTEN_ASK}",
            f"{exam.id}-q{n:02d}-rubric",
            "markdown",
        ),
        notebooks.manual(
            "**Model answer and rubric (instructors only).** The scenario is drawn per student: "
            "`celerylab-course exam-item "
            f"{exam.id} <student> {n}` prints the student's item, its rubric and its "
            "explanation, which is the model answer.",
            f"{exam.id}-q{n:02d}-decision",
            points,
        ),
    ]


def theory_notebook(curriculum: Curriculum, exam: Exam):
    """One notebook for every student: each slot shows the student's own question (papers.show,
    from pool.json) and its hidden test carries the keys of the whole pool, so the paper is
    drawn again, for the submitting student, when graded. True/False slots (the same slots on
    every paper) add a justification graded by rubric."""
    header = _header(curriculum, exam, THEORY) + "\n\n" + PAPER_NOTE
    cells = [notebooks.readonly(header, f"{exam.id}-theory-header", "markdown")]
    public = spec(curriculum, exam, False)
    tf_slots = set(papers.slots_of(public, "true_false"))
    written = set(papers.slots_of(public, papers.WRITTEN))
    points = max((it.get("points", 0) for it in public["items"] if it["written"]), default=0)
    blob = repr(json.dumps(spec(curriculum, exam, True), separators=(",", ":")))
    cells.append(
        notebooks.readonly("from celerylab_course import papers", f"{exam.id}-imports", "code")
    )
    for n in range(1, exam.questions + 1):
        var = f"answer_{n:02d}"
        cells += [
            notebooks.readonly(f"papers.show({n})", f"{exam.id}-q{n:02d}-prompt", "code"),
            notebooks.answer(
                f"### BEGIN SOLUTION\n{var} = papers.solve({blob}, {n})\n### END SOLUTION",
                f"{exam.id}-q{n:02d}-answer",
            ),
            notebooks.tests(
                "# Checks the form of your answer only; the answer is checked when graded.\n"
                f"papers.format_answer({n}, {var})\n"
                "### BEGIN HIDDEN TESTS\n"
                f"papers.check_answer({blob}, {n}, {var})\n"
                "### END HIDDEN TESTS",
                f"{exam.id}-q{n:02d}",
                1,
            ),
        ]
        if n in tf_slots:
            cells += reason_cells(curriculum, exam, n)
        if n in written:
            cells += written_cells(exam, n, points)
    return notebooks.notebook(cells, f"{exam.id}-theory")


def build(curriculum: Curriculum, exam: Exam, out: Path) -> None:
    """Write theory.ipynb (drawn), practical.ipynb and the practical's files into `out`."""
    notebooks.write(theory_notebook(curriculum, exam), out / f"{THEORY}.ipynb")
    public = json.dumps(spec(curriculum, exam, False), indent=1, ensure_ascii=False)
    (out / papers.POOL_FILE).write_text(public + "\n")
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


def print_item(curriculum: Curriculum, exam_id: str, student: str, slot: int) -> int:
    """Print the item in `student`'s slot `slot` as they saw it, with its key and explanation
    (for graders marking a justification). Exit status 2 on an unknown exam or slot."""
    e = load(curriculum).get(exam_id)
    drawn = paper(curriculum, e, student) if e else []
    if not 1 <= slot <= len(drawn):
        print(f"celerylab-course: no slot {slot} in {exam_id}'s papers", file=sys.stderr)
        return 2
    q = drawn[slot - 1]
    key = q.answers if q.type == "fill_blank" else q.answer
    print(f"{exam_id} · {student} · slot {slot}: {q.id} ({q.type}, {q.difficulty})")
    print(q.prompt)
    for letter, option in zip(papers.LETTERS, q.options, strict=False):
        print(f"  {letter}. {option}")
    print(f"key: {key!r}\nexplanation: {q.explanation}")
    if q.rubric:
        print(f"rubric ({q.rubric_points} points; the explanation is the model answer):")
        for c in q.rubric:
            print(f"  - {c}")
    return 0
