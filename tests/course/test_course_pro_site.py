"""The course site (docs/): module pages come from the curriculum data, every path and module
has its page (and, in the instructor build, its lecture script), and the link check catches
broken links and anchors. The full build (warnings as errors) runs in .ci/course-checks.sh."""

import sys
from pathlib import Path

import pytest
from celerylab_course.curriculum import Curriculum

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import coursepages  # noqa: E402
import sitelinks  # noqa: E402

CURRICULUM = Curriculum.load()
PAGES = coursepages.render(CURRICULUM, coursepages.INSTRUCTOR)


def test_every_path_and_module_has_pages_listed_in_the_index():
    index = PAGES["index.md"]
    for p in CURRICULUM.paths.values():
        assert f"path-{p.id}.md" in PAGES and f"path-{p.id}\n" in index
    for code in CURRICULUM.modules:
        assert {f"{code}.md", f"{code}-lecture.md"} <= set(PAGES)
        assert f"\n{code}\n" in index and f"\n{code}-lecture\n" in index


@pytest.mark.parametrize("code", sorted(CURRICULUM.modules))
def test_module_page_carries_the_curriculum_data(code):
    m = CURRICULUM.modules[code]
    page = PAGES[f"{code}.md"]
    texts = [*m.objectives, *(a.title for a in m.activities), *(c.text for c in m.success_criteria)]
    for text in texts:
        assert text in page, text
    for n, t in enumerate(m.topics, 1):
        title = coursepages._cell(t.title)
        assert f"| {n} | {title} | {coursepages._h(t.hours)} |" in page
        assert all(f"- {point}" in page for point in t.points)
    assert f"{m.quiz.questions} questions, {m.quiz.minutes} minutes" in page
    lecture = PAGES[f"{code}-lecture.md"]
    assert lecture.count("## Segment ") == len(m.topics)


def test_a_change_in_the_data_changes_the_page(tmp_path):
    import shutil

    shutil.copytree(CURRICULUM.root / "curriculum", tmp_path / "curriculum")
    shutil.copytree(CURRICULUM.root / "banks", tmp_path / "banks")
    f = tmp_path / "curriculum" / "modules" / "F02-FIRST-APP.yaml"
    f.write_text(f.read_text().replace("title: Your First Celery Application", "title: Renamed"))
    pages = coursepages.render(Curriculum.load(tmp_path))
    assert pages["F02-FIRST-APP.md"].startswith("# F02 · Renamed")


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/a.html#there">ok</a> <a href="sub/a.html#gone">bad anchor</a>'
        '<a href="missing.html">bad file</a> <a href="https://example.org/x">external</a>'
        '<img src="_static/logo.png">'
    )
    (tmp_path / "sub" / "a.html").write_text('<h1 id="there">A</h1><a href="../index.html">up</a>')
    problems = sitelinks.broken_links(tmp_path)
    assert sorted(problems) == [
        "index.html: _static/logo.png (no such file)",
        "index.html: missing.html (no such file)",
        "index.html: sub/a.html#gone (no #gone there)",
    ]
    assert sitelinks.main([str(tmp_path)]) == 1
