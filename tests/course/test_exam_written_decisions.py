"""Written design decisions in the exams (issue 21): at least a third of each exam pool's scenario
items ask for the decision argued in writing, with a rubric and a model answer; every paper gives
them slots of their own (the same slots for every student), each with a decision cell graded by
rubric in formgrader; and the conformance checker fails a pool or a notebook that falls short."""

import math
import shutil
from pathlib import Path

import nbformat
import yaml
from celerylab_course import conformance, exams, papers
from celerylab_course.curriculum import Curriculum

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
EXAMS = exams.load(CURRICULUM)
POOLED = sorted(
    e.id for e in EXAMS.values() if e.status == "ready" and exams.pool_banks(CURRICULUM, e)
)
STUDENTS = ["alice", "bob", "chen", "dara", "eve", "farid"]


def _scenarios(questions) -> tuple[int, int]:
    scenarios = [q for q in questions if q.type == "scenario"]
    return sum(bool(q.rubric) for q in scenarios), len(scenarios)


def test_a_third_of_every_pools_and_of_all_scenario_items_are_written_decisions():
    share = CURRICULUM.rules.written_scenario_share
    assert share >= 0.333
    assert len(POOLED) == 4, "all four certification exams have pools of their own"
    total = [0, 0]
    for exam in POOLED:
        items = [q for b in exams.pool_banks(CURRICULUM, EXAMS[exam]) for q in b.questions]
        written, count = _scenarios(items)
        assert written >= math.ceil(share * count - 1e-9), (exam, written, count)
        for q in items:
            if q.type == "scenario" and q.rubric:
                assert q.rubric_points == sum(1 for _ in q.rubric), q.id
                assert q.answer and len(q.explanation.split()) >= 20, "a model answer for graders"
        total = [total[0] + written, total[1] + count]
    banks = [q for b in CURRICULUM.banks.values() for q in b.questions]
    written, count = _scenarios(banks)
    overall = (total[0] + written) / (total[1] + count)
    print(f"written scenario items: {total[0] + written} of {total[1] + count} ({overall:.0%})")
    assert overall >= 1 / 3


def test_every_paper_puts_written_items_in_the_same_slots_with_a_decision_cell():
    for exam in POOLED:
        e = EXAMS[exam]
        spec = exams.spec(CURRICULUM, e, private=False)
        slots = papers.slots_of(spec, papers.WRITTEN)
        assert slots and len(slots) == spec["written"]
        for who in STUDENTS:
            drawn = papers.select(spec, who)
            for n, item in enumerate(drawn, 1):
                assert bool(item["written"]) == (n in slots), (exam, who, n)
            item, order = papers.slot(spec, who, slots[0])
            shown = papers.prompt(item, order, slots[0])
            assert papers.WRITTEN_ASK in shown, "the student sees what the decision is marked on"
        # The items' own rubrics name the right decision: graders' only, never released.
        released = (REPO / "release" / exam / "pool.json").read_text()
        released += (REPO / "release" / exam / "theory.ipynb").read_text()
        for q in (q for b in exams.pool_banks(CURRICULUM, e) for q in b.questions):
            assert not [c for c in q.rubric if c in released], q.id
        notebook = nbformat.read(REPO / "source" / exam / "theory.ipynb", as_version=4)
        cells = {c.get("id"): c for c in notebook.cells}
        for n in slots:
            cell = cells[f"{exam}-q{n:02d}-decision"]
            assert cell.metadata.nbgrader["grade"] and cell.metadata.nbgrader["solution"]
            assert cell.metadata.nbgrader["points"] == 2


def test_exam_item_prints_the_rubric_and_model_answer_for_graders(capsys):
    e = EXAMS["exam-foundation"]
    n = papers.slots_of(exams.spec(CURRICULUM, e, private=False), papers.WRITTEN)[0]
    assert exams.print_item(CURRICULUM, e.id, "alice", n) == 0
    out = capsys.readouterr().out
    q = next(q for q in exams.draw(CURRICULUM, e, "alice") if q.rubric)
    assert "rubric (2 points" in out and q.rubric[0] in out
    assert "explanation:" in out


# ------------------------------------------------------------- the checker catches


def _failures(course: Path, repo: Path = REPO) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, repo) if f.level == conformance.FAIL
    }


def test_pool_with_too_few_written_decisions_fails(course):
    path = course / "exams" / "pools" / "exam-professional" / "P13-SECURITY.yaml"
    data = yaml.safe_load(path.read_text())
    for q in data["questions"]:
        q.pop("rubric", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    found = _failures(course)
    assert ("scenario-written", "exam-professional") in found
    assert ("scenario-written", "exam-foundation") not in found


def test_theory_notebook_without_its_decision_cells_fails(course, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "source" / "exam-expert", repo / "source" / "exam-expert")
    path = repo / "source" / "exam-expert" / "theory.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.get("id", "").endswith("-decision")]
    nbformat.write(nb, path)
    assert ("scenario-written", "exam-expert paper") in _failures(course, repo)
