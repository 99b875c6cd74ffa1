"""The exchange's files, in nbgrader's default exchange layout, and the rules for touching them.

    <root>/<course>/outbound/<assignment>/...            released (nbgrader release_assignment)
    <root>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/   submissions
    <root>/<course>/feedback/<hash>.html                  released feedback

Instructors' course containers use this layout directly through nbgrader's own exchange. Students
only ever reach it through the exchange service, which calls these functions: a student's view
holds the released assignments and the feedback of their own submissions, and a submission is
unpacked under the name and time the service decides.

A submission is checked while it is unpacked, in one pass over the stream: it stops at the
member limit and at the decompressed-bytes cap (headers included), so a small archive of many
empty members or a gzip bomb costs no more than the limits. What failed half-way is removed.
Quotas (Limits): a student's submissions to one assignment per hour (count), the bytes kept for
one student and assignment, and for one assignment in all; the last `keep` submissions of each
student and assignment stay, older ones are removed only once the new one is complete.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import secrets
import shutil
import tarfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from traitlets import Integer
from traitlets.config import Configurable

#: nbgrader's timestamp format (nbgrader.exchange.abc.Exchange.timestamp_format).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExchangeError(ValueError):
    """A request the exchange refuses; the message says why, for the student."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


MB = 1024 * 1024
#: What a tar header costs per member, counted against the decompressed cap with the data.
HEADER_BYTES = 1024
#: The exchange's own files in a course folder (never matched by nbgrader's collect).
LEDGER = ".quota"


class Limits(Configurable):
    """Limits on one submission and quotas per student and per assignment."""

    max_bytes = Integer(
        20 * MB, help="largest submission, unpacked (bytes); CELERYLAB_SUBMISSION_MAX_MB"
    ).tag(config=True)
    max_files = Integer(200, help="most files and folders in one submission").tag(config=True)
    keep = Integer(
        5,
        help="submissions kept per student and assignment: the last N (collect takes the "
        "latest); older ones are removed once a newer one is complete. CELERYLAB_SUBMISSION_KEEP",
    ).tag(config=True)
    per_hour = Integer(
        20,
        help="submissions a student may make to one assignment in an hour; more are refused "
        "until the oldest is an hour old. CELERYLAB_SUBMISSIONS_PER_HOUR",
    ).tag(config=True)
    student_bytes = Integer(
        60 * MB,
        help="bytes kept for one student and assignment (the kept submissions with the new "
        "one); over it, the submission is refused. CELERYLAB_STUDENT_QUOTA_MB",
    ).tag(config=True)
    assignment_bytes = Integer(
        4096 * MB,
        help="bytes kept for one assignment, all students together; over it, submissions are "
        "refused (the instructor should collect and raise it). CELERYLAB_ASSIGNMENT_QUOTA_MB",
    ).tag(config=True)


#: Environment variable -> (trait, factor): the compose service's settings.
ENVIRONMENT = {
    "CELERYLAB_SUBMISSION_MAX_MB": ("max_bytes", MB),
    "CELERYLAB_SUBMISSION_KEEP": ("keep", 1),
    "CELERYLAB_SUBMISSIONS_PER_HOUR": ("per_hour", 1),
    "CELERYLAB_STUDENT_QUOTA_MB": ("student_bytes", MB),
    "CELERYLAB_ASSIGNMENT_QUOTA_MB": ("assignment_bytes", MB),
}


def limits_from_env(env) -> Limits:
    values = {}
    for name, (trait, factor) in ENVIRONMENT.items():
        raw = (env.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise SystemExit(f"{name}={raw!r}: expected a number") from None
        if value <= 0:
            raise SystemExit(f"{name}={raw!r}: must be greater than 0")
        values[trait] = int(value * factor)
    return Limits(**values)


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

    Returns the timestamp recorded. The last `limits.keep` submissions stay; collect takes the
    latest. Refused (ExchangeError, nothing left behind) if unsafe, too big, or over a quota.
    Blocking (file system, decompression): the service runs it on an executor.
    """
    if assignment not in released(root, course):
        raise ExchangeError(f"assignment {assignment!r} is not released in course {course!r}", 404)
    when = now or datetime.now(UTC)
    _check_rate(root, course, student, assignment, limits, when)
    timestamp = when.strftime(TIMESTAMP_FORMAT)
    name = f"{student}+{assignment}+{timestamp}+{secrets.token_hex(4)}"
    inbound = root / course / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    partial = inbound / f".{name}.partial"  # not matched by collect until complete
    partial.mkdir()
    try:
        size = _unpack(archive, partial, limits)
        _check_space(root, course, student, assignment, size, limits)
        # The student's own clock does not count: the exchange writes the time it received it.
        (partial / "timestamp.txt").write_text(timestamp)
        partial.rename(inbound / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _record(root, course, student, assignment, when)
    # Only now that the new one is complete: an accepted submission is never lost.
    for old in _kept(root, course, student, assignment)[: -limits.keep]:
        shutil.rmtree(old, ignore_errors=True)
    return timestamp


def remove_partial(root: Path) -> list[Path]:
    """Folders of submissions that never completed (the service stopped mid-way); at start."""
    found = list(root.glob("*/inbound/.*.partial"))
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def _kept(root: Path, course: str, student: str, assignment: str) -> list[Path]:
    """This student's complete submissions of the assignment, oldest first (by the exchange's
    timestamp in the name, which sorts as time does)."""
    mine = [
        p
        for p in submissions_of(root, course, student)
        if p.name.split("+")[1:2] == [assignment] and p.is_dir()
    ]
    return sorted(mine, key=lambda p: p.name.split("+")[2])


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _ledger(root: Path, course: str, student: str, assignment: str) -> Path:
    return root / course / LEDGER / f"{student}+{assignment}.json"


def _recent(root, course, student, assignment, when: datetime) -> list[float]:
    try:
        times = json.loads(_ledger(root, course, student, assignment).read_text())
    except (OSError, ValueError):
        return []
    return [t for t in times if when.timestamp() - t < 3600]


def _check_rate(root, course, student, assignment, limits: Limits, when: datetime) -> None:
    recent = _recent(root, course, student, assignment, when)
    if len(recent) >= limits.per_hour:
        wait = 3600 - (when.timestamp() - min(recent))
        raise ExchangeError(
            f"you have submitted {assignment} {len(recent)} times in the last hour, the most "
            f"allowed: try again in {wait / 60:.0f} minutes (your latest submission is kept)",
            429,
        )


def _record(root, course, student, assignment, when: datetime) -> None:
    ledger = _ledger(root, course, student, assignment)
    ledger.parent.mkdir(mode=0o700, exist_ok=True)
    times = [*_recent(root, course, student, assignment, when), when.timestamp()]
    tmp = ledger.with_suffix(".tmp")
    tmp.write_text(json.dumps(times))
    tmp.rename(ledger)


def _check_space(root, course, student, assignment, size: int, limits: Limits) -> None:
    """The new submission (size bytes) fits the student's and the assignment's quotas, counting
    only what stays once it is in (the last keep - 1 of the student's earlier ones)."""
    staying = (
        _kept(root, course, student, assignment)[-(limits.keep - 1) :] if limits.keep > 1 else []
    )
    mine = size + sum(_size(p) for p in staying)
    if mine > limits.student_bytes:
        raise ExchangeError(
            f"over your quota for {assignment}: your kept submissions and this one are "
            f"{_mb(mine)}, at most {_mb(limits.student_bytes)}; submit less "
            "(your latest submission is kept)",
            413,
        )
    inbound = root / course / "inbound"
    everyone = sum(
        _size(p) for p in inbound.glob(f"*+{assignment}+*") if not p.name.startswith(".")
    )
    if everyone + size > limits.assignment_bytes:
        raise ExchangeError(
            f"the exchange's space for {assignment} is full ({_mb(limits.assignment_bytes)}): "
            "tell your instructor; your latest submission is kept",
            507,
        )


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n < 10 * MB else f"{n / MB:.0f} MB"


class _Capped(io.RawIOBase):
    """A decompressed stream that stops at `limit` bytes: no gzip bomb gets further."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise ExchangeError(
                f"the submission is more than {_mb(self.limit)} unpacked, headers included; "
                f"the limit is {_mb(self.limit)}",
                413,
            )
        buffer[: len(data)] = data
        return len(data)


def _unpack(archive: bytes, target: Path, limits: Limits) -> int:
    """Check and write the archive's members into target in one streaming pass; return the
    bytes written. Plain files and folders only, no paths out, within the limits."""
    cap = limits.max_bytes + (limits.max_files + 2) * HEADER_BYTES
    stream = _Capped(gzip.GzipFile(fileobj=io.BytesIO(archive)), cap)
    count, total, notebook = 0, 0, False
    try:
        with tarfile.open(fileobj=io.BufferedReader(stream), mode="r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_files:
                    raise ExchangeError(
                        f"the submission has more than {limits.max_files} files; "
                        f"at most {limits.max_files}"
                    )
                path = PurePosixPath(member.name)
                if (
                    not (member.isfile() or member.isdir())
                    or path.is_absolute()
                    or ".." in path.parts
                    or not path.parts
                ):
                    raise ExchangeError(
                        f"the submission may hold only plain files, not {member.name!r}"
                    )
                total += member.size
                if total > limits.max_bytes:
                    raise ExchangeError(
                        f"the submission is more than {_mb(limits.max_bytes)} unpacked; "
                        f"the limit is {_mb(limits.max_bytes)}",
                        413,
                    )
                out = target.joinpath(*path.parts)
                if member.isdir():  # written by hand: plain files and folders, our own modes
                    out.mkdir(mode=0o755, parents=True, exist_ok=True)
                    continue
                notebook = notebook or member.name.endswith(".ipynb")
                out.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                with out.open("wb") as f:
                    shutil.copyfileobj(tar.extractfile(member), f)
                out.chmod(0o644)
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise ExchangeError("the submission is not a gzip-compressed tar archive") from None
    if not notebook:
        raise ExchangeError("the submission holds no notebook")
    return total
