"""Every quiz: the instructor's key autogrades to full marks, the untouched release to nothing,
and feedback carries each question's explanation."""

import pytest
from celerylab_course.curriculum import Curriculum
from course_grading import autograde_many

CURRICULUM = Curriculum.load()
QUIZZES = sorted(
    m.quiz.assignment for m in CURRICULUM.modules.values() if m.code in CURRICULUM.banks
)


@pytest.mark.parametrize("assignment", QUIZZES)
def test_quiz_key_full_marks_release_nothing(assignment, tmp_path):
    module = next(m for m in CURRICULUM.modules.values() if m.quiz.assignment == assignment)
    bank = CURRICULUM.banks[module.code]
    graded = autograde_many(assignment, {"key": "source", "blank": "release"}, tmp_path)
    key, blank = graded["key"], graded["blank"]
    auto = {gid: v for gid, v in key.grades.items() if gid not in key.pending}
    assert all(score == top for score, top in auto.values()), (auto, key.feedback)
    assert len(auto) == sum(q.autograded for q in bank.questions)
    for q in bank.questions:
        if q.autograded:
            assert f"{q.id}: correct." in key.feedback
    assert blank.score == 0, blank.feedback
