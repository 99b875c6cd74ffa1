"""Load the curriculum (paths, modules, rules, question banks) and check it against its schemas.

Everything is read from `course/` (the repository's, unless a root is given) and validated with
JSON Schema before it becomes plain dataclasses; a file that does not fit its schema raises
CurriculumError naming the file and the offending field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

#: The repository's course/ folder (this package lives in course/celerylab_course/).
DEFAULT_ROOT = Path(__file__).resolve().parent.parent

QUESTION_TYPES = ("multiple_choice", "true_false", "fill_blank", "scenario", "matching")


class CurriculumError(ValueError):
    """A curriculum file is missing, unreadable or does not fit its schema."""


@dataclass(frozen=True)
class Hours:
    """An amount of time: exact (lo == hi) or a range, as the spec writes "2-3 hours"."""

    lo: float
    hi: float

    @classmethod
    def of(cls, value: float | list[float]) -> Hours:
        if isinstance(value, list):
            return cls(float(value[0]), float(value[1]))
        return cls(float(value), float(value))

    def __add__(self, other: Hours) -> Hours:
        return Hours(self.lo + other.lo, self.hi + other.hi)

    def within(self, outer: Hours) -> bool:
        return outer.lo <= self.lo and self.hi <= outer.hi

    def __str__(self) -> str:
        fmt = "{:g}".format
        return f"{fmt(self.lo)} h" if self.lo == self.hi else f"{fmt(self.lo)}-{fmt(self.hi)} h"


ZERO = Hours(0, 0)


def total(items) -> Hours:
    result = ZERO
    for item in items:
        result = result + item.hours
    return result


@dataclass(frozen=True)
class Item:
    title: str
    hours: Hours
    points: tuple[str, ...] = ()
    kind: str = ""


@dataclass(frozen=True)
class Quiz:
    title: str
    questions: int
    minutes: int
    assignment: str | None
    focus: tuple[str, ...]
    substitutes: dict[str, str]

    def type_shares(self, standard: dict[str, float]) -> dict[str, float]:
        """The standard type mix with this module's own types put in the slots they replace."""
        return {self.substitutes.get(kind, kind): share for kind, share in standard.items()}


@dataclass(frozen=True)
class Practical:
    title: str
    hours: Hours
    activity: str
    assignment: str | None
    requirements: tuple[str, ...]
    graded: bool = True  # False: an optional extension (feedback only, outside the graded hours)


@dataclass(frozen=True)
class Criterion:
    text: str
    assignment: str | None = None
    cells: tuple[str, ...] = ()
    min_fraction: float | None = None


@dataclass(frozen=True)
class Module:
    code: str
    number: int
    title: str
    path: str
    origin: str
    status: str
    duration: Hours
    prerequisites: tuple[str, ...]
    knowledge: tuple[str, ...]
    objectives: tuple[str, ...]
    topics: tuple[Item, ...]
    activities: tuple[Item, ...]
    quiz: Quiz
    practicals: tuple[Practical, ...]
    other_assessments: tuple[Item, ...]
    resources: dict[str, tuple[str, ...]]
    success_criteria: tuple[Criterion, ...]
    lessons: tuple[str, ...]
    example: str | None
    source: Path

    @property
    def short(self) -> str:
        """F02 for F02-FIRST-APP."""
        return self.code.split("-", 1)[0]

    @property
    def assignments(self) -> list[str]:
        """Every nbgrader assignment of the module: lessons, labs, then the quiz."""
        labs = [p.assignment for p in self.practicals if p.assignment]
        quiz = [self.quiz.assignment] if self.quiz.assignment else []
        return [*self.lessons, *labs, *quiz]


@dataclass(frozen=True)
class LearningPath:
    id: str
    title: str
    level: str
    hours: Hours
    complete: bool
    modules: tuple[str, ...]
    planned: str = ""
    is_track: bool = False
    requires: tuple[str, ...] = ()  # paths whose certification comes first
    time_split: dict[str, float] = field(default_factory=dict)  # hours by kind of activity


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    difficulty: str
    prompt: str
    explanation: str
    topic: int | None = None
    options: tuple[str, ...] = ()
    answer: Any = None
    answers: tuple[Any, ...] = ()
    match: str = ""
    pairs: tuple[tuple[str, str], ...] = ()
    rubric_points: int = 0
    rubric: tuple[str, ...] = ()

    @property
    def autograded(self) -> bool:
        return self.type != "scenario" or self.answer is not None


@dataclass(frozen=True)
class Bank:
    module: str
    questions: tuple[Question, ...]
    source: Path


@dataclass(frozen=True)
class Rules:
    question_types: dict[str, float]
    difficulty: dict[str, dict[str, float]]
    quiz_minutes: dict[str, Hours]
    practical_mix: dict[str, float]
    practical_mix_tolerance: float
    practical_exercise_hours: Hours
    pass_fraction: float
    stated: dict[str, dict[str, Any]]
    capstone: dict[str, Any] = field(default_factory=dict)  # hours, structure, evaluation
    exam: dict[str, Any] = field(default_factory=dict)  # hours
    # floors of lesson depth and the modules held to them (lesson_depth.py)
    lesson_depth: dict[str, Any] = field(default_factory=dict)
    # the rubric of every True/False item's justification; the written share of scenario items
    true_false_reason: dict[str, Any] = field(default_factory=dict)
    written_scenario_share: float = 0.0
    activity_split: dict[str, float] = field(default_factory=dict)  # share of a path's hours
    activity_split_tolerance: float = 0.0
    review_hours_per_module: float = 0.0


@dataclass
class Curriculum:
    root: Path
    rules: Rules
    paths: dict[str, LearningPath]
    modules: dict[str, Module]
    banks: dict[str, Bank] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | str | None = None) -> Curriculum:
        root = Path(root) if root else DEFAULT_ROOT
        data = root / "curriculum"
        rules = _rules(_read(data / "rules.yaml", "rules"))
        paths = _paths(_read(data / "paths.yaml", "paths"))
        modules = {}
        for file in sorted((data / "modules").glob("*.yaml")):
            module = _module(_read(file, "module"), file)
            if module.code in modules:
                raise CurriculumError(f"{file}: module {module.code} is defined twice")
            modules[module.code] = module
        banks = {}
        for file in sorted((root / "banks").glob("*.yaml")):
            bank = bank_of(_read(file, "bank"), file)
            banks[bank.module] = bank
        return cls(root, rules, paths, modules, banks)

    def path_of(self, module: Module) -> LearningPath:
        return self.paths[module.path]

    def level_of(self, module: Module) -> str:
        return self.paths[module.path].level

    def foundation(self) -> list[Module]:
        return [self.modules[c] for c in self.paths["foundation"].modules if c in self.modules]

    def by_assignment(self) -> dict[str, Module]:
        return {a: m for m in self.modules.values() for a in m.assignments}


@cache
def schema(name: str) -> dict:
    text = resources.files("celerylab_course").joinpath(f"schema/{name}.schema.json").read_text()
    return json.loads(text)


def validate(data: Any, name: str, where: Path | str) -> None:
    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors[:10]:
            at = "/".join(str(p) for p in e.absolute_path) or "(top level)"
            lines.append(f"  {at}: {e.message}")
        raise CurriculumError(f"{where} does not fit the {name} schema:\n" + "\n".join(lines))


def _read(file: Path, schema_name: str) -> Any:
    try:
        data = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise CurriculumError(f"{file} is missing") from None
    except yaml.YAMLError as e:
        raise CurriculumError(f"{file} is not valid YAML: {e}") from None
    validate(data, schema_name, file)
    return data


def _rules(d: dict) -> Rules:
    return Rules(
        question_types=d["question_types"],
        difficulty=d["difficulty"],
        quiz_minutes={k: Hours.of(v) for k, v in d["quiz_minutes"].items()},
        practical_mix=d["practical_mix"],
        practical_mix_tolerance=d["practical_mix_tolerance"],
        practical_exercise_hours=Hours.of(d["practical_exercise_hours"]),
        pass_fraction=d["pass_fraction"],
        stated=d["stated"],
        capstone=d.get("capstone", {}),
        exam=d.get("exam", {}),
        lesson_depth=d.get("lesson_depth", {}),
        true_false_reason=d.get("true_false_reason", {}),
        written_scenario_share=d.get("written_scenario_share", 0.0),
        activity_split=d.get("activity_split", {}),
        activity_split_tolerance=d.get("activity_split_tolerance", 0.0),
        review_hours_per_module=d.get("review_hours_per_module", 0.0),
    )


def _paths(d: dict) -> dict[str, LearningPath]:
    result = {}
    for entry, is_track in [(p, False) for p in d["paths"]] + [(t, True) for t in d["tracks"]]:
        p = LearningPath(
            id=entry["id"],
            title=entry["title"],
            level=entry["level"],
            hours=Hours.of(entry["hours"]),
            complete=entry["complete"],
            modules=tuple(entry["modules"]),
            planned=entry.get("planned", ""),
            is_track=is_track,
            requires=tuple(entry.get("requires", ())),
            time_split=dict(entry.get("time_split", {})),
        )
        result[p.id] = p
    return result


def _item(d: dict) -> Item:
    return Item(d["title"], Hours.of(d["hours"]), tuple(d.get("points", ())), d.get("kind", ""))


def _module(d: dict, file: Path) -> Module:
    a = d["assessments"]
    q = a["quiz"]
    return Module(
        code=d["code"],
        number=d["number"],
        title=d["title"],
        path=d["path"],
        origin=d["origin"],
        status=d["status"],
        duration=Hours.of(d["duration"]),
        prerequisites=tuple(d["prerequisites"]["modules"]),
        knowledge=tuple(d["prerequisites"]["knowledge"]),
        objectives=tuple(d["objectives"]),
        topics=tuple(_item(t) for t in d["topics"]),
        activities=tuple(_item(t) for t in d["activities"]),
        quiz=Quiz(
            q["title"],
            q["questions"],
            q["minutes"],
            q.get("assignment"),
            tuple(q.get("focus", ())),
            dict(q.get("substitutes", {})),
        ),
        practicals=tuple(
            Practical(
                p["title"],
                Hours.of(p["hours"]),
                p["activity"],
                p.get("assignment"),
                tuple(p.get("requirements", ())),
                p.get("graded", True),
            )
            for p in a["practicals"]
        ),
        other_assessments=tuple(_item(o) for o in a.get("other", ())),
        resources={k: tuple(v) for k, v in d["resources"].items()},
        success_criteria=tuple(
            Criterion(
                c["text"],
                c.get("check", {}).get("assignment"),
                tuple(c.get("check", {}).get("cells", ())),
                c.get("check", {}).get("min_fraction"),
            )
            for c in d["success_criteria"]
        ),
        lessons=tuple(d.get("lessons", ())),
        example=d.get("example"),
        source=file,
    )


def bank_of(d: dict, file: Path) -> Bank:
    questions = []
    for q in d["questions"]:
        rubric = q.get("rubric", {})
        questions.append(
            Question(
                id=q["id"],
                type=q["type"],
                difficulty=q["difficulty"],
                prompt=q["prompt"].strip(),
                explanation=q["explanation"].strip(),
                topic=q.get("topic"),
                options=tuple(q.get("options", ())),
                answer=q.get("answer"),
                answers=tuple(q.get("answers", ())),
                match=q.get("match", ""),
                pairs=tuple(tuple(p) for p in q.get("pairs", ())),
                rubric_points=rubric.get("points", 0),
                rubric=tuple(rubric.get("criteria", ())),
            )
        )
    return Bank(d["module"], tuple(questions), file)
