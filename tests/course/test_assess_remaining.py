"""What remained of issue 21: own pools for every certification exam, quiz options in each
student's order (graded through the real judged nbgrader path), True/False justifications on
exam papers, and graded practical hours counted over every practical of a module."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from celerylab_course import answers, conformance, exams, integrity, papers
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
EXAMS = exams.load(CURRICULUM)
READY = sorted(e.id for e in EXAMS.values() if e.status == "ready")


# ------------------------------------------------------------------ every exam has its pool


def test_every_ready_exam_draws_from_a_pool_of_its_own_larger_than_the_paper():
    found = {(f.rule, f.subject): f for f in conformance.run()}
    for exam in READY:
        e = EXAMS[exam]
        own = [q for b in exams.pool_banks(CURRICULUM, e) for q in b.questions]
        assert len(own) > e.questions, exam
        for rule in ("exam-pool", "exam-pool-disjoint", "exam-pool-size", "exam-pool-tf"):
            assert found[(rule, exam)].level == conformance.OK, found[(rule, exam)]
        drawn = {q.id for q in exams.draw(CURRICULUM, e, "alice")}
        assert drawn <= {q.id for q in own}, "papers come from the pool, not the quiz banks"


def test_knowledge_free_play_over_many_papers_stays_below_half():
    """40 students per exam (conformance plays 12): the best of every strategy on the worst
    paper. The letters are permuted per paper, so the pool's balance holds on each."""
    worst = {}
    for paper in integrity.exam_papers(CURRICULUM, integrity.sample(40)):
        exam = paper.name.partition("/")[0]
        worst[exam] = max(worst.get(exam, 0.0), integrity.best(paper)[1])
    assert set(worst) == set(READY)
    assert max(worst.values()) < integrity.GUESS_LIMIT, worst


# ------------------------------------------------------------------ quiz options per student

QUIZ = "f03-quiz"
BANK = CURRICULUM.banks["F03-TASK-CONFIG"]
CHOICES = [q for q in BANK.questions if q.type in ("multiple_choice", "scenario") and q.autograded]


def test_quiz_letters_are_permuted_per_student_and_the_key_follows():
    orders = {who: answers._order(QUIZ, who) for who in ("alice", "bob", "chen", "dara")}
    assert len({tuple(o) for o in orders.values()}) > 1, "students see different orders"
    assert answers._order(QUIZ, "alice") == orders["alice"], "a regrade gives the same order"
    for who, order in orders.items():
        for q in CHOICES:
            shown = [q.options[i] for i in order]
            key = answers.student_letter(q.answer, QUIZ, who)
            assert shown["ABCD".index(key)] == q.options["ABCD".index(q.answer)], (who, q.id)


def test_quiz_options_fall_back_where_the_student_is_unknown(monkeypatch, capsys):
    monkeypatch.delenv(papers.GRADING_ID, raising=False)
    monkeypatch.delenv(papers.LAB_ID, raising=False)
    answers.show_options(QUIZ, ["w", "x", "y", "z"])  # a warm sandbox's kernel: no error
    assert "their order is your own" in capsys.readouterr().out
    q = CHOICES[0]
    with pytest.raises(AssertionError, match=papers.GRADING_ID):
        answers.check_choice(q.id, "A", q.answer, q.explanation, shuffle=QUIZ)
    monkeypatch.setenv(papers.LAB_ID, "alice")  # the student's own lab
    answers.show_options(QUIZ, ["w", "x", "y", "z"])
    assert "shown in your lab" not in capsys.readouterr().out


def test_released_quiz_shows_options_through_the_students_order_and_hides_the_key():
    nb = nbformat.read(REPO / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    cells = {c.get("id"): c for c in nb.cells}
    for q in CHOICES:
        assert "answers.show_options(" in cells[f"{q.id}-options"].source
        assert "**A.**" not in cells[f"{q.id}-prompt"].source
    text = (REPO / "release" / QUIZ / f"{QUIZ}.ipynb").read_text()
    assert "solve_choice" not in text and "check_choice" not in text


def _answered(source: Path, keys: dict[str, object], dest: Path) -> Path:
    """The release's quiz with each autograded answer cell set from `keys` (by question id)."""
    shutil.copytree(source, dest)
    path = dest / f"{QUIZ}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        qid = cell.get("id", "").removesuffix("-answer")
        if cell.get("id", "").endswith("-answer") and qid in keys:
            var = "answer_" + qid.rsplit("-", 1)[-1].lstrip("q")
            cell.source = f"{var} = {keys[qid]!r}"
    nbformat.write(nb, path)
    return dest


def test_shuffled_quiz_is_graded_against_the_submitting_students_letters(tmp_path):
    """Real nbgrader with the judge: alice's own letters score every choice point for alice;
    the same notebook handed in by bob, and the bank's letters handed in by chen, lose
    points (unless their permutations happen to agree with those letters)."""
    alices = {q.id: answers.student_letter(q.answer, QUIZ, "alice") for q in CHOICES}
    bank = {q.id: q.answer for q in CHOICES}
    folder = _answered(REPO / "release" / QUIZ, alices, tmp_path / "alices")
    banks = _answered(REPO / "release" / QUIZ, bank, tmp_path / "banks")
    graded = autograde_many(
        QUIZ, {"alice": folder, "bob": folder, "chen": banks, "key": "source"}, tmp_path
    )

    def points(who):
        return sum(graded[who].grades[q.id][0] for q in CHOICES)

    assert points("alice") == len(CHOICES), graded["alice"].feedback
    assert points("key") == len(CHOICES), graded["key"].feedback
    for who, given in (("bob", alices), ("chen", bank)):
        agree = sum(answers.student_letter(q.answer, QUIZ, who) == given[q.id] for q in CHOICES)
        assert agree < len(CHOICES), "the sample students' permutations must differ"
        assert points(who) == agree, (who, graded[who].feedback)
    assert f"{CHOICES[0].id}: correct." in graded["alice"].feedback


# ------------------------------------------------------------ exam True/False justifications


@pytest.mark.parametrize("exam", READY)
def test_true_false_items_sit_in_the_same_slots_on_every_paper_each_with_a_reason(exam):
    e = EXAMS[exam]
    slots = papers.slots_of(exams.spec(CURRICULUM, e, private=False), "true_false")
    assert slots
    for who in ("alice", "bob", "chen", "dara", "erin"):
        drawn = exams.paper(CURRICULUM, e, who)
        tf = [n for n, q in enumerate(drawn, 1) if q.type == "true_false"]
        assert tf == slots, (who, tf)
    source = nbformat.read(REPO / "source" / exam / "theory.ipynb", as_version=4)
    manual = {
        c.get("id")
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"
    }
    # The other manually graded cells are the written-scenario slots' decisions.
    written = papers.slots_of(exams.spec(CURRICULUM, e, private=False), papers.WRITTEN)
    assert manual == {f"{exam}-q{n:02d}-reasoning" for n in slots} | {
        f"{exam}-q{n:02d}-decision" for n in written
    }
    criterion = CURRICULUM.rules.true_false_reason["criteria"][0]
    assert criterion in (REPO / "release" / exam / "theory.ipynb").read_text()


def test_exam_item_command_names_the_students_item_for_graders(capsys):
    from celerylab_course import cli

    e = EXAMS["exam-expert"]
    n = papers.slots_of(exams.spec(CURRICULUM, e, private=False), "true_false")[0]
    assert cli.main(["exam-item", e.id, "alice", str(n)]) == 0
    q = exams.paper(CURRICULUM, e, "alice")[n - 1]
    out = capsys.readouterr().out
    assert q.id in out and q.explanation in out and f"key: {q.answer!r}" in out
    assert cli.main(["exam-item", e.id, "alice", "99"]) == 2


# ------------------------------------------------------------------ seeded violations


def _failures(course: Path, repo: Path = REPO) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, repo) if f.level == conformance.FAIL
    }


def test_exam_true_false_slot_without_its_reasoning_cell_fails(course, tmp_path):
    repo = tmp_path / "repo"
    exam = "exam-django"
    shutil.copytree(REPO / "source" / exam, repo / "source" / exam)
    path = repo / "source" / exam / "theory.ipynb"
    nb = nbformat.read(path, as_version=4)
    first = next(c.get("id") for c in nb.cells if c.get("id", "").endswith("-reasoning"))
    nb.cells = [c for c in nb.cells if c.get("id") != first]
    nbformat.write(nb, path)
    assert ("tf-reason", exam) in _failures(course, repo)


def _edit_module(course: Path, code: str, change) -> None:
    path = course / "curriculum" / "modules" / f"{code}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_graded_practical_hours_count_every_practical_of_a_module(course):
    found = {(f.rule, f.subject): f for f in conformance.run()}
    assert [f for (r, s), f in found.items() if r == "stated" and s == "P09-ADV-WORKFLOW"]
    assert ("stated", "P09-ADV-WORKFLOW") not in _failures(REPO / "course")

    def grade_all(d):
        for p in d["assessments"]["practicals"]:
            p.pop("graded", None)

    _edit_module(course, "P09-ADV-WORKFLOW", grade_all)  # 3 h + 2 h graded: the spec says 3 h
    assert ("stated", "P09-ADV-WORKFLOW") in _failures(course)


def test_success_criterion_resting_on_an_optional_lab_fails(course):
    def back(d):
        d["success_criteria"][0]["check"] = {
            "assignment": "p09-design-lab",
            "cells": ["test-happy-path"],
            "min_fraction": 1.0,
        }

    _edit_module(course, "P09-ADV-WORKFLOW", back)
    assert ("structure", "P09-ADV-WORKFLOW") in _failures(course)


def test_designed_module_over_the_practical_range_fails(course):
    designed = next(
        m for m in CURRICULUM.modules.values() if m.origin == "designed" and m.practicals
    )

    def pad(d):
        d["assessments"]["practicals"].append(
            {**d["assessments"]["practicals"][0], "title": "Another graded lab", "hours": 4}
        )

    _edit_module(course, designed.code, pad)
    assert ("practical-hours", designed.code) in _failures(course)


def test_pool_json_is_released_for_every_exam():
    for exam in READY:
        public = json.loads((REPO / "release" / exam / papers.POOL_FILE).read_text())
        assert public == exams.spec(CURRICULUM, EXAMS[exam], private=False), exam
