"""The programme's assignments that belong to a path rather than a module: each path's capstone
and certification exam. The build asks here which there are and how to write each one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from celerylab_course import capstones, exams
from celerylab_course.curriculum import Curriculum


def builders(curriculum: Curriculum) -> dict[str, Callable[[Path], None]]:
    """Assignment name -> a function writing its source/ folder, for every ready capstone and
    every exam whose content exists."""
    result: dict[str, Callable[[Path], None]] = {}
    for c in capstones.load(curriculum).values():
        if c.status == "ready" and (curriculum.root / "content" / c.id).is_dir():
            result[c.id] = lambda out, c=c: capstones.build(curriculum, c, out)
    for e in exams.load(curriculum).values():
        if e.status == "ready":
            result[e.id] = lambda out, e=e: exams.build(curriculum, e, out)
    return result
