"""nbgrader's exchange for students, through celerylab's exchange service.

Students never see the exchange's files. Each operation fetches a private copy of what the
service shows this student (the released assignments and the feedback of their own
submissions) into a temporary folder, then runs nbgrader's own default exchange code against
it, so the Assignments tab and `nbgrader fetch_assignment/submit/list/fetch_feedback` behave
exactly as nbgrader documents. A submission is uploaded; the service records it under the
student's hub name with its own clock, and the local copy is renamed to that time.

Configured in the lab image's nbgrader_config.py (ExchangeFactory); the service URL and the
student's token come from the environment the hub gives every lab.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import requests
from nbgrader.exchange.default import (
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeSubmit,
)


class ServiceError(RuntimeError):
    pass


class ExchangeClient:
    def __init__(self, url: str | None = None, token: str | None = None):
        self.url = (url or os.environ.get("CELERYLAB_EXCHANGE_URL", "")).rstrip("/") + "/"
        self.session = requests.Session()
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.session.headers["Authorization"] = f"token {token}"

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        if self.url == "/":
            raise ServiceError("this lab has no exchange configured (CELERYLAB_EXCHANGE_URL)")
        try:
            r = self.session.request(method, self.url + path, timeout=60, **kwargs)
        except requests.RequestException as e:
            raise ServiceError(f"the course exchange cannot be reached ({e}); try again") from None
        if not r.ok:
            try:
                message = r.json().get("message") or r.reason
            except ValueError:
                message = r.reason
            raise ServiceError(message)
        return r

    def courses(self) -> list[dict]:
        """The student's courses: id, title, late_policy, assignments (id, due, released)."""
        return self._call("GET", "api/courses").json()["courses"]

    def stage(self, root: Path, course: str) -> None:
        """Unpack the student's view of a course into root/<course>/ (nbgrader's layout)."""
        data = self._call("GET", f"api/courses/{course}/view").content
        target = root / course
        for part in ("outbound", "inbound", "feedback"):
            (target / part).mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                path = PurePosixPath(member.name)
                if (
                    path.is_absolute()
                    or ".." in path.parts
                    or path.parts[0]
                    not in (
                        "outbound",
                        "feedback",
                    )
                ):
                    continue
                dest = target.joinpath(*path.parts)
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(tar.extractfile(member).read())

    def submit(self, course: str, assignment: str, folder: Path) -> str:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        r = self._call("POST", f"api/courses/{course}/submit/{assignment}", data=buffer.getvalue())
        return r.json()["timestamp"]


class _Staged:
    """Run nbgrader's default exchange code against a private, freshly fetched copy."""

    client_class = ExchangeClient

    def start(self):
        client = self.client_class()
        with tempfile.TemporaryDirectory(prefix="celerylab-exchange-") as tmp:
            self.root = tmp
            try:
                course = self.coursedir.course_id
                for c in [course] if course else [c["id"] for c in client.courses()]:
                    client.stage(Path(tmp), c)
            except ServiceError as e:
                self.fail(str(e))
            result = super().start()
            self.after_start(client, Path(tmp))
            return result

    def after_start(self, client: ExchangeClient, root: Path) -> None:
        pass


class FetchAssignment(_Staged, ExchangeFetchAssignment):
    pass


class FetchFeedback(_Staged, ExchangeFetchFeedback):
    pass


class List(_Staged, ExchangeList):
    def start(self):
        if self.inbound or self.remove:
            self.fail("students can list released and their own submitted assignments only")
        return super().start()


class Submit(_Staged, ExchangeSubmit):
    def after_start(self, client: ExchangeClient, root: Path) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        folder = root / course / "inbound" / self.assignment_filename
        try:
            stamp = client.submit(course, assignment, folder)
        except ServiceError as e:
            shutil.rmtree(self._local_copy(), ignore_errors=True)  # not submitted: no record
            self.fail(f"Submission of {assignment} failed: {e}")
        # The exchange's clock is the submission time; make the local record say the same.
        local = self._local_copy()
        (local / "timestamp.txt").write_text(stamp)
        renamed = local.with_name(local.name.replace(self.timestamp, stamp))
        if renamed != local:
            shutil.rmtree(renamed, ignore_errors=True)
            local.rename(renamed)
        self.log.info("Submitted %s/%s at %s (exchange time)", course, assignment, stamp)

    def _local_copy(self) -> Path:
        name = self.assignment_filename
        if self.add_random_string:
            name = name.rsplit("+", 1)[0]
        return Path(self.cache_path) / name
