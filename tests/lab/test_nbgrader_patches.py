"""celerylab_lab.nbgrader_patches against copies of the pinned nbgrader's real files."""

import re
import shutil
import sys
from pathlib import Path

import jinja2
import nbgrader
import pytest
from celerylab_lab import nbgrader_patches as patches

NBGRADER = Path(nbgrader.__file__).parent
LAB_EXTENSION = Path(sys.prefix) / "share/jupyter/labextensions/@jupyter/nbgrader"


@pytest.fixture
def prefix(tmp_path) -> Path:
    """A venv prefix holding a copy of nbgrader's prebuilt lab extension."""
    target = tmp_path / "share/jupyter/labextensions/@jupyter/nbgrader"
    shutil.copytree(LAB_EXTENSION, target)
    return tmp_path


@pytest.fixture
def package(tmp_path) -> Path:
    """A copy of nbgrader's feedback template, where the package keeps it."""
    target = tmp_path / "nbgrader" / patches.FEEDBACK_TEMPLATE
    target.parent.mkdir(parents=True)
    shutil.copy(NBGRADER / patches.FEEDBACK_TEMPLATE, target)
    return tmp_path / "nbgrader"


def lab_script(prefix: Path) -> str:
    scripts = [p.read_text() for p in prefix.glob(patches.LAB_EXTENSION)]
    [script] = [s for s in scripts if "view feedback" in s]
    return script


def feedback_click(script: str) -> str:
    """The "(view feedback)" link's click handler, up to its label."""
    return re.search(r"\w+\.onclick=function\(\)\{[^\n]*?\(view feedback\)", script).group(0)


def test_view_feedback_opens_the_feedback_pages(prefix):
    assert "docmanager:open" not in feedback_click(lab_script(prefix))  # nbgrader's: folder only
    patches.apply(prefix, patches.LAB_PATCHES)
    click = feedback_click(lab_script(prefix))
    # Still shows the folder, and opens every .html in it with JupyterLab's HTML viewer.
    assert '"filebrowser:go-to-path"' in click
    assert ".serviceManager.contents.get(" in click
    assert 'endsWith(".html")' in click
    assert 'execute("docmanager:open",{path:f.path,factory:"HTML Viewer"})' in click


def test_assignment_timestamps_read_to_the_minute(prefix):
    patches.apply(prefix, patches.LAB_PATCHES)
    script = lab_script(prefix)
    [(regex, group)] = re.findall(
        r'String\(this\.data\.timestamp\)\.replace\(/(.+?)/,"\$(\d)"\)', script
    )
    # The same regular expression in Python: what the student now reads.
    shown = re.sub(regex, rf"\{group}", "2027-01-10 10:00:00.123456 UTC", count=1)
    assert shown == "2027-01-10 10:00 UTC"


def test_feedback_names_each_test(package):
    patches.apply(package, patches.TEMPLATE_PATCHES)
    text = (package / patches.FEEDBACK_TEMPLATE).read_text()
    assert "Test cell" not in text and "Grade cell:" not in text
    jinja2.Environment(autoescape=True).parse(text)  # still a template
    toc = jinja2.Environment(autoescape=True).from_string(
        re.search(r"<li><a href=\"#\{\{ cell.*?Tests.*?</li>", text).group(0)
    )
    cell = {"metadata": {"nbgrader": {"grade_id": "test_add", "score": 1, "points": 2}}}
    assert toc.render(cell=cell) == (
        '<li><a href="#test_add">Tests <code>test_add</code></a> (Score: 1.0 / 2.0)</li>'
    )


def test_a_patch_that_no_longer_matches_fails_loudly(prefix, package):
    patches.apply(prefix, patches.LAB_PATCHES)
    patches.apply(package, patches.TEMPLATE_PATCHES)
    # Applied twice (or to an nbgrader that changed): nothing matches, and the build stops.
    with pytest.raises(patches.PatchError, match="view feedback"):
        patches.apply(prefix, patches.LAB_PATCHES)
    with pytest.raises(patches.PatchError, match="table of contents"):
        patches.apply(package, patches.TEMPLATE_PATCHES)
