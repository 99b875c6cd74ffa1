"""Sphinx extension: the course pages, generated from course/ at every build.

One page per learning path and per module (objectives, topics, hours, activities, assessments,
success criteria, resources, materials), written from the curriculum data into docs/modules/
before Sphinx reads its sources. Nothing there is edited by hand or committed, so the site cannot
drift from `course/`.

The lecture scripts (one per module, with recap questions and their answers from the banks) are
instructor material: only the instructor build (`-D coursepages_audience=instructor`, see
scripts/docs.sh) has them; the student site never does.

`render(curriculum, audience)` returns {relative path: text}; tests and the build both use it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from celerylab_course.curriculum import ZERO, Curriculum, Module, Question, total

OUT = "modules"  # under the Sphinx source directory
KIND_NAMES = {
    "implementation": "Implementation",
    "debugging": "Debugging",
    "design": "Design",
    "testing": "Testing",
}
#: Share of a topic's time given to the lecture: the spec's "Conceptual Learning: 30%".
LECTURE_SHARE = 0.3
STUDENT, INSTRUCTOR = "student", "instructor"  # the two builds of the site


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _h(hours) -> str:
    return str(hours).replace(" h", " hours") if str(hours) != "1 h" else "1 hour"


def _minutes(hours) -> str:
    lo, hi = round(hours.lo * 60 * LECTURE_SHARE), round(hours.hi * 60 * LECTURE_SHARE)
    return f"{lo} min" if lo == hi else f"{lo} to {hi} min"


def _lower_first(text: str) -> str:
    """'Master the canvas' -> 'master the canvas'; 'ORM handling' stays as it is."""
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _page_name(code: str) -> str:
    return code


def _module_link(c: Curriculum, code: str) -> str:
    m = c.modules.get(code)
    return f"[{m.short} {m.title}]({_page_name(code)}.md)" if m else code


def _paths_of(c: Curriculum, m: Module) -> list:
    return [p for p in c.paths.values() if m.code in p.modules] or [c.paths[m.path]]


def _example_usage(c: Curriculum, m: Module) -> str | None:
    if not m.example:
        return None
    path = c.root / "examples" / f"{m.example}.py"
    if not path.exists():
        return None
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def module_page(c: Curriculum, m: Module, audience: str = STUDENT) -> str:
    level = c.level_of(m)
    mix = c.rules.difficulty.get(level, {})
    paths = ", ".join(f"[{p.title}](path-{p.id}.md)" for p in _paths_of(c, m))
    prereq = [_module_link(c, code) for code in m.prerequisites] + list(m.knowledge)
    origin = (
        "transcribed from the course specification"
        if m.origin == "spec"
        else "designed by the course team in the specification's format"
    )
    status = (
        "ready: lessons, labs, quiz and example application are in the course"
        if m.status == "ready"
        else "specified: curriculum data only, materials not yet written"
    )
    out = [
        f"# {m.short} · {m.title}",
        "",
        f"**Module code:** {m.code} · **Path:** {paths} · **Duration:** {_h(m.duration)}",
        "",
        f"**Prerequisites:** {', '.join(prereq) or 'none'}",
        "",
        f"**Status:** {status}. **Origin:** {origin}.",
        "",
        *(
            [f"Lecture script: [{m.short} lecture script]({_page_name(m.code)}-lecture.md).", ""]
            if audience == INSTRUCTOR
            else []
        ),
        "## Learning objectives",
        "",
        "Upon completion of this module, students will be able to:",
        "",
        *[f"- {o}" for o in m.objectives],
        "",
        "## Topics",
        "",
        "| # | Topic | Time |",
        "|---|---|---|",
        *[f"| {n} | {_cell(t.title)} | {_h(t.hours)} |" for n, t in enumerate(m.topics, 1)],
        f"| | **Total** | **{_h(total(m.topics))}** |",
        "",
    ]
    for n, t in enumerate(m.topics, 1):
        out += [f"### {n}. {t.title}", "", *[f"- {p}" for p in t.points], ""]
    out += [
        "## Learning activities",
        "",
        "| Activity | Kind | Time |",
        "|---|---|---|",
        *[f"| {_cell(a.title)} | {KIND_NAMES[a.kind]} | {_h(a.hours)} |" for a in m.activities],
        "",
    ]
    for a in m.activities:
        out += [f"**{a.title}.** " + "; ".join(a.points) + ".", ""]
    q = m.quiz
    out += [
        "## Assessments",
        "",
        f"**Quiz — {q.title}:** {q.questions} questions, {q.minutes} minutes"
        + (f", assignment `{q.assignment}`" if q.assignment else "")
        + ". Difficulty mix for the "
        + f"{level} level: "
        + ", ".join(f"{k} {v:.0%}" for k, v in mix.items())
        + ".",
        "",
    ]
    if q.focus:
        out += [f"Focus: {', '.join(q.focus)}.", ""]
    if q.substitutes:
        subs = ", ".join(f"{v} in place of {k.replace('_', ' ')}" for k, v in q.substitutes.items())
        out += [f"Question types: {subs}.", ""]
    for p in m.practicals:
        out += [
            f"**Practical — {p.title}** ({_h(p.hours)}"
            + (f", assignment `{p.assignment}`" if p.assignment else "")
            + f"), assessing the activity *{p.activity}*.",
            "",
            *[f"- {r}" for r in p.requirements],
            "",
        ]
    for o in m.other_assessments:
        out += [f"**{o.title}** ({_h(o.hours)}).", ""]
    out += ["## Success criteria", ""]
    for cr in m.success_criteria:
        if cr.assignment:
            cells = f" (cells {', '.join(f'`{x}`' for x in cr.cells)})" if cr.cells else ""
            how = f"checked in the gradebook: {cr.min_fraction:.0%} of `{cr.assignment}`{cells}"
            out.append(f"- {cr.text} — {how}")
        else:
            out.append(f"- {cr.text}")
    if not m.success_criteria:
        out.append("- Not yet stated.")
    out += ["", "## Resources", ""]
    for kind, items in m.resources.items():
        out.append(f"- **{kind}:** {', '.join(items)}")
    if not m.resources:
        out.append("- Not yet listed.")
    out += ["", "## Materials", ""]
    if m.assignments:
        out += ["Assignments, in course order: " + ", ".join(f"`{a}`" for a in m.assignments), ""]
    usage = _example_usage(c, m)
    if usage is not None:
        out += [f"Example application `course/examples/{m.example}.py`:", "", "```text"]
        out += [usage, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _recap(bank, topic: int) -> list[Question]:
    if bank is None:
        return []
    return [q for q in bank.questions if q.topic == topic and q.type != "matching"][:2]


def lecture_page(c: Curriculum, m: Module) -> str:
    """The scripted lecture: one segment per topic, timed at the conceptual share of its hours,
    with talking points, a demonstration and recap questions (from the bank, with the answer the
    lecturer gives)."""
    bank = c.banks.get(m.code)
    lesson = m.lessons[0] if m.lessons else None
    out = [
        f"# {m.short} lecture script: {m.title}",
        "",
        f"Back to the module page: [{m.short} · {m.title}]({_page_name(m.code)}.md).",
        "",
        f"Recorded in {len(m.topics)} segments, one per topic. Each segment's length is "
        f"{LECTURE_SHARE:.0%} of the topic's time (the specification's share for conceptual "
        "learning); the rest of the topic's time is the student's own lesson notebook and lab.",
        "",
        "## Opening",
        "",
        f"Say: in this module, *{m.title}*, you will learn to:",
        "",
        *[f"- {_lower_first(o.rstrip('.'))}" for o in m.objectives],
        "",
    ]
    for n, t in enumerate(m.topics, 1):
        out += [
            f"## Segment {n}: {t.title} ({_minutes(t.hours)})",
            "",
            "Talking points, in order:",
            "",
            *[f"{i}. {p}" for i, p in enumerate(t.points, 1)],
            "",
        ]
        if lesson:
            out += [
                f"Demonstration: run the cells of section {n} of the lesson notebook `{lesson}` "
                "in a fresh lab, against the lab's own Redis and worker, and narrate each result.",
                "",
            ]
        for q in _recap(bank, n):
            out += [f"Recap question: {q.prompt.strip()}", ""]
            if q.options:
                out += [
                    *[f"- {chr(65 + i)}. {o}" for i, o in enumerate(q.options)],
                    "",
                ]
            out += [f"Answer and why: {q.explanation.strip()}", ""]
    out += [
        "## Closing",
        "",
        "Say what the student does next, in this order:",
        "",
        *[f"- {a.title} ({_h(a.hours)})" for a in m.activities],
        f"- the quiz *{m.quiz.title}* ({m.quiz.questions} questions, {m.quiz.minutes} minutes)",
        "",
    ]
    return "\n".join(out).rstrip() + "\n"


def path_page(c: Curriculum, p) -> str:
    mods = [c.modules[code] for code in p.modules if code in c.modules]
    total_hours = sum((m.duration for m in mods), ZERO) if mods else None
    kind = "Specialization track" if p.is_track else "Learning path"
    out = [
        f"# {p.title}",
        "",
        f"{kind} · level **{p.level}** · budget {_h(p.hours)}"
        + (f" · modules so far: {_h(total_hours)}" if total_hours else ""),
        "",
    ]
    if not p.complete and p.planned:
        out += [f"Still to come: {p.planned}.", ""]
    planned = [code for code in p.modules if code not in c.modules]
    if planned:
        out += [f"Listed in the path, no module file yet: {', '.join(planned)}.", ""]
    out += ["| Module | Title | Duration | Status |", "|---|---|---|---|"]
    for m in mods:
        out.append(
            f"| [{m.short}]({_page_name(m.code)}.md) | {_cell(m.title)} | {_h(m.duration)} "
            f"| {m.status} |"
        )
    return "\n".join(out).rstrip() + "\n"


def index_page(c: Curriculum, audience: str = STUDENT) -> str:
    entries = [f"path-{p.id}" for p in c.paths.values()]
    lecture = ["-lecture"] if audience == INSTRUCTOR else []
    for p in c.paths.values():
        for code in p.modules:
            if code in c.modules and code not in entries:
                entries += [code, *(code + x for x in lecture)]
    for code in sorted(c.modules):  # modules in no path still get their pages
        if code not in entries:
            entries += [code, *(code + x for x in lecture)]
    out = [
        "# Modules",
        "",
        "Generated from `course/curriculum/` and `course/banks/` at every build of this site.",
        "",
        "| Path or track | Level | Budget | Modules |",
        "|---|---|---|---|",
    ]
    for p in c.paths.values():
        mods = ", ".join(
            f"[{code.split('-')[0]}]({code}.md)" if code in c.modules else f"{code} (planned)"
            for code in p.modules
        )
        out.append(f"| [{p.title}](path-{p.id}.md) | {p.level} | {_h(p.hours)} | {mods} |")
    out += ["", "```{toctree}", ":maxdepth: 1", ":hidden:", "", *entries, "```"]
    return "\n".join(out) + "\n"


def render(c: Curriculum, audience: str = STUDENT) -> dict[str, str]:
    if audience not in (STUDENT, INSTRUCTOR):
        raise ValueError(f"audience must be {STUDENT!r} or {INSTRUCTOR!r}, not {audience!r}")
    pages = {"index.md": index_page(c, audience)}
    for p in c.paths.values():
        pages[f"path-{p.id}.md"] = path_page(c, p)
    for m in c.modules.values():
        pages[f"{_page_name(m.code)}.md"] = module_page(c, m, audience)
        if audience == INSTRUCTOR:
            pages[f"{_page_name(m.code)}-lecture.md"] = lecture_page(c, m)
    return pages


def write(srcdir: Path, curriculum: Curriculum | None = None, audience: str = STUDENT) -> list[str]:
    """Replace srcdir/modules/ with freshly rendered pages; unchanged files keep their mtime so
    Sphinx does not re-read them."""
    out = srcdir / OUT
    pages = render(curriculum or Curriculum.load(), audience)
    if out.exists():
        for old in out.iterdir():
            if old.name not in pages and old.name != ".gitignore":
                shutil.rmtree(old) if old.is_dir() else old.unlink()
    out.mkdir(exist_ok=True)
    for name, text in pages.items():
        target = out / name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return sorted(pages)


def _on_config_inited(app, config) -> None:
    write(Path(app.srcdir), audience=config.coursepages_audience)


def setup(app):
    app.add_config_value("coursepages_audience", STUDENT, "env", [str])
    app.connect("config-inited", _on_config_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
