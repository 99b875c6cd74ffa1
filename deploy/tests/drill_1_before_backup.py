"""Backup drill, first half: a student's work and a graded submission exist before the backup.

run.sh then backs up, destroys the stack and all its volumes, runs restore.yml, and runs
drill_2_after_restore.py, which must find both again.

The platform has no exchange or gradebook volume yet (course lifecycle, issue 3), so the
submission is graded with nbgrader in an instructor-style course folder in the student's home
(the gradebook is ~/grading/gradebook.db). celerylab-backup takes every volume of the compose
project plus the homes, so the platform's own gradebook volume will be in the same snapshots.
"""

import json
import secrets

from conftest import STATE, STUDENT

GRADE = r"""
import pathlib, subprocess, nbformat
from nbgrader.api import Gradebook

root = pathlib.Path.home() / "grading"
(root / "source" / "ps1").mkdir(parents=True, exist_ok=True)
config = "c = get_config()\nc.CourseDirectory.course_id = 'drill'\n"
(root / "nbgrader_config.py").write_text(config)
answer = nbformat.v4.new_code_cell(
    "def add(x, y):\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION")
answer.metadata.nbgrader = {"grade": False, "solution": True, "locked": False, "task": False,
                            "grade_id": "add", "schema_version": 3}
check = nbformat.v4.new_code_cell("assert add(2, 3) == 5")
check.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "task": False,
                           "grade_id": "test_add", "points": 2, "schema_version": 3}
nb = nbformat.v4.new_notebook(cells=[answer, check])
nbformat.write(nb, root / "source" / "ps1" / "ps1.ipynb")

def nbgrader(*args):
    subprocess.run(["nbgrader", *args], cwd=root, check=True, capture_output=True, text=True)

nbgrader("db", "student", "add", "student1")
nbgrader("generate_assignment", "ps1", "--force")
released = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", as_version=4)
released.cells[0].source = "def add(x, y):\n    return x + y\n"
(root / "submitted" / "student1" / "ps1").mkdir(parents=True, exist_ok=True)
nbformat.write(released, root / "submitted" / "student1" / "ps1" / "ps1.ipynb")
nbgrader("autograde", "ps1", "--force")
with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
    print(gb.find_submission("ps1", "student1").score)
"""


def test_student_work_and_a_graded_submission(student):
    student.start(STUDENT, timeout=120)
    lab = student.lab(STUDENT)
    marker = secrets.token_hex(8)
    try:
        lab.write_file("drill-notes.txt", f"written before the backup: {marker}\n")
        score = float(lab.run(GRADE, timeout=180).strip().splitlines()[-1])
    finally:
        lab.close()
    assert score == 2.0
    STATE.write_text(json.dumps({"marker": marker, "score": score}))
