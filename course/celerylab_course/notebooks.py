"""Notebook building blocks: nbgrader cells, module headers rendered from the curriculum, and the
`.nbs` cell-script format that lessons and labs are written in.

A `.nbs` file is a list of cells, each opened by a line `%%% KIND [key=value ...]`:

    %%% header                      the module header, rendered from the curriculum data
    %%% markdown                    prose
    %%% code                        a code cell the student may edit and run
    %%% readonly id=setup           a locked code cell (nbgrader "read-only")
    %%% answer id=calc-module       autograded answer: code between ### BEGIN/END SOLUTION is the
                                    instructor's, replaced by a stub in release/
    %%% tests id=test-add points=2  autograder tests: locked; ### BEGIN/END HIDDEN TESTS never
                                    reach release/
    %%% manual id=notes points=2    manually graded answer (markdown): the source holds the model
                                    answer, the release an empty answer box

Three percent signs never start valid IPython, so `%%writefile` cells are safe inside.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from celerylab_course.curriculum import Curriculum, Module, total

KERNEL = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
_DIRECTIVE = re.compile(r"^%%% ?([a-z]+)(.*)$")


def _meta(
    grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None
) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str) -> NotebookNode:
    return nbformat.v4.new_code_cell(text.strip("\n"))


def readonly(text: str, grade_id: str, cell_type: str = "code") -> NotebookNode:
    cell = code(text) if cell_type == "code" else markdown(text)
    cell.metadata = _meta(grade_id, grade=False, solution=False, locked=True)
    return cell


def answer(text: str, grade_id: str) -> NotebookNode:
    cell = code(text)
    cell.metadata = _meta(grade_id, grade=False, solution=True, locked=False)
    return cell


def tests(text: str, grade_id: str, points: float) -> NotebookNode:
    cell = code(text)
    cell.metadata = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    return cell


def manual(text: str, grade_id: str, points: float) -> NotebookNode:
    cell = markdown(text)
    cell.metadata = _meta(grade_id, grade=True, solution=True, locked=False, points=points)
    return cell


def notebook(cells: list[NotebookNode], prefix: str) -> NotebookNode:
    """A notebook whose cell ids are stable (grade id, or prefix + position) so regenerating it
    gives the same bytes."""
    nb = nbformat.v4.new_notebook(metadata=dict(KERNEL))
    for n, cell in enumerate(cells, 1):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = gid or f"{prefix}-{n}"
    nb.cells = cells
    return nb


def write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n")


# ------------------------------------------------------------------ module header


def _h(hours) -> str:
    return str(hours).replace(" h", " hours") if str(hours) != "1 h" else "1 hour"


def header(curriculum: Curriculum, module: Module, part: str) -> str:
    """The opening cell every notebook of a module shares: code, title, time, prerequisites and
    objectives, rendered from the curriculum data so notebooks and data cannot disagree."""
    prereq = [
        curriculum.modules[c].short + " " + curriculum.modules[c].title
        for c in module.prerequisites
    ]
    prereq += list(module.knowledge)
    lines = [
        f"# {module.short} · {module.title}",
        f"## {part}",
        "",
        f"**Module code:** {module.code} · **Estimated time for the module:** {_h(module.duration)}"
        f" · **Prerequisites:** {', '.join(prereq) or 'none'}",
        "",
        "**Learning objectives.** Upon completion, you will be able to:",
        "",
        *[f"- {o}" for o in module.objectives],
    ]
    return "\n".join(lines)


def topics_table(module: Module) -> str:
    rows = [f"| {n} | {t.title} | {_h(t.hours)} |" for n, t in enumerate(module.topics, 1)]
    return "\n".join(
        [
            "| # | Topic | Time |",
            "|---|---|---|",
            *rows,
            f"| | **Total** | **{_h(total(module.topics))}** |",
        ]
    )


# ------------------------------------------------------------------ .nbs cell scripts


def parse_cellscript(text: str) -> list[tuple[str, dict[str, str], str]]:
    """[(kind, options, body)] for each `%%% kind key=value` block."""
    cells: list[tuple[str, dict[str, str], list[str]]] = []
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if m:
            opts = dict(part.split("=", 1) for part in shlex.split(m.group(2)))
            cells.append((m.group(1), opts, []))
        elif cells:
            cells[-1][2].append(line)
        elif line.strip():
            raise ValueError(f"text before the first %%% cell line: {line!r}")
    return [(kind, opts, "\n".join(body)) for kind, opts, body in cells]


def from_cellscript(path: Path, curriculum: Curriculum, module: Module, part: str) -> NotebookNode:
    cells = []
    for kind, opts, body in parse_cellscript(path.read_text()):
        gid = opts.get("id", "")
        if kind in ("readonly", "answer", "tests", "manual") and not gid:
            raise ValueError(f"{path}: a {kind} cell needs id=...")
        if kind == "header":
            extra = f"\n\n{body.strip()}" if body.strip() else ""
            cells.append(
                readonly(
                    header(curriculum, module, opts.get("part", part)) + extra,
                    f"{path.stem}-header",
                    "markdown",
                )
            )
        elif kind == "markdown":
            cells.append(markdown(body))
        elif kind == "code":
            cells.append(code(body))
        elif kind == "readonly":
            cells.append(readonly(body, gid, opts.get("type", "code")))
        elif kind == "answer":
            cells.append(answer(body, gid))
        elif kind == "tests":
            cells.append(tests(body, gid, float(opts["points"])))
        elif kind == "manual":
            cells.append(manual(body, gid, float(opts["points"])))
        else:
            raise ValueError(f"{path}: unknown cell kind {kind!r}")
    return notebook(cells, path.stem)
