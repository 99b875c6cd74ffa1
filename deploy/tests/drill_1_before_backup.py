"""Backup drill, first half: a student's work and a graded submission exist before the backup.

run.sh then backs up, destroys the stack and all its volumes, runs restore.yml, and runs
drill_2_after_restore.py, which must find both again.

The submission is graded with nbgrader in the course's own container (celerylab courses sync),
so the grade lands in the platform's gradebook on the <project>-course-<id> volume: a drill
assignment is generated there, the student's submission autograded.
"""

import json
import secrets

from conftest import STATE, STUDENT, in_course

GRADE = r"""
import pathlib, subprocess, nbformat
from nbgrader.api import Gradebook

root = pathlib.Path("/home/student")
(root / "source" / "drill").mkdir(parents=True, exist_ok=True)
answer = nbformat.v4.new_code_cell(
    "def add(x, y):\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION")
answer.metadata.nbgrader = {"grade": False, "solution": True, "locked": False, "task": False,
                            "grade_id": "add", "schema_version": 3}
check = nbformat.v4.new_code_cell("assert add(2, 3) == 5")
check.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "task": False,
                           "grade_id": "test_add", "points": 2, "schema_version": 3}
nb = nbformat.v4.new_notebook(cells=[answer, check])
nbformat.write(nb, root / "source" / "drill" / "drill.ipynb")

def nbgrader(*args):
    r = subprocess.run(["nbgrader", *args], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

nbgrader("db", "student", "add", "STUDENT")
nbgrader("generate_assignment", "drill", "--force")
released = nbformat.read(root / "release" / "drill" / "drill.ipynb", as_version=4)
released.cells[0].source = "def add(x, y):\n    return x + y\n"
(root / "submitted" / "STUDENT" / "drill").mkdir(parents=True, exist_ok=True)
nbformat.write(released, root / "submitted" / "STUDENT" / "drill" / "drill.ipynb")
nbgrader("autograde", "drill", "--student", "STUDENT", "--force")
with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
    print(gb.find_submission("drill", "STUDENT").score)
""".replace("STUDENT", STUDENT)


def test_student_work_and_a_graded_submission(student):
    student.start(STUDENT, timeout=120)
    lab = student.lab(STUDENT)
    marker = secrets.token_hex(8)
    lab.write_file("drill-notes.txt", f"written before the backup: {marker}\n")
    score = float(in_course(GRADE).strip().splitlines()[-1])
    assert score == 2.0
    STATE.write_text(json.dumps({"marker": marker, "score": score}))
