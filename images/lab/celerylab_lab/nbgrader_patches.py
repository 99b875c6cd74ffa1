"""Small fixes to the installed nbgrader (the lab image applies them at build time).

What students and instructors met in nbgrader 0.9 (issue 17):

* The Assignments tab's "(view feedback)" only moved the file browser to the feedback folder:
  it now also opens the folder's feedback pages as tabs of the lab (JupyterLab's HTML viewer).
* The Assignments tab showed the exchange's timestamps with seconds and microseconds
  ("2027-01-10 10:00:00.123456 UTC"): they read to the minute.
* Feedback called every autograded test "Test cell" and headed it "Grade cell: …": each now
  reads "Tests <its id>".

The patches match nbgrader's prebuilt lab extension and its feedback template; each must match
exactly once, so an nbgrader upgrade that moves them fails the image build instead of silently
dropping a fix. Run: python -m celerylab_lab.nbgrader_patches PREFIX (the venv's sys.prefix).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbgrader


@dataclass(frozen=True)
class Patch:
    why: str
    files: str  # a glob under the patched root
    pattern: re.Pattern
    replacement: str


#: The lab extension's prebuilt JavaScript (minified: the variable names are captured).
LAB_EXTENSION = "share/jupyter/labextensions/@jupyter/nbgrader/static/*.js"
FEEDBACK_TEMPLATE = "server_extensions/formgrader/templates/feedback/index.html.j2"

OPEN_FEEDBACK = (
    r'\1.onclick=function(){\2.commands.execute("filebrowser:go-to-path",{path:\3});'
    r"\2.serviceManager.contents.get(\3).then(function(d){d.content.filter(function(f){"
    r'return f.name.endsWith(".html")}).forEach(function(f){'
    r'\2.commands.execute("docmanager:open",{path:f.path,factory:"HTML Viewer"})})})}'
)

LAB_PATCHES = (
    Patch(
        "(view feedback) opens the feedback",
        LAB_EXTENSION,
        re.compile(
            r'(\w+)\.onclick=function\(\)\{(\w+)\.commands\.execute\("filebrowser:go-to-path",'
            r"\{path:(\w+)\}\)\}"
        ),
        OPEN_FEEDBACK,
    ),
    Patch(
        "timestamps to the minute",
        LAB_EXTENSION,
        re.compile(r"innerText=this\.data\.timestamp;"),
        # Backslashes doubled: re.sub reads a single one in a replacement as an escape.
        r'innerText=String(this.data.timestamp).replace(/(\\d\\d:\\d\\d):\\d\\d(\\.\\d+)?/,"$1");',
    ),
)

TEMPLATE_PATCHES = (
    Patch(
        "feedback's table of contents names each test",
        FEEDBACK_TEMPLATE,
        re.compile(r'(<a href="#\{\{ cell\.metadata\.nbgrader\.grade_id \}\}">)Test cell</a>'),
        r"\1Tests <code>{{ cell.metadata.nbgrader.grade_id }}</code></a>",
    ),
    Patch(
        "feedback's test headings",
        FEEDBACK_TEMPLATE,
        re.compile(r'<span class="nbgrader-label">Grade cell: '),
        '<span class="nbgrader-label">Tests ',
    ),
)


class PatchError(RuntimeError):
    pass


def apply(root: Path, patches: tuple[Patch, ...]) -> list[str]:
    """Apply each patch under root; each must match exactly once among its files."""
    done = []
    for patch in patches:
        hits = []
        for path in sorted(root.glob(patch.files)):
            text = path.read_text(encoding="utf-8")
            new, count = patch.pattern.subn(patch.replacement, text)
            if count:
                hits.append((path, new, count))
        if [count for _, _, count in hits] != [1]:
            found = [(str(p), c) for p, _, c in hits]
            raise PatchError(f"{patch.why}: expected one match in {root}/{patch.files}: {found}")
        [(path, new, _)] = hits
        path.write_text(new, encoding="utf-8")
        done.append(f"{patch.why}: {path}")
    return done


def apply_all(prefix: Path) -> list[str]:
    return apply(prefix, LAB_PATCHES) + apply(Path(nbgrader.__file__).parent, TEMPLATE_PATCHES)


if __name__ == "__main__":
    for line in apply_all(Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)):
        print(line)
