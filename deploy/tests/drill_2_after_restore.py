"""Backup drill, second half (after backup, destroy, restore.yml): everything is back."""

import json

from conftest import STATE, STUDENT, in_course

READ_GRADE = """
from nbgrader.api import Gradebook
with Gradebook("sqlite:////home/student/gradebook.db") as gb:
    print(gb.find_submission("drill", "STUDENT").score)
""".replace("STUDENT", STUDENT)


def test_student_work_and_grade_survive_the_restore(student):
    # `student` logs in with the initial password: the hub's database came back too.
    before = json.loads(STATE.read_text())
    assert float(in_course(READ_GRADE).strip()) == before["score"]
    student.start(STUDENT, timeout=120)
    lab = student.lab(STUDENT)
    try:
        notes = lab.read_file("drill-notes.txt")
        assert notes == f"written before the backup: {before['marker']}\n"
        out = lab.run("from tasks import add\nprint(add.delay(20, 22).get(timeout=30))", timeout=90)
        assert out.strip() == "42"
    finally:
        lab.close()
