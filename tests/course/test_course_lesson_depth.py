"""The lesson-depth rule (lesson_depth.py) and the paths' time split, on seeded violations."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from celerylab_course import conformance, lesson_depth
from celerylab_course.curriculum import Curriculum

REPO = Path(__file__).resolve().parents[2]
WORDS = " ".join(["word"] * 700)


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    for part in ("curriculum", "banks", "examples", "capstones", "exams"):
        if (REPO / "course" / part).exists():
            shutil.copytree(REPO / "course" / part, root / part)
    return root


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": []}


def deep_lesson(module, drop_examples_of: int | None = None) -> list[dict]:
    """A lesson meeting the floors for every topic of `module` (but the one named)."""
    cells = [md("# intro")]
    for n, topic in enumerate(module.topics, 1):
        hours = int(topic.hours.hi) + 1
        cells.append(md(f"## {n}. {topic.title}\n\n" + "\n".join([WORDS] * hours)))
        if n != drop_examples_of:
            cells += [code("print(1)"), code("x = 2\nprint(x)")]
        cells += [code("%%writefile t.py\nprint(3)"), code("!celerylab-worker use t")]
    cells += [
        md("## Review"),
        code("selfcheck.choice('q', ['a', 'b'], answer=0, why='w')"),
        md("## Reflection"),
        code("selfcheck.reflect('f01', 'p')"),
    ]
    return cells


def write_lesson(repo: Path, assignment: str, cells: list[dict]) -> None:
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (repo / "source" / assignment).mkdir(parents=True, exist_ok=True)
    (repo / "source" / assignment / "lessons.ipynb").write_text(json.dumps(nb))


def depth_findings(course: Path, repo: Path, code: str) -> list[conformance.Finding]:
    return [
        f for f in conformance.run(course, repo) if f.rule == "lesson-depth" and f.subject == code
    ]


def enforce(course: Path, *codes: str) -> None:
    edit(
        course / "curriculum" / "rules.yaml",
        lambda d: d["lesson_depth"].update(enforced=list(codes)),
    )


F01 = "F01-DISTRO-SYS"


def test_deep_lesson_passes_when_enforced(course, tmp_path):
    module = Curriculum.load(course).modules[F01]
    write_lesson(tmp_path, "f01-lessons", deep_lesson(module))
    enforce(course, F01)
    [found] = depth_findings(course, tmp_path, F01)
    assert found.level == conformance.OK, found.message


def test_thin_lesson_fails_only_when_enforced(course, tmp_path):
    module = Curriculum.load(course).modules[F01]
    cells = deep_lesson(module, drop_examples_of=3)
    write_lesson(tmp_path, "f01-lessons", cells)
    enforce(course)  # no module enforced
    [found] = depth_findings(course, tmp_path, F01)
    assert found.level == conformance.NOTE  # figures printed, not yet a failure
    enforce(course, F01)
    [found] = depth_findings(course, tmp_path, F01)
    assert found.level == conformance.FAIL
    assert "topics 3 have < 2 examples" in found.message


def test_too_few_words_fail(course, tmp_path):
    module = Curriculum.load(course).modules[F01]
    cells = [c for c in deep_lesson(module) if c["cell_type"] == "code"]
    cells[0:0] = [md(f"## {n}. {t.title}\n\nshort") for n, t in enumerate(module.topics, 1)]
    write_lesson(tmp_path, "f01-lessons", cells)
    enforce(course, F01)
    [found] = depth_findings(course, tmp_path, F01)
    assert found.level == conformance.FAIL and "words/topic-hour (floor 600)" in found.message


def test_missing_section_review_and_reflection_fail(course, tmp_path):
    module = Curriculum.load(course).modules[F01]
    cells = deep_lesson(module)[:-4]  # no Review, no Reflection
    cells[1]["source"] = cells[1]["source"].replace(module.topics[0].title, "Something else")
    write_lesson(tmp_path, "f01-lessons", cells)
    enforce(course, F01)
    [found] = depth_findings(course, tmp_path, F01)
    assert found.level == conformance.FAIL
    assert "topic 1 (Distributed Systems Fundamentals) has no section" in found.message
    assert "no ## Review" in found.message and "no ## Reflection" in found.message


def test_fenced_blocks_and_setup_cells_do_not_count():
    assert lesson_depth.prose_words("two words\n```mermaid\ngraph LR\n a --> b\n```\n") == 2
    lesson = lesson_depth.read_lesson(
        [
            md("## 1. T"),
            code("%%writefile x.py\nimport os\nprint(os)"),
            code("!celerylab-worker use x"),
            code("selfcheck.choice('q', ['a', 'b'], answer=0, why='w')"),
            code("print('an example')"),
        ]
    )
    assert lesson.sections[0].examples == 1 and lesson.sections[0].selfchecks == 1


def test_enforced_module_without_lesson_fails(course, tmp_path):
    enforce(course, F01)
    [found] = depth_findings(course, tmp_path, F01)  # tmp_path has no source/
    assert found.level == conformance.FAIL


def test_time_split_off_the_spec_shares_fails(course):
    def skew(d):
        d["paths"][0]["time_split"].update(conceptual=30, practical=27.6)

    edit(course / "curriculum" / "paths.yaml", skew)
    failed = {(f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == "FAIL"}
    assert ("time-split", "foundation") in failed


def test_time_split_without_room_for_review_fails(course):
    edit(course / "curriculum" / "rules.yaml", lambda d: d.update(review_hours_per_module=1))
    failed = {(f.rule, f.subject) for f in conformance.run(course, REPO) if f.level == "FAIL"}
    assert ("time-split", "foundation") in failed
