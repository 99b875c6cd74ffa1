"""Certification exams: the draw from the pool is deterministic and keeps the spec's mixes, every
exam lasts 2-4 hours, a ready exam's key and solution autograde to full marks and its untouched
release fails, and certificates (with Track A's Expert prerequisite) follow the pass rules."""

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from celerylab_course import certificates, conformance, exams, leakscan
from celerylab_course.build import nbgrader_api
from celerylab_course.conformance import mix_bounds
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

REPO = Path(__file__).resolve().parents[2]
CURRICULUM = Curriculum.load()
EXAMS = exams.load(CURRICULUM)
READY = sorted(e.id for e in EXAMS.values() if e.status == "ready")


def test_one_exam_per_path_and_track_lasting_two_to_four_hours():
    assert sorted(e.path for e in EXAMS.values()) == sorted(CURRICULUM.paths)
    lo, hi = CURRICULUM.rules.exam["hours"]
    for e in EXAMS.values():
        assert lo * 60 <= e.minutes <= hi * 60, e.id


@pytest.mark.parametrize("exam", READY)
def test_draw_is_deterministic_and_keeps_the_mixes(exam):
    e = EXAMS[exam]
    first = exams.draw(CURRICULUM, e)
    assert [q.id for q in first] == [q.id for q in exams.draw(CURRICULUM, e)]
    assert len({q.id for q in first}) == e.questions
    level = CURRICULUM.paths[e.path].level
    for counts, shares in [
        (Counter(q.type for q in first), CURRICULUM.rules.question_types),
        (Counter(q.difficulty for q in first), CURRICULUM.rules.difficulty[level]),
    ]:
        for kind, (lo, hi) in mix_bounds(shares, e.questions).items():
            assert lo <= counts[kind] <= hi, (kind, counts)
    candidates, _ = exams.pool(CURRICULUM, e)
    module_of = {q.id: code for code, q in candidates}
    examined = {module_of[q.id] for q in first}
    assert examined == {code for code, _ in candidates}, "every module with items is examined"
    other = exams.draw(CURRICULUM, exams.Exam(**{**e.__dict__, "seed": e.seed + 1}))
    assert [q.id for q in other] != [q.id for q in first], "the seed must change the draw"


def test_draw_fails_clearly_when_the_banks_are_too_small():
    e = EXAMS["exam-foundation"]
    with pytest.raises(exams.DrawError, match="cannot give 500 questions"):
        exams.draw(CURRICULUM, exams.Exam(**{**e.__dict__, "questions": 500}))


def test_pass_rules():
    e = EXAMS["exam-foundation"]
    good = {"theory": (27.0, 30.0), "practical": (12.0, 12.0)}
    assert certificates.judge(e, good, pending=False) == certificates.CERTIFIED
    assert certificates.judge(e, good, pending=True) == certificates.PENDING
    weak_practical = {"theory": (30.0, 30.0), "practical": (8.0, 12.0)}
    assert certificates.judge(e, weak_practical, pending=False) == certificates.NOT_PASSED
    weak_overall = {"theory": (22.0, 30.0), "practical": (9.0, 12.0)}  # 70% + 75%, 74% overall
    assert certificates.judge(e, weak_overall, pending=False) == certificates.NOT_PASSED


@pytest.mark.redis
@pytest.mark.parametrize("exam", READY)
def test_key_full_marks_release_fails_and_certificates_follow(exam, tmp_path, capsys):
    from celerylab_course import cli
    from nbgrader.api import Gradebook

    graded = autograde_many(exam, {"key": "source", "blank": "release"}, tmp_path)
    key, blank = graded["key"], graded["blank"]
    auto = {k: v for k, v in key.grades.items() if k not in key.pending}
    assert auto and all(score == top for score, top in auto.values()), (auto, key.feedback)
    assert blank.score < CURRICULUM.rules.pass_fraction * blank.max_score
    assert blank.score == 0, blank.feedback
    # The feedback a student gets back carries none of the pool's answers (the blank paper's:
    # the key's holds the model answers it was given as its own).
    api = nbgrader_api(tmp_path / "course")
    made = api.generate_feedback(exam, "blank", force=True)
    assert made["success"], made["log"]
    feedback = tmp_path / "course" / "feedback" / "blank"
    assert list(feedback.rglob("*.html")), made["log"]
    assert leakscan.main(["--feedback", str(feedback)]) == 0, capsys.readouterr().out

    def certificate(student):
        outcomes = certificates.evaluate(CURRICULUM, key.db_url, student)
        return next(o for o in outcomes if o.exam == exam)

    # Scenario reasoning waits for an instructor: no certificate until it is graded.
    assert certificate("key").status == (
        certificates.PENDING if key.pending else certificates.CERTIFIED
    )
    with Gradebook(key.db_url) as gb:
        for name in key.pending:
            for nb in gb.find_submission(exam, "key").notebooks:
                for g in nb.grades:
                    if g.name == name:  # as the formgrader records a manual grade
                        g.manual_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
    assert certificate("key").status == certificates.CERTIFIED
    assert certificate("blank").status == certificates.NOT_PASSED
    assert certificate("nobody").status == certificates.NOT_SUBMITTED

    # The command line reports each certificate and Track A's Expert prerequisite.
    assert cli.main(["certificates", key.db_url, "key"]) == 0
    out = capsys.readouterr().out
    assert f"certified  {EXAMS[exam].certificate}" in out
    held = "held" if EXAMS[exam].path == "expert" else "NOT held"
    assert f"requires   django: Expert Certification - {held}" in out, out
    assert cli.main(["certificates", key.db_url, "blank"]) == 0
    out = capsys.readouterr().out
    assert f"not passed {EXAMS[exam].certificate}" in out
    assert "requires   django: Expert Certification - NOT held" in out, out
    # progress reports the locked track next to the success criteria.
    assert cli.main(["progress", key.db_url, "blank"]) == 0
    out = capsys.readouterr().out
    assert "locked        django" in out and "Expert Certification, not held yet" in out, out


def test_release_holds_no_answers_of_the_pool():
    for exam in READY:
        text = json.dumps(json.loads((REPO / "release" / exam / "theory.ipynb").read_text()))
        for q in (q for _, q in exams.pool(CURRICULUM, EXAMS[exam])[0]):
            if q.type == "fill_blank":
                for a in q.answers:
                    assert f"{a!r}" not in text or len(str(a)) < 5, (q.id, a)


# ---------------------------------------------------------------- the conformance rules catch


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def failures(course: Path) -> set[tuple[str, str]]:
    return {
        (f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == conformance.FAIL
    }


def test_exam_too_short_or_too_long(course):
    edit(course / "exams" / "expert.yaml", lambda d: d["practical"].update(minutes=20))
    edit(course / "exams" / "foundation.yaml", lambda d: d["theory"].update(minutes=200))
    found = failures(course)
    assert ("exam-time", "exam-expert") in found
    assert ("exam-time", "exam-foundation") in found


def test_ready_exam_whose_banks_cannot_supply_the_mix(course):
    # Foundation banks hold few advanced questions: 60 questions need 6.
    edit(course / "exams" / "foundation.yaml", lambda d: d["theory"].update(questions=90))
    assert ("exam-draw", "exam-foundation") in failures(course)


def test_required_certificate_without_exam(course):
    (course / "exams" / "expert.yaml").unlink()
    found = failures(course)
    assert ("exam", "expert") in found
    assert ("exam", "django") in found


def test_programme_page_lists_everything_and_is_current():
    from celerylab_course import capstones, programme

    page = programme.render(CURRICULUM)
    for p in CURRICULUM.paths.values():
        assert f"## {p.title}" in page
        for code in p.modules:
            assert code in page
    for name in [*EXAMS, *capstones.load(CURRICULUM)]:
        assert f"`{name}`" in page
    assert "**Requires:** Expert Certification" in page
    assert (REPO / "docs" / "course" / "programme.md").read_text() == page, (
        "docs/course/programme.md is stale: run celerylab-course build"
    )


def test_bad_exam_file_is_a_clear_error_of_the_build(course, capsys):
    from celerylab_course import cli

    edit(course / "exams" / "expert.yaml", lambda d: d["pass"].pop("overall"))
    assert cli.main(["--course", str(course), "build"]) == 2
    err = capsys.readouterr().err
    assert "expert.yaml does not fit the exam schema" in err and "overall" in err, err
