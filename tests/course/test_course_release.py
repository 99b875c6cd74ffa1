"""release/ is exactly what nbgrader generates from source/, source/ is exactly what the course
content generates, and release/ leaks no solution, hidden test or answer key."""

from pathlib import Path

from celerylab_course import build
from celerylab_course.curriculum import Curriculum

REPO = Path(__file__).resolve().parents[2]


def test_checked_in_source_and_release_match_a_fresh_build():
    assert build.check(Curriculum.load(), REPO) == []


def test_leak_scan_catches_markers_and_keys(tmp_path):
    release = tmp_path / "release" / "f02-quiz"
    release.mkdir(parents=True)
    (release / "f02-quiz.ipynb").write_text(
        '{"source": "### BEGIN HIDDEN TESTS", "x": "`countdown`"}'
    )
    found = build.leaks(tmp_path / "release", Curriculum.load())
    assert any("BEGIN HIDDEN TESTS" in f for f in found)
    assert any("countdown" in f for f in found)


def test_assignment_list_matches_source():
    from celerylab_course.cli import assignment_list

    names = [a["name"] for a in assignment_list(Curriculum.load())]
    assert sorted(names) == sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())
    assert names[:3] == ["f01-lessons", "f01-environment-lab", "f01-quiz"]
