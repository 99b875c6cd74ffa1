"""Exam papers drawn per student from pools of their own (issue 21): the draw and the option
shuffle are seeded by exam and student (a regrade gives the same paper), keys follow the shuffle,
the released pool holds no key, grading names the student, and the pool rules catch each kind of
violation."""

import json
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import yaml
from celerylab_course import conformance, exams, leakscan, papers
from celerylab_course.conformance import mix_bounds
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
EXAMS = exams.load(CURRICULUM)
READY = sorted(e.id for e in EXAMS.values() if e.status == "ready")
POOLED = [e for e in READY if exams.pool_banks(CURRICULUM, EXAMS[e])]
STUDENTS = ["alice", "bob", "chen", "dara"]


@pytest.mark.parametrize("exam", READY)
def test_each_student_draws_a_paper_of_their_own_in_the_mixes(exam):
    e = EXAMS[exam]
    level = CURRICULUM.paths[e.path].level
    drawn = {s: [q.id for q in exams.draw(CURRICULUM, e, s)] for s in STUDENTS}
    assert drawn["alice"] == [q.id for q in exams.draw(CURRICULUM, e, "alice")], "regrade"
    assert len({tuple(ids) for ids in drawn.values()}) == len(STUDENTS), "papers must differ"
    for s in STUDENTS:
        qs = exams.draw(CURRICULUM, e, s)
        assert len({q.id for q in qs}) == e.questions
        for counts, shares in [
            (Counter(q.type for q in qs), CURRICULUM.rules.question_types),
            (Counter(q.difficulty for q in qs), CURRICULUM.rules.difficulty[level]),
        ]:
            for kind, (lo, hi) in mix_bounds(shares, e.questions).items():
                assert lo <= counts[kind] <= hi, (s, kind, counts)
    reseeded = exams.Exam(**{**e.__dict__, "seed": e.seed + 1})
    assert [q.id for q in exams.draw(CURRICULUM, reseeded, "alice")] != drawn["alice"]


@pytest.mark.parametrize("exam", READY)
def test_options_are_shuffled_per_student_and_the_key_follows_them(exam):
    e = EXAMS[exam]
    bank = {q.id: q for _, q in exams.pool(CURRICULUM, e)[0]}
    orders = Counter()
    for s in STUDENTS:
        for q in exams.paper(CURRICULUM, e, s):
            original = bank[q.id]
            assert sorted(q.options) == sorted(original.options)
            if q.options:
                # the key names the same option text, wherever it moved
                key_text = original.options["ABCD".index(original.answer)]
                assert q.options["ABCD".index(q.answer)] == key_text
                orders[q.options != original.options] += 1
    assert orders[True] > orders[False], "most students see most options moved"


@pytest.mark.parametrize("exam", READY)
def test_solution_and_hidden_check_grade_the_submitting_students_paper(exam, monkeypatch):
    e = EXAMS[exam]
    blob = json.dumps(exams.spec(CURRICULUM, e, private=True))
    monkeypatch.setenv(papers.GRADING_ID, "alice")
    alice = exams.paper(CURRICULUM, e, "alice")
    for n, q in enumerate(alice, 1):
        key = papers.solve(blob, n)
        papers.check_answer(blob, n, key)  # alice's key passes for alice
        if q.type != "fill_blank":
            assert key == q.answer
    monkeypatch.setenv(papers.GRADING_ID, "bob")
    wrong = 0
    for n, q in enumerate(alice, 1):  # alice's answers handed in under bob's name
        try:
            papers.check_answer(blob, n, q.answers[0] if q.type == "fill_blank" else q.answer)
        except AssertionError:
            wrong += 1
    assert wrong > len(alice) // 2, wrong


def test_grading_without_the_students_name_is_an_error_not_a_guess(monkeypatch):
    e = EXAMS["exam-foundation"]
    blob = json.dumps(exams.spec(CURRICULUM, e, private=True))
    monkeypatch.delenv(papers.GRADING_ID, raising=False)
    monkeypatch.setenv(papers.LAB_ID, "instructor")  # a course container's own user
    with pytest.raises(AssertionError, match=papers.GRADING_ID):
        papers.check_answer(blob, 1, "A")


def test_a_student_sees_their_own_question_in_each_slot(monkeypatch):
    e = EXAMS["exam-foundation"]
    public = json.loads((REPO / "release" / e.id / papers.POOL_FILE).read_text())
    assert public == exams.spec(CURRICULUM, e, private=False), "release/ pool.json is stale"
    monkeypatch.setenv(papers.LAB_ID, "alice")
    monkeypatch.delenv(papers.GRADING_ID, raising=False)
    q = exams.paper(CURRICULUM, e, "alice")[0]
    item, order = papers.slot(public, papers.student(), 1)
    text = papers.prompt(item, order, 1)
    assert q.prompt in text
    for letter, option in zip("ABCD", q.options, strict=False):
        assert f"**{letter}.** {option}" in text


@pytest.mark.parametrize("exam", READY)
def test_released_pool_and_notebook_hold_no_key(exam):
    public = json.loads((REPO / "release" / exam / papers.POOL_FILE).read_text())
    assert not [it["id"] for it in public["items"] if {"key", "answers"} & set(it)]
    assert not leakscan.scan([REPO / "release" / exam], CURRICULUM)
    text = (REPO / "release" / exam / "theory.ipynb").read_text()
    assert "check_answer" not in text and "papers.solve" not in text


def test_pool_items_never_appear_in_a_quiz():
    quizzes = " ".join(
        leakscan.words(leakscan.readable_text(nb))
        for nb in sorted((REPO / "release").glob("*-quiz/*.ipynb"))
    )
    assert quizzes
    for exam in POOLED:
        for b in exams.pool_banks(CURRICULUM, EXAMS[exam]):
            for q in b.questions:
                assert leakscan.words(q.prompt) not in quizzes, q.id


def test_another_students_answers_lose_points_when_graded(tmp_path):
    """Real nbgrader: alice's keys, handed in by alice, score full marks; the same notebook
    handed in by bob is graded against bob's paper."""
    exam = "exam-foundation"
    e = EXAMS[exam]
    release = REPO / "release" / exam
    nb = nbformat.read(release / "theory.ipynb", as_version=4)
    keys = {n: q for n, q in enumerate(exams.paper(CURRICULUM, e, "alice"), 1)}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("-answer"):
            n = int(gid.rsplit("-", 2)[1].lstrip("q"))
            q = keys[n]
            answer = q.answers[0] if q.type == "fill_blank" else q.answer
            cell.source = f"answer_{n:02d} = {answer!r}"
    folder = tmp_path / "alices"
    shutil.copytree(release, folder)
    nbformat.write(nb, folder / "theory.ipynb")
    graded = autograde_many(exam, {"alice": folder, "bob": folder}, tmp_path)
    theory = [f"{exam}-q{n:02d}" for n in range(1, e.questions + 1)]
    alice = sum(graded["alice"].grades[g][0] for g in theory)
    bob = sum(graded["bob"].grades[g][0] for g in theory)
    assert alice == e.questions, graded["alice"].feedback
    assert bob < 0.5 * e.questions, (bob, graded["bob"].feedback)


# ------------------------------------------------------------------ the pool rules catch


def _pool_file(course: Path, code: str) -> Path:
    return course / "exams" / "pools" / "exam-foundation" / f"{code}.yaml"


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def failures(course: Path) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == conformance.FAIL
    }


def test_pool_rules_pass_on_the_real_pools():
    found = {(f.rule, f.subject): f.level for f in conformance.run()}
    for exam in POOLED:
        for rule in ("exam-pool-disjoint", "exam-pool-size", "exam-pool-tf"):
            assert found[(rule, exam)] == conformance.OK, (rule, exam)


def test_pool_item_copied_from_a_quiz_bank_fails(course):
    quiz = CURRICULUM.banks["F03-TASK-CONFIG"].questions[0]
    edit(
        _pool_file(course, "F03-TASK-CONFIG"),
        lambda d: d["questions"][0].update(prompt=quiz.prompt + "  "),
    )
    assert ("exam-pool-disjoint", "exam-foundation") in failures(course)


def test_pool_no_larger_than_the_paper_fails(course):
    # Two True/False items out: the paper then needs all six that are left.
    def drop_tf(d):
        d["questions"] = [q for q in d["questions"] if q["type"] != "true_false"]

    for code in ("F01-DISTRO-SYS", "F02-FIRST-APP"):
        edit(_pool_file(course, code), drop_tf)
    assert ("exam-pool-size", "exam-foundation") in failures(course)


def test_pool_with_mostly_true_statements_fails(course):
    for code in ("F03-TASK-CONFIG", "F06-CANVAS-BASICS", "F08-RELIABILITY-TESTING"):
        edit(
            _pool_file(course, code),
            lambda d: [q.update(answer=True) for q in d["questions"] if q["type"] == "true_false"],
        )
    assert ("exam-pool-tf", "exam-foundation") in failures(course)


def test_pool_whose_key_is_the_longest_option_fails(course):
    def pad_key(d):
        for q in d["questions"]:
            if q["type"] in ("multiple_choice", "scenario"):
                k = "ABCD".index(q["answer"])
                q["options"][k] += " (this is explained at length in the lesson)"

    for path in (course / "exams" / "pools" / "exam-foundation").glob("*.yaml"):
        edit(path, pad_key)
    assert ("key-longest", "exam-foundation") in failures(course)


# ------------------------------------------------------ the lab image and the exchange's view


def test_lab_image_holds_no_answer_and_names_no_question():
    files = leakscan.image_files(REPO / "images" / "lab" / "Dockerfile", REPO)
    assert REPO / "course" / "celerylab_course" / "answers.py" in files  # hidden tests need it
    assert REPO / "course" / "celerylab_course" / "factchecks.py" not in files
    assert leakscan.scan_image(REPO / "images" / "lab" / "Dockerfile", REPO, CURRICULUM) == []


def test_image_scan_finds_a_copied_file_naming_a_question_unless_dockerignored(tmp_path):
    quiz = CURRICULUM.banks["F03-TASK-CONFIG"].questions[0]
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "keys.py").write_text(f"# {quiz.id} is A\n")
    (tmp_path / "pkg" / "notes.md").write_text(quiz.explanation + "\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nCOPY pkg /opt/pkg\n")
    found = leakscan.scan_image(tmp_path / "Dockerfile", tmp_path, CURRICULUM)
    assert any("keys.py: names question(s) " + quiz.id in f for f in found), found
    assert any(f.endswith(f"notes.md: explanation of {quiz.id}") for f in found), found
    (tmp_path / ".dockerignore").write_text("pkg/*\n!pkg/notes.md\n")
    found = leakscan.scan_image(tmp_path / "Dockerfile", tmp_path, CURRICULUM)
    assert [f.rsplit("/", 1)[-1] for f in found] == [f"notes.md: explanation of {quiz.id}"]


def test_feedback_may_explain_quizzes_but_never_the_exam_pool(tmp_path, capsys):
    quiz = CURRICULUM.banks["F03-TASK-CONFIG"].questions[0]
    pool = exams.pool_banks(CURRICULUM, EXAMS["exam-foundation"])[0].questions[0]
    (tmp_path / "quiz.html").write_text(f"<p>{quiz.explanation}</p>")
    assert leakscan.scan([tmp_path], CURRICULUM, quizzes=False) == []
    (tmp_path / "exam.html").write_text(f"<p>{pool.explanation}</p>")
    assert leakscan.main(["--feedback", str(tmp_path)]) == 1
    assert f"exam.html: explanation of {pool.id}" in capsys.readouterr().out


def test_no_lab_grades_style_all_or_nothing():
    """A share of the style points per kind of finding (checks.style_grade), never the whole
    share for one line: expect_pep8 is gone from every graded notebook."""
    graded = list((REPO / "course" / "content").rglob("*.nbs"))
    assert graded
    assert not [p for p in graded if "expect_pep8(" in p.read_text()]
    f08 = (REPO / "source" / "f08-testing-lab").rglob("*.ipynb")
    assert any("style_grade(" in p.read_text() for p in f08)


# ------------------------------------------- justifications and written decisions, by rubric


def test_every_true_false_item_asks_for_a_justification_graded_by_rubric():
    reason = CURRICULUM.rules.true_false_reason
    assert reason["points"] >= 1 and reason["criteria"]
    found = {(f.rule, f.subject): f for f in conformance.run()}
    for code, bank in CURRICULUM.banks.items():
        if any(q.type == "true_false" for q in bank.questions):
            assert found[("tf-reason", code)].level == conformance.OK, found[("tf-reason", code)]
        if any(q.type == "scenario" for q in bank.questions):
            assert found[("scenario-written", code)].level == conformance.OK, code
    f03 = CURRICULUM.modules["F03-TASK-CONFIG"].quiz.assignment
    tf = next(q for q in CURRICULUM.banks["F03-TASK-CONFIG"].questions if q.type == "true_false")
    source = nbformat.read(REPO / "source" / f03 / f"{f03}.ipynb", as_version=4)
    model = next(c for c in source.cells if c.get("id") == f"{tf.id}-reasoning")
    assert tf.explanation in model.source, "graders get the explanation as the model answer"
    release = (REPO / "release" / f03 / f"{f03}.ipynb").read_text()
    assert reason["criteria"][0] in release, "students see what the reason is marked on"


def test_true_false_item_without_its_reasoning_cell_fails(course, tmp_path):
    f03 = CURRICULUM.modules["F03-TASK-CONFIG"].quiz.assignment
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "source" / f03, repo / "source" / f03)
    path = repo / "source" / f03 / f"{f03}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.get("id", "").endswith("-reasoning")]
    nbformat.write(nb, path)
    found = {(f.rule, f.subject) for f in conformance.run(course, repo) if f.level == "FAIL"}
    assert ("tf-reason", "F03-TASK-CONFIG") in found


def test_bank_with_too_few_written_scenarios_fails(course):
    def unwrite(d):
        for q in d["questions"]:
            q.pop("rubric", None) if q["type"] == "scenario" else None

    edit(course / "banks" / "F03-TASK-CONFIG.yaml", unwrite)
    assert ("scenario-written", "F03-TASK-CONFIG") in failures(course)
