"""Assessments students cannot game (issue 21): no answers on what students read, no keys a
student can guess without knowing Celery, and checker rules that catch each kind of violation."""

import json
import sys
from pathlib import Path

import pytest
from celerylab_course import leakscan
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
