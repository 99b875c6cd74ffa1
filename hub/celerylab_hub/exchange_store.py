"""The exchange's files, in nbgrader's default exchange layout, and the rules for touching them.

    <root>/<course>/outbound/<assignment>/...            released (nbgrader release_assignment)
    <root>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/   submissions
    <root>/<course>/feedback/<hash>.html                  released feedback

Instructors' course containers use this layout directly through nbgrader's own exchange. Students
only ever reach it through the exchange service, which calls these functions: a student's view
holds the released assignments and the feedback of their own submissions, and a submission is
unpacked under the name and time the service decides.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

#: nbgrader's timestamp format (nbgrader.exchange.abc.Exchange.timestamp_format).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExchangeError(ValueError):
    """A request the exchange refuses; the message says why, for the student."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024  # unpacked size of one submission
    max_files: int = 200


def feedback_hash(secret: str, notebook_id: str) -> str:
    """The name nbgrader gives a notebook's released feedback (nbgrader.utils.notebook_hash)."""
    return hashlib.md5((secret + notebook_id).encode(), usedforsecurity=False).hexdigest()


def _checked(name: str, what: str) -> str:
    if not NAME.fullmatch(name):
        raise ExchangeError(f"invalid {what} {name!r}")
    return name


def released(root: Path, course: str) -> list[str]:
    outbound = root / _checked(course, "course") / "outbound"
    return sorted(p.name for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []


def submissions_of(root: Path, course: str, student: str) -> list[Path]:
    student = _checked(student, "student")
    inbound = root / _checked(course, "course") / "inbound"
    return sorted(inbound.glob(f"{student}+*")) if inbound.is_dir() else []


def own_feedback(root: Path, course: str, student: str) -> list[Path]:
    """Released feedback files that belong to this student's submissions, and no others."""
    feedback = root / course / "feedback"
    found = []
    for submission in submissions_of(root, course, student):
        secret_file = submission / "submission_secret.txt"
        if not secret_file.is_file():
            continue
        secret = secret_file.read_text()
        for notebook in submission.glob("*.ipynb"):
            html = feedback / f"{feedback_hash(secret, notebook.stem)}.html"
            if html.is_file():
                found.append(html)
    return found


def student_view(root: Path, course: str, student: str) -> bytes:
    """A tar.gz holding outbound/ (every released assignment) and feedback/ (theirs only)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        if released(root, course):
            tar.add(root / course / "outbound", arcname="outbound")
        for html in own_feedback(root, course, student):
            tar.add(html, arcname=f"feedback/{html.name}")
    return buffer.getvalue()


def receive_submission(
    root: Path,
    course: str,
    assignment: str,
    student: str,
    archive: bytes,
    limits: Limits,
    now: datetime | None = None,
) -> str:
    """Unpack a submission under the student's own name and the exchange's clock.

    Returns the timestamp recorded. Earlier submissions stay; collect takes the latest.
    """
    if assignment not in released(root, course):
        raise ExchangeError(f"assignment {assignment!r} is not released in course {course!r}", 404)
    members = _safe_members(archive, limits)
    timestamp = (now or datetime.now(UTC)).strftime(TIMESTAMP_FORMAT)
    name = f"{student}+{assignment}+{timestamp}+{secrets.token_hex(4)}"
    inbound = root / course / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    partial = inbound / f".{name}.partial"  # not matched by collect until complete
    partial.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in members:  # written by hand: plain files and folders, our own modes
            target = partial.joinpath(*PurePosixPath(member.name).parts)
            if member.isdir():
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
            else:
                target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
                target.chmod(0o644)
    # The student's own clock does not count: the exchange writes the time it received it.
    (partial / "timestamp.txt").write_text(timestamp)
    partial.rename(inbound / name)
    return timestamp


def _safe_members(archive: bytes, limits: Limits) -> list[tarfile.TarInfo]:
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError):
        raise ExchangeError("the submission is not a gzip-compressed tar archive") from None
    if len(members) > limits.max_files:
        raise ExchangeError(f"the submission has {len(members)} files; at most {limits.max_files}")
    total = sum(m.size for m in members)
    if total > limits.max_bytes:
        raise ExchangeError(
            f"the submission is {total / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB",
            413,
        )
    for m in members:
        path = PurePosixPath(m.name)
        if not (m.isfile() or m.isdir()) or path.is_absolute() or ".." in path.parts:
            raise ExchangeError(f"the submission may hold only plain files, not {m.name!r}")
    if not any(m.name.endswith(".ipynb") for m in members):
        raise ExchangeError("the submission holds no notebook")
    return members
