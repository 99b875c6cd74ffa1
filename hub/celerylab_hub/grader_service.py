"""The grading sandbox service: course containers send a submission, get it back executed.

A course container's `nbgrader autograde` (CLI or formgrader) runs nbgrader's pipeline as
usual, except that its Execute step (celerylab_lab.sandbox_execute) posts the notebook, hidden
tests restored, to this service, which runs it in a throwaway sandbox container
(celerylab_hub.sandbox). Only this service and the hub hold the Docker socket; the gradebook
stays in the course container. Callers prove their course with the course's service token.

  POST /api/courses/<course>/execute?notebook=NAME   body: the workspace as tar.gz
       -> {"status", "reason", "seconds", "notebook", "partial"}
  GET  /api/health
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import io
import json
import logging
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import docker
from tornado import ioloop, web

from celerylab_hub import sandbox, secrets

log = logging.getLogger("celerylab.grader")
NAME = r"([A-Za-z0-9][A-Za-z0-9_.-]*)"


def limits_from_env(env: dict[str, str] = os.environ) -> sandbox.Limits:
    """CELERYLAB_SANDBOX_<FIELD> overrides each field of sandbox.Limits."""
    values = {}
    for f in fields(sandbox.Limits):
        raw = env.get(f"CELERYLAB_SANDBOX_{f.name.upper()}", "").strip()
        if not raw:
            continue
        try:
            values[f.name] = type(getattr(sandbox.Limits, f.name))(raw)
        except ValueError:
            raise SystemExit(
                f"CELERYLAB_SANDBOX_{f.name.upper()}={raw!r}: expected a "
                f"{type(getattr(sandbox.Limits, f.name)).__name__}"
            ) from None
    return sandbox.Limits(**values)


def unpack(body: bytes, limits: sandbox.Limits) -> dict[str, bytes]:
    """The workspace from a tar.gz: regular files only, inside the workspace, within limits."""
    files, total = {}, 0
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                name = member.name.lstrip("./")
                if name.startswith("/") or ".." in name.split("/"):
                    raise ValueError(f"unsafe path in the workspace: {member.name!r}")
                total += member.size
                if total > limits.input_mib * 1024 * 1024:
                    raise sandbox.InputTooLarge(
                        f"the workspace is over the grading limit of {limits.input_mib} MiB"
                    )
                files[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"not a gzip-compressed tar archive: {e}") from None
    return files


class ExecuteHandler(web.RequestHandler):
    def initialize(self, secrets_dir, image, limits, pool, client):
        self.secrets_dir, self.image, self.limits = secrets_dir, image, limits
        self.pool, self.client = pool, client

    def write_error(self, status_code, **kwargs):
        self.finish({"message": self._reason})

    def authorize(self, course: str) -> None:
        presented = self.request.headers.get("Authorization", "").removeprefix("token ").strip()
        expected = secrets.course_token(self.secrets_dir, course)
        if not presented or not hmac.compare_digest(presented, expected):
            raise web.HTTPError(403, reason=f"this token may not grade for course {course}")

    async def post(self, course):
        self.authorize(course)
        notebook = self.get_query_argument("notebook", "")
        try:
            files = unpack(self.request.body, self.limits)
        except ValueError as e:
            raise web.HTTPError(400, reason=str(e)) from None
        if notebook not in files:
            raise web.HTTPError(400, reason=f"{notebook!r} is not in the workspace")
        labels = {
            "org.celerylab.course": course,
            "org.celerylab.student": self.get_query_argument("student", ""),
            "org.celerylab.assignment": self.get_query_argument("assignment", ""),
        }
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self.pool, sandbox.run, self.client, self.image, files, notebook, self.limits, labels
        )
        log.info(
            "%s %s/%s %s: %s %s (%.1f s)",
            course,
            labels["org.celerylab.assignment"],
            labels["org.celerylab.student"],
            notebook,
            outcome.status,
            outcome.reason,
            outcome.seconds,
        )
        self.finish(outcome.as_dict())


class HealthHandler(web.RequestHandler):
    def get(self):
        self.finish({"ok": True})


def make_app(secrets_dir: Path, image: str, limits: sandbox.Limits, workers: int, client):
    args = {
        "secrets_dir": secrets_dir,
        "image": image,
        "limits": limits,
        "pool": ThreadPoolExecutor(workers, thread_name_prefix="sandbox"),
        "client": client,
    }
    return web.Application(
        [
            ("/api/health", HealthHandler),
            (f"/api/courses/{NAME}/execute", ExecuteHandler, args),
        ],
        max_body_size=(limits.input_mib + 1) * 1024 * 1024,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secrets", type=Path, default=Path("/srv/celerylab/secrets"))
    parser.add_argument(
        "--image", default=os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest")
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("CELERYLAB_GRADER_WORKERS") or 2),
        help="sandboxes run at once (about one per core)",
    )
    args = parser.parse_args(argv)
    limits = limits_from_env()
    client = docker.from_env(timeout=limits.wall_seconds + 60)
    app = make_app(args.secrets, args.image, limits, args.workers, client)
    app.listen(args.port)
    print(
        f"celerylab grader on :{args.port}: {args.workers} sandboxes of {args.image}, "
        f"limits {json.dumps(vars(limits))}",
        flush=True,
    )
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
