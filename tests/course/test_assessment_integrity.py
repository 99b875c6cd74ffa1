"""Assessments students cannot game (issue 21): no answers on what students read, no keys a
student can guess without knowing Celery, and checker rules that catch each kind of violation."""

import json
import sys
import time
from pathlib import Path

import pytest
import yaml
from celerylab_course import conformance, factchecks, integrity, keyrules, leakscan
from celerylab_course.curriculum import Curriculum

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "docs" / "_ext"))

import coursepages  # noqa: E402

CURRICULUM = Curriculum.load()
SOME_QUESTION = CURRICULUM.banks["F03-TASK-CONFIG"].questions[0]


# ------------------------------------------------------------ answers off the student site


def test_student_site_has_no_lecture_script_and_no_explanation():
    secrets = leakscan.secrets(CURRICULUM)
    student = coursepages.render(CURRICULUM, coursepages.STUDENT)
    assert not [name for name in student if name.endswith("-lecture.md")]
    for name, text in student.items():
        assert "-lecture" not in text, name
        assert not [q for s, q in secrets.items() if s in leakscan.words(text)], name


def test_instructor_site_has_the_lecture_scripts_with_their_answers():
    staff = coursepages.render(CURRICULUM, coursepages.INSTRUCTOR)
    lectures = [text for name, text in staff.items() if name.endswith("-lecture.md")]
    assert len(lectures) == len(CURRICULUM.modules)
    # the scan would catch them: this is what the student site used to hold
    secrets = leakscan.secrets(CURRICULUM)
    assert any(s in leakscan.words(t) for t in lectures for s in secrets)


def test_unknown_audience_is_refused():
    with pytest.raises(ValueError):
        coursepages.render(CURRICULUM, "everyone")


def _site_with(tmp_path: Path, body: str) -> Path:
    site = tmp_path / "site"
    (site / "modules").mkdir(parents=True)
    (site / "modules" / "page.html").write_text(f"<html><body>{body}</body></html>")
    return site


def test_leak_scan_finds_an_explanation_rendered_as_html(tmp_path, capsys):
    expl = SOME_QUESTION.explanation
    # Sphinx renders `code` as <code>, and straight quotes as typographic ones
    rendered = expl.replace("`self`", "<code>self</code>").replace('"', "\u201c")
    site = _site_with(tmp_path, f"<p>Recap. {rendered}</p><script>var x = 1;</script>")
    assert leakscan.scan([site], CURRICULUM) == [
        f"{site / 'modules' / 'page.html'}: explanation of {SOME_QUESTION.id}"
    ]
    assert leakscan.main([str(site)]) == 1
    assert "1 leak(s)" in capsys.readouterr().out


def test_leak_scan_finds_one_sentence_of_an_explanation_in_a_notebook(tmp_path):
    q = next(
        q
        for b in CURRICULUM.banks.values()
        for q in b.questions
        if len(q.explanation.split(". ")) > 1 and len(q.explanation.split(". ")[1].split()) > 14
    )
    sentence = q.explanation.split(". ")[1]
    nb = {"cells": [{"cell_type": "markdown", "source": [f"**Note.** {sentence}"]}]}
    (tmp_path / "quiz.ipynb").write_text(json.dumps(nb))
    assert leakscan.scan([tmp_path], CURRICULUM) == [
        f"{tmp_path / 'quiz.ipynb'}: explanation of {q.id}"
    ]


def test_leak_scan_passes_a_clean_site_and_the_real_release(tmp_path, capsys):
    site = _site_with(tmp_path, "<p>Celery runs tasks in worker processes.</p>")
    assert leakscan.main([str(site), str(REPO / "release")]) == 0
    assert "0 leak(s)" in capsys.readouterr().out
    assert leakscan.main([str(tmp_path / "nowhere")]) == 2


# ------------------------------------------------------------ keys nobody can guess


def test_knowledge_free_play_stays_below_half_of_every_paper(capsys):
    """Constant letter with constant True/False, longest option, random: on every quiz and
    every exam paper as students get it. Prints the best strategy per paper."""
    print(integrity.report(CURRICULUM)[0])
    scores = {p.name: integrity.best(p) for p in integrity.papers(CURRICULUM)}
    assert len(scores) >= len(CURRICULUM.banks)  # every quiz, and the exams
    over = {n: s for n, s in scores.items() if s[1] >= integrity.GUESS_LIMIT}
    assert over == {}, over


def test_strategies_score_a_paper_the_way_a_guesser_would():
    from celerylab_course.curriculum import Question

    def mc(i, answer, options=("a", "bb", "c", "d")):
        return Question(
            f"q{i}", "multiple_choice", "basic", "?", "", options=options, answer=answer
        )

    tf = Question("t", "true_false", "basic", "?", "", answer=True)
    blank = Question("f", "fill_blank", "basic", "?", "", answers=("x",), match="text")
    paper = integrity.Paper("p", (mc(1, "B"), mc(2, "B"), mc(3, "A"), tf, blank))
    scores = integrity.strategies(paper)
    assert scores['always "B", always True'] == 3 / 5
    assert scores["longest option, always False"] == 2 / 5
    assert scores["random"] == (3 * 0.25 + 0.5) / 5
    assert integrity.best(paper) == ('always "B", always True', 3 / 5)


def test_no_quiz_prompt_shows_an_example_letter():
    from celerylab_course import quizgen

    for how in quizgen.HOW.values():
        assert '"B"' not in how and '"A"' not in how


# ------------------------------------------------------------ checker rules, seeded violations


def _failures(course: Path, rule: str) -> set[str]:
    return {
        f.subject
        for f in conformance.run(course, REPO)
        if f.level == conformance.FAIL and f.rule == rule
    }


def _edit_bank(course: Path, code: str, change) -> None:
    path = course / "banks" / f"{code}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["questions"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _move_key(q: dict, letter: str) -> None:
    opts = q["options"]
    key = opts.pop("ABCD".index(q["answer"]))
    opts.insert("ABCD".index(letter), key)
    q["answer"] = letter


def test_new_rules_pass_on_the_real_banks():
    findings = conformance.run()
    rules = {f.rule for f in findings}
    assert {"key-letters", "key-longest", "answer-echo", "guessing"} <= rules
    assert len(keyrules.RULES) == 4
    assert [f for f in findings if f.level == conformance.FAIL] == []


def test_one_letter_holding_most_keys_fails(course):
    def skew(questions):
        for q in questions:
            if q["type"] in ("multiple_choice", "scenario") and q.get("options"):
                _move_key(q, "C")

    _edit_bank(course, "F02-FIRST-APP", skew)
    assert "F02-FIRST-APP" in _failures(course, "key-letters")


def test_key_longest_in_most_items_fails(course):
    def pad(questions):
        for q in questions:
            if q["type"] in ("multiple_choice", "scenario") and q.get("options"):
                k = "ABCD".index(q["answer"])
                q["options"][k] += ", as the Celery documentation explains in its user guide"

    _edit_bank(course, "F02-FIRST-APP", pad)
    assert "F02-FIRST-APP" in _failures(course, "key-longest")


def test_answer_offered_as_another_items_option_fails(course):
    def echo(questions):
        blank = next(q for q in questions if q["type"] == "fill_blank")
        other = next(q for q in questions if q["type"] == "multiple_choice")
        wrong = next(i for i in range(4) if "ABCD"[i] != other["answer"])
        other["options"][wrong] = f"`{blank['answers'][0]}`"

    _edit_bank(course, "F02-FIRST-APP", echo)
    assert "f02-quiz" in _failures(course, "answer-echo")


def test_guessable_paper_fails(course):
    def all_true(questions):
        for q in questions:
            if q["type"] == "true_false":
                q["answer"] = True
            if q["type"] in ("multiple_choice", "scenario") and q.get("options"):
                _move_key(q, "A")

    _edit_bank(course, "F02-FIRST-APP", all_true)
    assert "f02-quiz" in _failures(course, "guessing")


# ------------------------------------------------------------ keys true for the pinned Celery


def _pool_questions():
    from celerylab_course import exams

    for e in exams.load(CURRICULUM).values():
        for b in exams.pool_banks(CURRICULUM, e):
            yield from b.questions


QUESTIONS = {q.id: q for b in CURRICULUM.banks.values() for q in b.questions}
QUESTIONS.update({q.id: q for q in _pool_questions()})


@pytest.mark.redis
@pytest.mark.parametrize("qid", sorted(factchecks.CHECKS))
def test_key_agrees_with_the_pinned_celery(qid, redis_server):
    q = QUESTIONS[qid]
    start = time.monotonic()
    observed = factchecks.CHECKS[qid](redis_server.url())
    took = time.monotonic() - start
    if q.type == "true_false":
        assert observed is q.answer, f"{qid} is keyed {q.answer}; Celery says {observed}"
    elif q.type == "fill_blank":
        assert observed in q.answers, f"{qid} accepts {q.answers}; Celery says {observed!r}"
    else:
        key = q.options["ABCD".index(q.answer)]
        assert observed in key, f"{qid}'s key {key!r} does not say {observed!r}"
    assert took < 5, f"{qid}'s check took {took:.1f} s (keep each under 5 s)"


def test_every_fact_check_names_a_bank_or_pool_item():
    assert set(factchecks.CHECKS) <= set(QUESTIONS)


# ------------------------------------------------------------ grading precision


def test_exact_check_tells_an_int_from_a_float():
    from celerylab_course.checks import expect_equal, expect_exact

    expect_equal(float(10**20 + 1), 10**20 + 1, "the lenient check")  # why exact is needed
    expect_exact(10**20 + 1, 10**20 + 1, "add(10**20, 1)")
    for got in (float(10**20 + 1), 5.0, True):
        with pytest.raises(AssertionError, match="expected"):
            expect_exact(got, 10**20 + 1 if got > 5 else 5 if got == 5.0 else 1, "x")


def test_hard_coded_broker_is_found_in_the_source_not_the_effective_value(tmp_path):
    from celerylab_course.checks import expect_no_hard_coded_urls, hard_coded_urls

    clean = tmp_path / "clean.py"
    clean.write_text(
        "import os\nfrom celery import Celery\n\napp = Celery('c')\n"
        "app.conf.broker_url = os.environ['CELERY_BROKER_URL']  # from the environment\n"
    )
    assert hard_coded_urls(str(clean)) == []
    expect_no_hard_coded_urls(str(clean))
    cases = {
        "app = Celery('c', broker='redis://localhost:6379/0')\n": "line 1",
        "app = Celery('c')\napp.conf.result_backend = 'redis://cache/1'\n": "line 2",
        "app = Celery('c')\napp.conf.update({'broker_url': 'amqp://guest@rabbit//'})\n": "line 2",
        "URL = 'rediss://:secret@redis:6380/0'\n": "line 1",
    }
    for source, where in cases.items():
        bad = tmp_path / "bad.py"
        bad.write_text(source)
        found = hard_coded_urls(str(bad))
        assert found and found[0].startswith(where), (source, found)
        with pytest.raises(AssertionError, match="fixes the broker"):
            expect_no_hard_coded_urls(str(bad))


def test_style_grade_takes_a_share_per_kind_of_finding(tmp_path, capsys):
    from celerylab_course.checks import style_grade

    module = tmp_path / "m.py"
    module.write_text('"""Doc."""\n\nX = 1\n')
    assert style_grade(str(module), 8) == 8
    long = "# " + "a long comment " * 6 + "end\n"
    module.write_text('"""Doc."""\n\nX = 1\n' + long + long)
    assert style_grade(str(module), 8) == 6  # two long lines: one kind, a quarter lost
    assert "E501" in capsys.readouterr().out
    module.write_text('"""Doc."""\nimport os,sys\nX=1 # c\n' + long)
    assert style_grade(str(module), 1) == 0  # four kinds or more: nothing left


def test_difficulty_split_that_is_not_the_nearest_fails(course):
    """F03's 12 questions at 60/30/10: 8/3/1 is inside the rounding bounds but 7/4/1 is nearer."""

    def harder_basic(questions):
        q = next(q for q in questions if q["difficulty"] == "intermediate")
        q["difficulty"] = "basic"

    _edit_bank(course, "F03-TASK-CONFIG", harder_basic)
    found = {
        (f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == conformance.FAIL
    }
    assert ("difficulty-split", "F03-TASK-CONFIG") in found
    assert ("difficulty-mix", "F03-TASK-CONFIG") not in found  # the old rule let it through


def test_a_tie_allows_either_nearest_split():
    from celerylab_course import splitrules

    shares = {"basic": 0.3, "intermediate": 0.5, "advanced": 0.2}
    for counts in (
        {"basic": 4, "intermediate": 8, "advanced": 3},
        {"basic": 5, "intermediate": 7, "advanced": 3},
    ):
        assert splitrules.distance(counts, shares, 15) == pytest.approx(1.0)


def test_answer_written_in_another_items_prompt_fails(course):
    def echo(questions):
        blank = next(q for q in questions if q["type"] == "fill_blank")
        other = next(q for q in questions if q["type"] == "multiple_choice")
        other["prompt"] += f" (Hint: `{blank['answers'][0]}`.)"

    _edit_bank(course, "F02-FIRST-APP", echo)
    assert "f02-quiz" in _failures(course, "answer-echo")
