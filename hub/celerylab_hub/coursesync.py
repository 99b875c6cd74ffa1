"""Make the hub match the course declarations: users, and the two groups of every course.

    nbgrader-<course>   the students (the exchange lets only them fetch and submit)
    formgrade-<course>  instructors and graders

Idempotent and exact: members are added and removed until each group is what its course
declares. Run by `celerylab courses sync` (no hub restart needed). Declared users without a
password get a generated initial one, returned so the instructor can hand it out.

The hub reads its course services (each course's formgrader) and their roles only when it starts,
so a course declared after that is not reachable yet: `unloaded` names those courses, and the CLI
says so (and `scripts/courses-sync.sh` restarts the hub once) instead of claiming success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from celerylab_hub.courses import Course

#: (method, path[, body]) -> (status, json); see celerylab_hub.cli.hub_request
Request = Callable[..., tuple[int, object]]


class SyncError(RuntimeError):
    pass


@dataclass
class SyncReport:
    new_users: list[str] = field(default_factory=list)
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)


def _ok(status: int, body, what: str, expected=(200, 201, 204)) -> object:
    if status not in expected:
        message = body.get("message") if isinstance(body, dict) else body
        raise SyncError(f"{what} failed ({status}): {message}")
    return body


def ensure_users(
    request: Request, names: list[str], reset: bool = False
) -> tuple[list[str], dict[str, str]]:
    """Create the hub users that are missing and give a generated password to each one without
    a password (to all of them with reset). Returns (new users, {name: password})."""
    users = {u["name"] for u in _ok(*request("GET", "/users?limit=100000"), "listing users")}
    new = [n for n in names if n not in users]
    if new:
        _ok(*request("POST", "/users", {"usernames": new}), "creating users")
    if not names:
        return new, {}
    status, body = request("POST", "/celerylab/passwords", {"usernames": names, "reset": reset})
    if status == 409:  # LTI/OAuth: the login provider authenticates; no passwords to hand out
        return new, {}
    return new, _ok(status, body, "setting passwords")["passwords"]


def sync(request: Request, courses: list[Course]) -> SyncReport:
    report = SyncReport()
    wanted = sorted({n for c in courses for n in (*c.students, *c.staff)})
    # The hub may have created declared users itself (load_groups): passwords for all of them.
    report.new_users, report.passwords = ensure_users(request, wanted)
    groups = {g["name"]: set(g["users"]) for g in _ok(*request("GET", "/groups"), "listing groups")}
    for course in courses:
        for group, members in (
            (course.student_group, set(course.students)),
            (course.grader_group, set(course.staff)),
        ):
            if group not in groups:
                _ok(*request("POST", f"/groups/{group}"), f"creating group {group}", (201,))
                groups[group] = set()
            add, remove = sorted(members - groups[group]), sorted(groups[group] - members)
            if add:
                _ok(
                    *request("POST", f"/groups/{group}/users", {"users": add}), f"adding to {group}"
                )
                report.added[group] = add
            if remove:
                _ok(
                    *request("DELETE", f"/groups/{group}/users", {"users": remove}),
                    f"removing from {group}",
                )
                report.removed[group] = remove
    return report


def unloaded(request: Request, courses: list[Course]) -> list[Course]:
    """The courses whose formgrader service the running hub does not know (declared after it
    started): their container runs, but the hub neither routes to it nor lets staff in."""
    known = set(_ok(*request("GET", "/services"), "listing services"))
    return [c for c in courses if c.formgrader_service not in known]
