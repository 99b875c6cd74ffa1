"""Generate `source/` from the course content and `release/` from `source/`, and check for drift.

    celerylab-course build            # rewrite source/, release/ and docs/course/programme.md
    celerylab-course check            # regenerate them in a temp dir; fail on drift or leaks

Quizzes come from the question banks (course/banks/), lessons and labs from the cell scripts in
course/content/<assignment>/ (other files there are copied as they are). release/ is made by
nbgrader's own generate_assignment, with its default settings, so the hub's formgrader makes the
same student version from the same source.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from celerylab_course import assessments, leakscan, notebooks, quizgen
from celerylab_course.curriculum import Curriculum

#: Text that must never reach release/: nbgrader's markers, and the calls that hold answer keys.
LEAK_MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
    "answers.check_",
    "Model answer (instructors only)",
)
SKIP = {"__pycache__", ".ipynb_checkpoints"}


def assignments(curriculum: Curriculum) -> list[str]:
    names = []
    for m in curriculum.modules.values():
        names += [
            a
            for a in m.assignments
            if (curriculum.root / "content" / a).is_dir()
            or (a == m.quiz.assignment and m.code in curriculum.banks)
        ]
    return sorted(names + list(assessments.builders(curriculum)))


def build_source(curriculum: Curriculum, source: Path) -> list[str]:
    """Write every assignment's source notebooks and files into `source` (emptied first)."""
    if source.exists():
        for child in source.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    source.mkdir(parents=True, exist_ok=True)
    owners = curriculum.by_assignment()
    extras = assessments.builders(curriculum)  # capstones and exams
    built = []
    for name in assignments(curriculum):
        out = source / name
        if name in extras:
            extras[name](out)
            built.append(name)
            continue
        module = owners[name]
        if name == module.quiz.assignment:
            nb = quizgen.quiz_notebook(curriculum, module, curriculum.banks[module.code])
            notebooks.write(nb, out / f"{name}.ipynb")
        else:
            content = curriculum.root / "content" / name
            part = _part(module, name)
            for path in sorted(content.rglob("*")):
                rel = path.relative_to(content)
                if SKIP & set(rel.parts) or path.is_dir():
                    continue
                if path.suffix == ".nbs":
                    notebooks.write(
                        notebooks.from_cellscript(path, curriculum, module, part),
                        out / rel.with_suffix(".ipynb"),
                    )
                else:
                    (out / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out / rel)
        built.append(name)
    return built


def _part(module, name: str) -> str:
    for p in module.practicals:
        if p.assignment == name:
            optional = "" if p.graded else ", optional extension: feedback only, not graded"
            return f"Lab: {p.title} ({notebooks._h(p.hours)}{optional})"
    return "Lessons"


def nbgrader_api(root: Path, db_url: str | None = None):
    """An NbGraderAPI on a course directory at `root` (source/, release/, submitted/, ...)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    # nbgrader runs `alembic` from PATH: make sure this interpreter's scripts are on it.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    config.Exchange.root = str(root / "exchange")
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.ERROR)
    return api


def build_release(source: Path, release: Path, names: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="celerylab-generate-") as tmp:
        root = Path(tmp)
        shutil.copytree(source, root / "source")
        api = nbgrader_api(root)
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader could not generate {name}:\n{result['error']}\n{result['log']}"
                )
        if release.exists():
            shutil.rmtree(release)
        shutil.copytree(root / "release", release, ignore=shutil.ignore_patterns(*SKIP))


#: The programme page of the course site, generated with source/ and release/.
PROGRAMME = Path("docs/course/programme.md")


def build(curriculum: Curriculum, repo: Path) -> list[str]:
    from celerylab_course import programme

    names = build_source(curriculum, repo / "source")
    build_release(repo / "source", repo / "release", names)
    (repo / PROGRAMME).parent.mkdir(parents=True, exist_ok=True)
    (repo / PROGRAMME).write_text(programme.render(curriculum))
    return names


def leaks(release: Path, curriculum: Curriculum) -> list[str]:
    """Where release/ holds solution or hidden-test markers, or a fill-in-the-blank answer key."""
    found = []
    # a quiz may not show its own bank's answers; another module's quiz mentioning the same
    # word ("chord", "on_error") teaches it, and gives nothing away
    quiz_of = {m.code: m.quiz.assignment for m in curriculum.modules.values()}
    keys_by_quiz: dict[str, dict[str, list[str]]] = {}
    for b in curriculum.banks.values():
        keys_by_quiz.setdefault(quiz_of.get(b.module) or "", {}).update(
            {
                q.id: [str(a) for a in q.answers if len(str(a)) >= 5]
                for q in b.questions
                if q.type == "fill_blank"
            }
        )
    for path in sorted(release.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found += [f"{path}: {m!r}" for m in LEAK_MARKERS if m in text]
        if path.suffix == ".ipynb" and path.stem.endswith("-quiz"):
            for qid, answers in keys_by_quiz.get(path.parent.name, {}).items():
                found += [
                    f"{path}: answer {a!r} of {qid}"
                    for a in answers
                    if f'"{a}"' in text or f"`{a}`" in text
                ]
    return found


def check(curriculum: Curriculum, repo: Path) -> list[str]:
    """Problems with the checked-in source/ and release/: drift from a fresh build, and leaks."""
    with tempfile.TemporaryDirectory(prefix="celerylab-check-") as tmp:
        fresh = Path(tmp)
        build(curriculum, fresh)
        problems = []
        for part in ("source", "release"):
            if not (repo / part).is_dir():
                problems.append(f"{repo / part} is missing")
                continue
            problems += [
                f"{part}: {p} (run: celerylab-course build)"
                for p in _exact(fresh / part, repo / part)
            ]
        mine = repo / PROGRAMME
        if not mine.is_file() or mine.read_text() != (fresh / PROGRAMME).read_text():
            problems.append(
                f"{PROGRAMME} differs from the curriculum (run: celerylab-course build)"
            )
    problems += leaks(repo / "release", curriculum)
    problems += leakscan.scan([repo / "release"], curriculum)
    lab_image = repo / "images" / "lab" / "Dockerfile"
    if lab_image.is_file():  # the lab image's files are every student's to read
        problems += leakscan.scan_image(lab_image, repo, curriculum)
    return problems


def _exact(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and not SKIP & set(p.parts)}
    files_b = {
        p.relative_to(b)
        for p in b.rglob("*")
        if p.is_file() and not SKIP & set(p.parts) and p.name != ".gitkeep"
    }
    problems = [f"missing {p}" for p in sorted(files_a - files_b)]
    problems += [f"not generated: {p}" for p in sorted(files_b - files_a)]
    problems += [
        f"differs: {p}"
        for p in sorted(files_a & files_b)
        if (a / p).read_bytes() != (b / p).read_bytes()
    ]
    return problems
