"""Courses as data: one YAML file per course in course/courses/, checked when loaded.

A declaration names the course, its instructors and graders, its roster (a CSV next to it),
its assignments with due dates, and its late policy. Everything per course is derived from it
in one place (`Course` properties and celerylab_hub.coursesync), never written twice:

- groups ``nbgrader-<id>`` (students) and ``formgrade-<id>`` (instructors and graders);
- the role ``formgrade-<id>``: access to the course's formgrader service;
- the formgrader service ``formgrader-<id>`` (the course container);
- the exchange location ``<exchange root>/<id>``;
- its sessions (class meetings): the roster's labs are started before each one and kept until it
  ends (celerylab_hub.sessions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import yaml

from celerylab_hub import roster

COURSE_ID = r"^[a-z][a-z0-9-]{1,39}$"
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "instructors"],
    "properties": {
        "id": {"type": "string", "pattern": COURSE_ID},
        "title": {"type": "string", "minLength": 1},
        "instructors": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "graders": {"type": "array", "items": {"type": "string"}},
        "roster": {"type": "string", "description": "CSV file next to this one"},
        "late_policy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {
                "kind": {"enum": ["none", "zero", "percent_per_day"]},
                "percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                "max_days": {"type": "integer", "minimum": 1},
            },
        },
        "sessions": {
            "description": "class meetings: the roster's labs run from before start to end",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start", "minutes"],
                "properties": {
                    "start": {"type": "string", "description": "ISO 8601 with a time zone"},
                    "minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                },
            },
        },
        "assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]*$"},
                    "due": {"type": "string", "description": "ISO 8601 with a time zone"},
                },
            },
        },
    },
}


class CourseError(ValueError):
    """A course declaration is invalid; the message names the file and every problem."""


@dataclass(frozen=True)
class LatePolicy:
    kind: str = "none"  # none | zero | percent_per_day
    percent: float = 0.0  # per day late, for percent_per_day
    max_days: int = 0  # after this many days late: zero (0 = never)


@dataclass(frozen=True)
class Assignment:
    id: str
    due: datetime | None = None


@dataclass(frozen=True, order=True)
class Session:
    """One class meeting: students are expected in their labs from start to end."""

    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    instructors: tuple[str, ...]
    graders: tuple[str, ...] = ()
    students: tuple[str, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    late_policy: LatePolicy = LatePolicy()
    sessions: tuple[Session, ...] = ()
    #: (username, ((roster field, value), ...)) for students with names or e-mail in the roster
    profiles: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def student_group(self) -> str:
        return f"nbgrader-{self.id}"

    @property
    def grader_group(self) -> str:
        return f"formgrade-{self.id}"

    @property
    def formgrader_service(self) -> str:
        return f"formgrader-{self.id}"

    @property
    def staff(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.instructors + self.graders))


def _due(text: str, where: str, field: str = "due") -> datetime:
    try:
        due = datetime.fromisoformat(text)
    except ValueError:
        raise CourseError(f"{where}: {field} {text!r} is not an ISO 8601 date-time") from None
    if due.tzinfo is None:
        raise CourseError(f"{where}: {field} {text!r} needs a time zone (e.g. Z or +01:00)")
    return due.astimezone(UTC)


def load(path: str | Path) -> Course:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CourseError(f"{path}: not valid YAML: {e}") from None
    errors = sorted(
        jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors]
        raise CourseError(f"{path}:\n" + "\n".join(f"  {line}" for line in lines))
    names = [*data["instructors"], *data.get("graders", [])]
    bad = [n for n in names if not roster.USERNAME.fullmatch(n)]
    if bad:
        raise CourseError(f"{path}: invalid user names {bad}; {roster.USERNAME_RULE}")
    students: dict[str, dict[str, str]] = {}
    if "roster" in data:
        roster_file = path.parent / data["roster"]
        try:
            # A course may exist before its students do.
            students = roster.parse_profiles(
                roster_file.read_text(encoding="utf-8"), allow_empty=True
            )
        except FileNotFoundError:
            raise CourseError(f"{path}: roster {roster_file} does not exist") from None
        except roster.RosterError as e:
            raise CourseError(f"{roster_file}:\n{e}") from None
    ids = [a["id"] for a in data.get("assignments", [])]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CourseError(f"{path}: assignments listed twice: {duplicates}")
    policy = data.get("late_policy", {"kind": "none"})
    if policy["kind"] == "percent_per_day" and "percent" not in policy:
        raise CourseError(f"{path}: late_policy percent_per_day needs 'percent'")
    return Course(
        id=data["id"],
        title=data["title"],
        instructors=tuple(data["instructors"]),
        graders=tuple(data.get("graders", [])),
        students=tuple(students),
        profiles=tuple((n, tuple(p.items())) for n, p in students.items() if p),
        assignments=tuple(
            Assignment(a["id"], _due(a["due"], f"{path}: {a['id']}") if "due" in a else None)
            for a in data.get("assignments", [])
        ),
        late_policy=LatePolicy(
            kind=policy["kind"],
            percent=float(policy.get("percent", 0)),
            max_days=int(policy.get("max_days", 0)),
        ),
        sessions=tuple(
            sorted(
                Session(_due(x["start"], f"{path}: session {i + 1}", "start"), x["minutes"])
                for i, x in enumerate(data.get("sessions", []))
            )
        ),
    )


def load_all(directory: str | Path) -> list[Course]:
    """Every course in a directory (*.yaml); ids must be unique. All errors at once."""
    courses, errors = [], []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            courses.append(load(path))
        except CourseError as e:
            errors.append(str(e))
    ids = [c.id for c in courses]
    errors += [
        f"course id {i!r} is declared twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    if errors:
        raise CourseError("\n".join(errors))
    return courses
