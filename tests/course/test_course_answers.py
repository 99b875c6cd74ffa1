"""Answer checking: lenient where the spec asks for "reasonable variants", strict elsewhere."""

import pytest
from celerylab_course import answers


@pytest.mark.parametrize(
    ("given", "accepted", "match"),
    [
        (" Countdown ", ["countdown"], "text"),
        ("`acks_late`", ["acks_late"], "text"),
        ("result   backend.", ["result backend"], "text"),
        ("app.task(bind = True, max_retries=3)", ["app.task(max_retries=3, bind=True)"], "code"),
        ("crontab(minute='0', hour=7)", ['crontab(hour=7, minute="0")'], "code"),
        ("1e1", [10], "number"),
        ("3_600", [3600], "number"),
    ],
)
def test_variants_are_accepted(given, accepted, match):
    assert answers.blank_matches(given, accepted, match)


@pytest.mark.parametrize(
    ("given", "accepted", "match"),
    [
        ("countdowns", ["countdown"], "text"),
        ("app.task(bind=False)", ["app.task(bind=True)"], "code"),
        ("app.task(bind=True", ["app.task(bind=True)"], "code"),
        ("ten", [10], "number"),
    ],
)
def test_wrong_answers_are_rejected(given, accepted, match):
    assert not answers.blank_matches(given, accepted, match)


def test_right_answer_prints_explanation(capsys):
    answers.check_choice("q1", " b ", "B", "Because.")
    assert "q1: correct. Because." in capsys.readouterr().out


def test_wrong_answer_explains_and_names_the_key():
    with pytest.raises(AssertionError, match=r"the answer is C\.\nExplanation: Because\."):
        answers.check_choice("q1", "A", "C", "Because.")


@pytest.mark.parametrize(
    ("check", "given"),
    [
        (answers.format_choice, "E"),
        (answers.format_choice, 2),
        (answers.format_true_false, "True"),
        (answers.format_blank, ""),
        (answers.format_blank, True),
        (lambda g: answers.format_matching(g, 3), {1: "A", 2: "B"}),
    ],
)
def test_badly_formed_answers_are_refused(check, given):
    with pytest.raises(answers.AnswerFormatError):
        check(given)


def test_true_false_is_not_truthiness():
    with pytest.raises(AssertionError):
        answers.check_true_false("q", 1, True, "No.")
    answers.check_true_false("q", False, False, "Yes.")


def test_matching_reports_wrong_terms():
    with pytest.raises(AssertionError, match=r"term\(s\) \[2\]"):
        answers.check_matching("q", {1: "A", 2: "A", 3: "C"}, {1: "A", 2: "B", 3: "C"}, "Defs.")
