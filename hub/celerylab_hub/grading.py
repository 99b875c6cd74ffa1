"""The grading fleet: Celery workers that run submissions in sandboxes, fed by a hub-side broker.

A course container's autograde (celerylab_lab.sandbox_execute, driven by `nbgrader autograde` or
`celerylab-grade`) sends one task per submitted notebook to the platform's grading broker (a
Redis of its own, never a student's). Any grader worker takes it, opens it with the course's
grading key, runs the notebook in a throwaway sandbox on its own host (celerylab_hub.sandbox) and
returns the executed notebook sealed with the same key; nbgrader then saves the grades in the
course container.

Sealed: the broker is shared, so a task carries only its course in the clear. The submission
(student, files, hidden tests) and the executed notebook travel encrypted and authenticated with
a key derived per course (secrets.course_grading_key): another course can neither read them nor
grade in this one's name. Each course is its own broker user (celerylab_hub.grading_acl): it may
queue tasks and read its own results only. Its task ids are `<course>.<uuid>`; a worker refuses
a task whose id is not in the namespace of the course that sealed it and whose sealed id is not
its own, and seals the outcome with that id and the submission's digest, so a course accepts it
only for the task and submission it sent (no replay from another task or course).

Tasks are pure functions of their input, so a task that runs twice (a worker died before
acknowledging it) yields the same result and the gradebook is written once per submission by its
owner.

Delivery: acks_late + reject_on_worker_lost, prefetch 1, so a task whose worker dies is
delivered again; a broker restart keeps the queue (appendonly). Infrastructure errors (Docker
unreachable, image missing) are retried with backoff; a student's code breaking a limit is a
result, not an error, and is never retried.

Speed: each worker process keeps one sandbox started ahead (kernel up, waiting), made while the
current submission runs, so a submission does not wait for a container, imports and a kernel.
CELERYLAB_GRADER_WARM=0 turns that off.

Run a worker:  celery -A celerylab_hub.grading worker --concurrency 2
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import docker.errors
import requests.exceptions
from celery import Celery
from celery.exceptions import Ignore
from celery.signals import worker_process_shutdown, worker_ready
from cryptography.fernet import Fernet, InvalidToken

from celerylab_hub import grading_acl, grading_stats, sandbox, secrets

log = logging.getLogger(__name__)
TASK = "celerylab.grading.execute"
QUEUE = "grading"
SECRETS_DIR = Path(os.environ.get("CELERYLAB_SECRETS_DIR", "/srv/celerylab/secrets"))


def broker_url(user: str = "grader") -> str:
    """CELERYLAB_GRADING_BROKER, or the compose broker as one of the platform's users (the
    workers' own, by default) with its generated password."""
    url = os.environ.get("CELERYLAB_GRADING_BROKER", "").strip()
    if url:
        return url
    try:
        return secrets.grading_broker_url(SECRETS_DIR, user)
    except OSError:  # no secrets here (unit tests, docs builds): a broker nobody can reach
        return "redis://grading-broker:6379/0"


def limits_from_env(env=os.environ) -> sandbox.Limits:
    """CELERYLAB_SANDBOX_<FIELD> overrides each field of sandbox.Limits."""
    from dataclasses import fields

    values = {}
    for f in fields(sandbox.Limits):
        name = f"CELERYLAB_SANDBOX_{f.name.upper()}"
        raw = env.get(name, "").strip()
        if not raw:
            continue
        kind = type(getattr(sandbox.Limits, f.name))
        try:
            values[f.name] = kind(raw)
        except ValueError:
            raise SystemExit(f"{name}={raw!r}: expected a {kind.__name__}") from None
    return sandbox.Limits(**values)


LIMITS = limits_from_env()
app = Celery("celerylab-grading", broker=broker_url(), backend=broker_url())
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],  # never pickle: course containers can send tasks
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUE,
    task_track_started=True,
    # Read and deleted by the course at once (sandbox_execute._forget); this is for results
    # nobody came back for. Longer than a course waits (SandboxedExecute.request_timeout, 1 h).
    result_expires=2 * 3600,
    # A task not acknowledged this long after delivery (its worker vanished) is delivered again.
    broker_transport_options={
        "visibility_timeout": int(
            os.environ.get("CELERYLAB_GRADING_VISIBILITY_TIMEOUT") or LIMITS.wall_seconds + 120
        )
    },
    broker_connection_retry_on_startup=True,
    # A broker restart while a task starts or ends: store its STARTED state and its result once
    # the broker is back, rather than failing a submission that was graded (CI saw this once).
    result_backend_always_retry=True,
    result_backend_max_retries=30,
    result_backend_max_sleep_between_retries_ms=5000,
    worker_send_task_events=True,  # Flower
    task_send_sent_event=True,
)
_docker = None


def docker_client() -> docker.DockerClient:
    global _docker
    if _docker is None:
        _docker = docker.from_env(timeout=LIMITS.wall_seconds + 60)
    return _docker


class WarmSandboxes:
    """One sandbox started ahead for this worker process, and removal off the grading path.

    Docker calls here run on a thread of their own (with their own client) while the current
    submission runs; a spare that failed to start or has expired is simply not used.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._pid = os.getpid()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sandboxes")
        self._client = docker.from_env(timeout=60)
        self._spare = None

    def take(self):
        """The spare made after the previous submission (None at first), and start the next."""
        spare, self._spare = self._spare, None
        if self.enabled:
            labels = {"org.celerylab.grader": socket.gethostname()}
            self._spare = self._thread.submit(
                sandbox.start_warm, self._client, IMAGE, LIMITS, labels
            )
        if spare is None:
            return None
        try:
            return spare.result(timeout=60)
        except Exception as e:  # a cold start will do; say why once per failure
            log.warning("no warm sandbox: %s", e)
            return None

    def dispose(self, container) -> None:
        self._thread.submit(sandbox.remove, container)

    def close(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            try:
                sandbox.remove(spare.result(timeout=60))
            except Exception as e:  # shutting down: the next start cleans up
                log.warning("could not remove the warm sandbox: %s", e)
        self._thread.shutdown(wait=True)


_sandboxes: WarmSandboxes | None = None


def sandboxes() -> WarmSandboxes:
    """This worker process's (created after the fork: threads and sockets do not survive it)."""
    global _sandboxes
    if _sandboxes is None or _sandboxes._pid != os.getpid():
        _sandboxes = WarmSandboxes(os.environ.get("CELERYLAB_GRADER_WARM", "1") != "0")
    return _sandboxes


@worker_process_shutdown.connect
def _remove_spare(**_) -> None:
    if _sandboxes is not None and _sandboxes._pid == os.getpid():
        _sandboxes.close()


class Refused(Exception):
    """The request is not allowed; never retried."""


def in_namespace(task_id: str, job) -> bool:
    """Whether the task's id is in the namespace of the course the job names: only then may its
    result be written under that id (the course's broker user reads only those)."""
    course = job.get("course") if isinstance(job, dict) else None
    return (
        isinstance(course, str)
        and bool(course)
        and task_id.startswith(grading_acl.task_prefix(course))
    )


def open_job(job: dict, task_id: str | None = None) -> tuple[Fernet, dict]:
    """The course's key and the submission sealed in the job; Refused if not sealed with it, or
    (task_id given) sealed for another task: a sealed job replayed under a new id."""
    course = job.get("course", "")
    if "sealed" not in job:
        raise Refused(
            "the task is not sealed: a course container older than this grader sent it "
            "(`celerylab courses sync` replaces it)"
        )
    fernet = Fernet(secrets.course_grading_key(SECRETS_DIR, course))
    try:
        submission = json.loads(fernet.decrypt(job["sealed"]))
    except (InvalidToken, TypeError, ValueError):
        raise Refused(f"the task is not sealed with course {course}'s grading key") from None
    if task_id is not None and submission.get("task_id") != task_id:
        sealed_for = submission.get("task_id")
        raise Refused(f"the task was sealed for task {sealed_for!r}, not {task_id!r}")
    return fernet, submission


@app.task(
    name=TASK,
    bind=True,
    autoretry_for=(docker.errors.APIError, requests.exceptions.ConnectionError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    # Stored below, once the task's id is known to be its course's (Celery's own would be
    # written under any id, before the task could look at it).
    track_started=False,
)
def execute(self, job: dict) -> dict:
    """Open the sealed job, run its notebook from its workspace (base64 tar.gz) in a sandbox and
    return the outcome, sealed; only its status is in the clear (for Flower)."""
    if not in_namespace(self.request.id, job):
        # Its result would land in another course's keys (a forged result or a replay): store
        # nothing at all under that id.
        log.warning("ignored task %s: not in the namespace of course %r", self.request.id,
                    job.get("course") if isinstance(job, dict) else None)  # fmt: skip
        raise Ignore()
    self.update_state(state="STARTED", meta={"pid": os.getpid(), "hostname": self.request.hostname})
    course = job.get("course", "")
    started = time.monotonic()
    grading_stats.started(course)
    fernet, digest = None, None
    try:
        fernet, job = open_job(job, self.request.id)
        workspace = base64.b64decode(job["workspace"])
        digest = hashlib.sha256(workspace).hexdigest()
        files = sandbox.unpack(workspace, LIMITS)
        if job["notebook"] not in files:
            raise Refused(f"{job['notebook']!r} is not in the workspace")
        labels = {
            "org.celerylab.course": course,
            "org.celerylab.student": job.get("student", ""),
            "org.celerylab.assignment": job.get("assignment", ""),
            "org.celerylab.grader": socket.gethostname(),
        }
        pool = sandboxes()
        outcome = sandbox.run(
            docker_client(),
            IMAGE,
            files,
            job["notebook"],
            LIMITS,
            labels,
            warm=pool.take(),
            dispose=pool.dispose,
            student=job.get("student", ""),
        ).as_dict()
    except (Refused, ValueError) as e:
        outcome = {"status": "refused", "reason": str(e), "seconds": 0.0, "notebook": None}
    except Exception:
        grading_stats.finished(course, "retried", time.monotonic() - started)
        raise
    outcome["worker"] = socket.gethostname()
    grading_stats.finished(course, outcome["status"], time.monotonic() - started)
    log.info(
        "%s %s/%s %s: %s %s (%.1f s)",
        course,
        job.get("assignment"),
        job.get("student"),
        job.get("notebook"),
        outcome["status"],
        outcome["reason"],
        outcome["seconds"],
    )
    if fernet is None:  # refused before the course's key was known: nothing of the job inside
        return outcome
    # Bound to this task and this submission: the course accepts it for nothing else.
    outcome.update(task_id=self.request.id, submission=digest)
    sealed = fernet.encrypt(json.dumps(outcome).encode()).decode()
    return {"status": outcome["status"], "sealed": sealed}


IMAGE = os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest")


STARTED = datetime.now(UTC)
#: Exited sandboxes older than this are removed by any grader (their own may be gone for good).
ABANDONED = timedelta(minutes=30)


def _docker_time(value: str) -> datetime:
    # Docker's RFC 3339 with nanoseconds; Python parses microseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac or '0')[:6]:0<6}+00:00")


@worker_ready.connect
def remove_orphaned_sandboxes(**_) -> None:
    """Sandboxes left behind: by this host's worker before it restarted (killed mid-run, or its
    warm spares), and any grader's that exited long ago."""
    try:
        found = docker_client().containers.list(all=True, filters={"label": f"{sandbox.LABEL}=1"})
    except docker.errors.DockerException as e:
        log.warning("cannot list sandboxes: %s", e)
        return
    host, now = socket.gethostname(), datetime.now(UTC)
    for container in found:
        state = container.attrs["State"]
        mine = container.labels.get("org.celerylab.grader") == host
        left_by_me = mine and _docker_time(container.attrs["Created"]) < STARTED
        abandoned = (
            state.get("Status") == "exited" and now - _docker_time(state["FinishedAt"]) > ABANDONED
        )
        if not (left_by_me or abandoned):
            continue
        sandbox.remove(container)
        log.info("removed orphaned sandbox %s", container.name)
