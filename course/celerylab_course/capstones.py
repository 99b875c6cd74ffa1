"""Capstone projects: one per path and track, in the spec's capstone format.

A capstone is data (course/capstones/<path>.yaml: phases with hours, and which grade cells count
towards which evaluation criterion) plus, once ready, a notebook written as a cell script in
course/content/<id>/. The build renders the notebook's header from the data; the conformance
checker holds the phases to the structure's shares and the cells' points to the criteria's weights.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from celerylab_course import notebooks
from celerylab_course.curriculum import Curriculum, CurriculumError, validate

NAMES = {
    "functionality": "Functionality",
    "code_quality": "Code quality",
    "architecture": "Architecture",
    "testing": "Testing",
    "documentation": "Documentation",
}


@dataclass(frozen=True)
class Phase:
    part: str
    title: str
    hours: float
    deliverables: tuple[str, ...]


@dataclass(frozen=True)
class Capstone:
    id: str
    path: str
    title: str
    status: str
    summary: str
    phases: tuple[Phase, ...]
    evaluation: dict[str, tuple[str, ...]]
    source: Path

    @property
    def hours(self) -> float:
        return sum(p.hours for p in self.phases)


def load(curriculum: Curriculum) -> dict[str, Capstone]:
    """Every capstone under course/capstones/, by id."""
    found = {}
    for file in sorted((curriculum.root / "capstones").glob("*.yaml")):
        try:
            data = yaml.safe_load(file.read_text())
        except yaml.YAMLError as e:
            raise CurriculumError(f"{file} is not valid YAML: {e}") from None
        validate(data, "capstone", file)
        c = Capstone(
            id=data["id"],
            path=data["path"],
            title=data["title"],
            status=data["status"],
            summary=data["summary"].strip(),
            phases=tuple(
                Phase(p["part"], p["title"], float(p["hours"]), tuple(p["deliverables"]))
                for p in data["phases"]
            ),
            evaluation={k: tuple(v) for k, v in data["evaluation"].items()},
            source=file,
        )
        if c.id in found:
            raise CurriculumError(f"{file}: capstone {c.id} is defined twice")
        found[c.id] = c
    return found


def grade_points(notebook: Path) -> dict[str, float]:
    """Grade id -> points for every graded cell of a generated notebook."""
    points = {}
    for cell in json.loads(notebook.read_text()).get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def criterion_points(capstone: Capstone, source: Path) -> tuple[dict[str, float], list[str]]:
    """(points per criterion, graded cells that count towards no criterion) in source/<id>/."""
    cells: dict[str, float] = {}
    for nb in sorted((source / capstone.id).glob("*.ipynb")):
        cells.update(grade_points(nb))
    owner = {cell: crit for crit, ids in capstone.evaluation.items() for cell in ids}
    per = {crit: 0.0 for crit in capstone.evaluation}
    for cell, pts in cells.items():
        if cell in owner:
            per[owner[cell]] += pts
    missing = [cell for cell in owner if cell not in cells]
    stray = [cell for cell in cells if cell not in owner]
    return per, [*(f"no such cell {c}" for c in missing), *(f"counts nowhere: {c}" for c in stray)]


def header(curriculum: Curriculum, capstone: Capstone) -> str:
    path = curriculum.paths[capstone.path]
    structure = curriculum.rules.capstone.get("structure", {})
    weights = curriculum.rules.capstone.get("evaluation", {})
    rows = [
        f"| {p.title} | {p.hours:g} h | {structure.get(p.part, 0):.0%} | "
        f"{'; '.join(p.deliverables)} |"
        for p in capstone.phases
    ]
    evaluation = [f"| {NAMES.get(k, k)} | {weights.get(k, 0):.0%} |" for k in capstone.evaluation]
    return "\n".join(
        [
            f"# Capstone · {path.title}: {capstone.title}",
            "",
            f"**Estimated time:** {capstone.hours:g} hours · **Pass mark:** "
            f"{curriculum.rules.pass_fraction:.0%} of the points · **Path:** {path.title}",
            "",
            capstone.summary,
            "",
            "| Phase | Time | Share | Deliverables |",
            "|---|---|---|---|",
            *rows,
            "",
            "| Evaluated on | Weight |",
            "|---|---|",
            *evaluation,
        ]
    )


def build(curriculum: Curriculum, capstone: Capstone, out: Path) -> None:
    """Write the capstone's source notebook(s) and files into `out`."""
    content = curriculum.root / "content" / capstone.id
    for path in sorted(content.rglob("*")):
        rel = path.relative_to(content)
        if {"__pycache__", ".ipynb_checkpoints"} & set(rel.parts) or path.is_dir():
            continue
        if path.suffix == ".nbs":
            nb = notebooks.from_cellscript(path, curriculum, None, "")
            nb.cells.insert(
                0,
                notebooks.readonly(header(curriculum, capstone), f"{path.stem}-header", "markdown"),
            )
            nb.cells[0]["id"] = f"{path.stem}-header"
            notebooks.write(nb, out / rel.with_suffix(".ipynb"))
        else:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / rel)
