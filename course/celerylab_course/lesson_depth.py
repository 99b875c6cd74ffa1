"""Lesson depth: how far each module's lesson notebooks teach the spec's topics.

For every module it measures its lesson notebooks in source/ (what the student opens):

- topic -> section: each spec topic ("Detailed Topics") must have a markdown heading
  `## <n>. <topic title>` (n counts from 1, the title as in the spec, case and punctuation
  aside), in the spec's order;
- words of teaching prose in those sections (markdown outside fenced blocks: a diagram or a
  file listing is not prose), per topic-hour of the spec;
- code examples per topic: code cells of the section other than self-checks, reflections and
  pure set-up (a cell that only writes a file with %%writefile or only runs `!` commands);
- a `## Review` section with a self-check and a `## Reflection` section with a prompt.

The floors are data (rules.yaml, `lesson_depth`). Figures are printed for every module; a module
fails below the floors only once it is listed in `lesson_depth.enforced` (a module joins the list
in the commit that brings its lessons to depth), so paths written in parallel keep CI green.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from celerylab_course.curriculum import Hours, Module, total

_HEADING = re.compile(r"^##\s+(?:(\d+)\.\s+)?(.+?)\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_WORD = re.compile(r"[A-Za-z0-9][\w'\u2019.-]*")
REVIEW, REFLECTION = "Review", "Reflection"


@dataclass
class Section:
    number: int | None
    title: str
    words: int = 0
    examples: int = 0
    diagrams: int = 0
    selfchecks: int = 0
    reflections: int = 0


@dataclass
class Lesson:
    sections: list[Section] = field(default_factory=list)

    def named(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.number is None and s.title == title), None)


@dataclass(frozen=True)
class TopicFigures:
    number: int
    title: str
    hours: Hours
    section: str | None  # the heading it maps to, or None
    words: int
    examples: int
    diagrams: int


@dataclass(frozen=True)
class Depth:
    module: str
    topics: tuple[TopicFigures, ...]
    review: bool
    reflection: bool
    hours: float  # topic hours the floor is measured against

    @property
    def words(self) -> int:
        return sum(t.words for t in self.topics)

    @property
    def words_per_hour(self) -> float:
        return self.words / self.hours if self.hours else 0.0

    @property
    def min_examples(self) -> int:
        return min((t.examples for t in self.topics), default=0)


def normalise(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.casefold()).strip()


def prose_words(markdown: str) -> int:
    text = _FENCE.sub(" ", markdown)
    text = re.sub(r"<svg.*?</svg>", " ", text, flags=re.DOTALL)
    return len(_WORD.findall(text))


def _is_example(source: str) -> bool:
    if "selfcheck." in source:
        return False
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    if lines[0].startswith("%%writefile"):
        return False
    return not all(ln.lstrip().startswith("!") for ln in lines)


def read_lesson(cells: list[dict]) -> Lesson:
    """Split a notebook's cells into `##` sections and measure each one."""
    lesson = Lesson()
    current: Section | None = None
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").endswith("-header"):
                continue  # the module header is rendered from the curriculum, not taught prose
            pos = 0
            for m in _HEADING.finditer(source):
                if current is not None:
                    _measure_markdown(current, source[pos : m.start()])
                current = Section(int(m.group(1)) if m.group(1) else None, m.group(2).strip())
                lesson.sections.append(current)
                pos = m.end()
            if current is not None:
                _measure_markdown(current, source[pos:])
        elif cell.get("cell_type") == "code" and current is not None:
            current.examples += _is_example(source)
            current.selfchecks += "selfcheck.choice(" in source
            current.reflections += "selfcheck.reflect(" in source
    return lesson


def _measure_markdown(section: Section, text: str) -> None:
    section.words += prose_words(text)
    section.diagrams += text.count("```mermaid") + text.count("<svg")


def load_cells(source: Path, assignments: tuple[str, ...]) -> list[dict] | None:
    """The cells of a module's lesson notebooks in order; None when none is built."""
    cells: list[dict] = []
    found = False
    for assignment in assignments:
        for nb in sorted((source / assignment).glob("*.ipynb")):
            found = True
            cells += json.loads(nb.read_text()).get("cells", [])
    return cells if found else None


def measure(module: Module, cells: list[dict], hours_end: str = "hi") -> Depth:
    lesson = read_lesson(cells)
    by_number = {s.number: s for s in lesson.sections if s.number is not None}
    figures = []
    for n, topic in enumerate(module.topics, 1):
        s = by_number.get(n)
        if s is not None and normalise(s.title) != normalise(topic.title):
            s = None  # numbered, but another title: not this topic's section
        figures.append(
            TopicFigures(
                n,
                topic.title,
                topic.hours,
                f"{n}. {s.title}" if s else None,
                s.words if s else 0,
                s.examples if s else 0,
                s.diagrams if s else 0,
            )
        )
    review, reflection = lesson.named(REVIEW), lesson.named(REFLECTION)
    hours = total(module.topics)
    return Depth(
        module.code,
        tuple(figures),
        review=bool(review and review.selfchecks),
        reflection=bool(reflection and reflection.reflections),
        hours={"lo": hours.lo, "hi": hours.hi, "mid": (hours.lo + hours.hi) / 2}[hours_end],
    )


def problems(depth: Depth, words_per_hour: float, examples_per_topic: int) -> list[str]:
    found = [f"topic {t.number} ({t.title}) has no section" for t in depth.topics if not t.section]
    if depth.words_per_hour < words_per_hour:
        found.append(f"{depth.words_per_hour:.0f} words/topic-hour (floor {words_per_hour:g})")
    thin = [str(t.number) for t in depth.topics if t.examples < examples_per_topic]
    if thin:
        found.append(f"topics {', '.join(thin)} have < {examples_per_topic} examples")
    if not depth.review:
        found.append("no ## Review section with a self-check")
    if not depth.reflection:
        found.append("no ## Reflection section with a prompt")
    return found


def describe(depth: Depth) -> Iterator[str]:
    """One line per topic: its section and figures (the report's topic -> section mapping)."""
    for t in depth.topics:
        where = f"'{t.section}'" if t.section else "NO SECTION"
        yield (
            f"topic {t.number} {t.title} ({t.hours}) -> {where}: {t.words} words, "
            f"{t.examples} examples, {t.diagrams} diagrams"
        )


def findings(ctx) -> Iterator:
    """The conformance report's lesson-depth findings (conformance.rule_lesson_depth)."""
    from celerylab_course.conformance import FAIL, NOTE, OK, Finding

    rules = ctx.curriculum.rules.lesson_depth
    if not rules:
        return
    floor_words, floor_examples = rules["words_per_topic_hour"], rules["examples_per_topic"]
    enforced = set(rules.get("enforced", ()))
    for code in enforced - set(ctx.curriculum.modules):
        yield Finding(FAIL, "lesson-depth", code, "is listed as enforced but is not a module")
    for m in ctx.curriculum.modules.values():
        if not m.lessons:
            continue
        cells = load_cells(ctx.repo / "source", m.lessons)
        if cells is None:
            level = FAIL if m.code in enforced else NOTE
            where = ", ".join(f"source/{a}" for a in m.lessons)
            yield Finding(level, "lesson-depth", m.code, f"no lesson notebook in {where}")
            continue
        depth = measure(m, cells, rules.get("hours", "hi"))
        for line in describe(depth):
            yield Finding(NOTE, "lesson-topics", m.code, line)
        found = problems(depth, floor_words, floor_examples)
        summary = (
            f"{depth.words} words / {depth.hours:g} topic-hours = {depth.words_per_hour:.0f} per "
            f"hour (floor {floor_words:g}); examples per topic "
            f"{', '.join(str(t.examples) for t in depth.topics)} (floor {floor_examples}); "
            f"review {'yes' if depth.review else 'no'}, reflection "
            f"{'yes' if depth.reflection else 'no'}"
        )
        if m.code in enforced:
            yield Finding(
                FAIL if found else OK,
                "lesson-depth",
                m.code,
                summary + (f": {'; '.join(found)}" if found else ""),
            )
        else:
            yield Finding(NOTE, "lesson-depth", m.code, summary + " (not enforced yet)")
