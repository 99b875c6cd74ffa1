"""Lesson self-checks: feedback only after an answer, right and wrong both explained."""

import pytest
from celerylab_course import selfcheck


def test_feedback_appears_only_after_an_answer():
    check = selfcheck.choice(
        "Who runs the task?", ["caller", "worker"], answer=1, why="Workers do."
    )
    assert check.check(None) == "Pick an option first."
    assert check.check(1).startswith("Right.")
    assert "“worker”" in check.check(0)


def test_the_widget_holds_no_feedback_until_checked():
    check = selfcheck.choice("Q?", ["a", "b"], answer=0, why="Because.")
    box = check.widget()
    radios, button, feedback = box.children[1:]
    assert feedback.value == ""
    radios.value = "b"
    button.click()
    assert "Not quite" in feedback.value and "Because." in feedback.value


def test_a_key_that_is_not_an_option_is_refused():
    with pytest.raises(ValueError, match="not an option"):
        selfcheck.choice("Q?", ["a", "b"], answer=2, why="")


def test_reflections_are_appended_to_the_students_notes(tmp_path, monkeypatch):
    monkeypatch.setattr(selfcheck, "REFLECTIONS_DIR", tmp_path)
    note = selfcheck.reflect("f02", "What surprised you?")
    note.save("The worker ran my code.")
    note.save("Retries.")
    text = (tmp_path / "f02.md").read_text()
    assert text.count("## What surprised you?") == 2 and "Retries." in text
    with pytest.raises(ValueError, match="empty"):
        note.save("  ")
