"""The leak check covers the exchange's student view (issue 21): what `nbgrader list` and
`fetch_assignment` show a student of a released course (the exchange's outbound folder) holds no
answer of a bank or exam pool, and quiz feedback, released to the exchange as nbgrader does it,
holds no answer of an exam pool (it explains the quiz by design, once graded)."""

import shutil
from pathlib import Path

import nbformat
from celerylab_course import exams, leakscan
from celerylab_course.build import nbgrader_api
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
COURSE_ID = "celerylab"
# Every assignment whose keys a student must not read before grading: the quizzes and the exams.
QUIZZES = sorted(m.quiz.assignment for m in CURRICULUM.modules.values() if m.quiz.assignment)
EXAMS = sorted(e.id for e in exams.load(CURRICULUM).values() if e.status == "ready")


def _released_course(tmp_path: Path, names: list[str], tamper=None) -> Path:
    """A course that released `names` through the exchange, as the formgrader releases them;
    returns the exchange's outbound folder (what every student of the course can list)."""
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    (root / "exchange").mkdir(parents=True)
    api = nbgrader_api(root)
    api.coursedir.course_id = COURSE_ID
    with Gradebook(api.coursedir.db_url) as gb:
        for name in names:
            gb.update_or_create_assignment(name)
            shutil.copytree(REPO / "release" / name, root / "release" / name)
    if tamper:
        tamper(root / "release")
    for name in names:
        released = api.release_assignment(name)
        assert released["success"], released["log"]
    return root / "exchange" / COURSE_ID / "outbound"


def test_what_students_list_and_fetch_from_the_exchange_holds_no_answer(tmp_path, capsys):
    outbound = _released_course(tmp_path, QUIZZES + EXAMS)
    assert sorted(p.name for p in outbound.iterdir()) == sorted(QUIZZES + EXAMS)
    assert leakscan.main([str(outbound)]) == 0, capsys.readouterr().out


def test_an_explanation_released_through_the_exchange_is_found(tmp_path, capsys):
    quiz = CURRICULUM.modules["F03-TASK-CONFIG"].quiz.assignment
    pool = next(iter(exams.pool_banks(CURRICULUM, exams.load(CURRICULUM)["exam-expert"])))

    def tamper(release: Path) -> None:
        path = release / quiz / f"{quiz}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Hint: {pool.questions[0].explanation}"))
        nbformat.write(nb, path)

    outbound = _released_course(tmp_path, [quiz], tamper)
    assert leakscan.main([str(outbound)]) == 1
    assert pool.questions[0].id in capsys.readouterr().out


def test_quiz_feedback_released_to_the_exchange_holds_no_exam_answer(tmp_path, capsys):
    quiz = CURRICULUM.modules["F03-TASK-CONFIG"].quiz.assignment
    autograde_many(quiz, {"amy": "source"}, tmp_path)
    # The exchange stamps every submission it collects, with a secret the student's fetch of
    # feedback must show again: feedback is filed under both.
    for step in ("submitted", "autograded"):
        folder = tmp_path / "course" / step / "amy" / quiz
        (folder / "timestamp.txt").write_text("2027-01-10 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text("a1b2c3")
    (tmp_path / "course" / "exchange").mkdir(exist_ok=True)
    api = nbgrader_api(tmp_path / "course")
    api.coursedir.course_id = COURSE_ID
    made = api.generate_feedback(quiz, "amy", force=True)
    assert made["success"], made["log"]
    released = api.release_feedback(quiz, "amy")
    assert released["success"], released
    feedback = tmp_path / "course" / "exchange" / COURSE_ID / "feedback"
    pages = list(feedback.rglob("*.html"))
    assert pages, released["log"]
    # The quiz's own explanations are there by design (the student has been graded) ...
    bank = CURRICULUM.banks["F03-TASK-CONFIG"]
    text = leakscan.words("".join(leakscan.readable_text(p) for p in pages))
    assert any(leakscan.words(q.explanation) in text for q in bank.questions)
    # ... the exam pools' are not, and the scan would say so if they were.
    assert leakscan.main(["--feedback", str(feedback)]) == 0, capsys.readouterr().out
    pool = exams.pool_banks(CURRICULUM, exams.load(CURRICULUM)["exam-foundation"])[0]
    pages[0].write_text(pages[0].read_text() + f"<p>{pool.questions[0].explanation}</p>")
    assert leakscan.main(["--feedback", str(feedback)]) == 1
