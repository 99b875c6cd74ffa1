"""Autograde an assignment the way the course does: nbgrader's own generate_assignment and
autograde, on a throwaway course directory and gradebook (never the repository's)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from celerylab_course.build import nbgrader_api
from course_env import temporary_env

REPO = Path(__file__).resolve().parents[2]
#: Where "the student's lab services" are while grading: nowhere, as in the sandbox.
SANDBOX_ENV = {
    "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
    "CELERY_RESULT_BACKEND": "redis://127.0.0.1:9/1",
}


@dataclass
class Result:
    score: float
    max_score: float
    auto_max: float
    grades: dict[str, tuple[float, float]]  # grade id -> (score, max)
    pending: list[str]  # manually graded cells waiting for an instructor
    feedback: str  # autograded notebooks' text, for assertion messages
    db_url: str = ""

    @property
    def auto_score(self) -> float:
        return sum(s for gid, (s, _) in self.grades.items() if gid not in self.pending)


def autograde(
    assignment: str, submission_from: str | Path, tmp_path: Path, student: str = "student1"
) -> Result:
    """Generate `assignment` from the repository's source/, submit the notebooks in
    `submission_from` ("source", "release" or a folder) as `student`, autograde, and read the
    gradebook."""
    return autograde_many(assignment, {student: submission_from}, tmp_path)[student]


def autograde_many(
    assignment: str, submissions: dict[str, str | Path], tmp_path: Path, judge: bool = True
) -> dict[str, Result]:
    """As autograde, for several students of one generated assignment (one course directory).
    judge=False grades with nbgrader's own Execute (tests in the kernel: benchmarks only)."""
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    shutil.copytree(REPO / "source" / assignment, root / "source" / assignment)
    api = nbgrader_api(root)
    if judge:
        judged(api)
    generated = api.generate_assignment(assignment, force=True)
    assert generated["success"], generated["log"]
    results = {}
    for student, submission_from in submissions.items():
        src = Path(submission_from)
        if str(submission_from) in ("source", "release"):
            src = REPO / str(submission_from) / assignment
        dest = root / "submitted" / student / assignment
        shutil.copytree(
            src, dest, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
        )
        # The grader names the submitting student: exam papers are drawn per student.
        with temporary_env({**SANDBOX_ENV, "CELERYLAB_STUDENT": student}):
            graded = api.autograde(assignment, student, force=True, create=True)
        assert graded["success"], graded["log"]
        autograded = root / "autograded" / student / assignment
        feedback = "\n".join(_notebook_text(p) for p in sorted(autograded.glob("*.ipynb")))
        with Gradebook(api.coursedir.db_url) as gb:
            sub = gb.find_submission(assignment, student)
            grades, pending, auto_max = {}, [], 0.0
            for nb in sub.notebooks:
                for g in nb.grades:
                    grades[g.name] = (g.score or 0.0, g.max_score)
                    if g.needs_manual_grade:
                        pending.append(g.name)
                    if g.auto_score is not None or g.cell.cell_type == "code":
                        auto_max += g.max_score
            results[student] = Result(
                sub.score, sub.max_score, auto_max, grades, pending, feedback, api.coursedir.db_url
            )
    return results


def judged(api) -> None:
    """Autograde as the grading sandbox does: the hidden tests judged outside the kernel, by
    a fresh process (celerylab_lab.sandbox_grade), rather than by nbgrader's Execute."""
    from celerylab_lab.sandbox_grade import judged_execute_class
    from nbgrader.converters import Autograde

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps[0] = judged_execute_class()
    api.config.Autograde.autograde_preprocessors = steps


def _notebook_text(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"[{cell.get('id')}] {o['ename']}: {o['evalue']}")
            elif o.get("output_type") == "stream" and o.get("name") == "stdout":
                out.append(f"[{cell.get('id')}] {o['text'][:500]}")
    return f"--- {path.name}\n" + "\n".join(out)
