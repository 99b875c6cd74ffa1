"""nbgrader's Execute step, run in the grading sandbox instead of the course container.

Configured in the course's nbgrader_config.py (celerylab_lab.course) as the first autograde
preprocessor, so `nbgrader autograde` and the formgrader's autograde button both use it. It
sends the notebook (with the hidden tests nbgrader has just restored) and the assignment's other
files as one task to the grading fleet (celerylab_hub.grading: Celery workers on the platform's
own broker), whose worker runs them in a throwaway container, and carries on with the executed
notebook: grades are then computed and saved here, outside the sandbox. The task and its result
are sealed with the course's grading key: on the shared broker, and in the fleet's Flower, other
courses see only that this course is grading.

When a submission breaks a limit (time, memory, processes, output), it is still graded: every
cell that did not run gets an error output saying why, so its tests score nothing, and the
reason goes to the log and to grading-log.jsonl in the course directory. Only a failure of the
grading fleet itself fails the submission, so it can be autograded again later.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path

import kombu.exceptions
import nbformat
import redis.exceptions
from celery import Celery, states
from celery.backends.redis import RedisBackend
from celery.utils import uuid
from cryptography.fernet import Fernet, InvalidToken
from kombu import Exchange, Queue
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode


class GradingServiceError(RuntimeError):
    pass


def workspace_tar(directory: Path, notebook: str, nb_text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            if name != notebook and not name.startswith("."):
                tar.add(path, arcname=name)
        data = nb_text.encode()
        info = tarfile.TarInfo(notebook)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def mark_not_run(nb: NotebookNode, reason: str) -> int:
    """Give every code cell that did not run an error output with the reason; return how many."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.get("execution_count") is not None:
            continue
        count += 1
        cell.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="NotGraded",
                evalue=reason,
                traceback=[f"This cell did not run in the grading sandbox: {reason}"],
            )
        ]
    return count


TASK = "celerylab.grading.execute"
#: Sent straight onto the fleet's queue (the default exchange, nothing declared): a course's
#: broker user may only LPUSH there (celerylab_hub.grading_acl), not declare or bind anything.
QUEUE = Queue("grading", exchange=Exchange(""), routing_key="grading", no_declare=True)
#: How often a waiting submission reads its result key: one Redis GET, nothing to speak of.
POLL_SECONDS = 0.1
_clients: dict[str, tuple[Celery, RedisBackend]] = {}


def grading_client(broker: str) -> tuple[Celery, RedisBackend]:
    """A client of the grading fleet: an app that sends tasks by name (the fleet's code is not
    needed here) and a reader of their results on the same Redis."""
    if broker not in _clients:
        # This container's environment points Celery at its own Redis (for its own worker), and
        # Celery lets those variables win over the arguments: not for the grading client.
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            os.environ.pop(name, None)
        # No result backend on the sending app: Celery's Redis backend would subscribe to every
        # task's channel, and a subscription does not survive a broker restart. Results are read
        # by key instead (run_on_fleet), and a key does.
        app = Celery("celerylab-grading-client", broker=broker)
        app.conf.update(
            task_serializer="json",
            result_serializer="json",
            accept_content=["json"],
            broker_connection_retry_on_startup=True,
            redis_socket_connect_timeout=5,
            redis_socket_timeout=30,
        )
        _clients[broker] = (app, RedisBackend(app=app, url=broker))
    return _clients[broker]


#: The grading broker is not answering (restarting, or the network blinked): its data survive.
BROKER_DOWN = (
    OSError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)


def refused_password(error: Exception) -> bool:
    """Redis counts a wrong password as a connection error, and kombu wraps it."""
    auth = redis.exceptions.AuthenticationError
    return isinstance(error, auth) or isinstance(error.__cause__, auth)


def new_task_id(course: str) -> str:
    """A task id in the course's namespace: its broker user reads only results named so, and the
    workers refuse a task whose id is not in the namespace of the course that sealed it."""
    return f"{course}.{uuid()}"


def run_on_fleet(broker: str, job: dict, timeout: float, task_id: str | None = None) -> dict:
    """Send the job to the grading fleet and return its outcome, through broker restarts.

    The task id is fixed before sending, so a send retried after a broker error names the same
    task (the task is a pure function of the job: running it twice changes nothing).
    """
    app, results = grading_client(broker)
    deadline = time.monotonic() + timeout
    task_id, sent, trouble = task_id or uuid(), False, ""
    while time.monotonic() < deadline:
        try:
            if not sent:
                # What Flower and the workers' logs show of it: the job is sealed anyway.
                shown = f"[{{course: {job.get('course')!r}, sealed}}]"
                app.send_task(TASK, args=[job], queue=QUEUE, task_id=task_id, argsrepr=shown)
                sent = True
            meta = results.get_task_meta(task_id, cache=False)
        except redis.exceptions.NoPermissionError as e:  # not this course's task or key
            raise GradingServiceError(
                f"the grading broker refused this course's request: {e}"
            ) from None
        except BROKER_DOWN as e:
            if refused_password(e):  # waiting would not help: say so now
                raise GradingServiceError(
                    f"the grading broker refused this course's user ({e}): "
                    "`celerylab courses sync` in the hub container sets it again"
                ) from None
            trouble = f"; the grading broker was unreachable: {type(e).__name__}: {e}"
            time.sleep(2)
            continue
        if meta["status"] == states.SUCCESS:
            _forget(results, task_id)
            return meta["result"]
        if meta["status"] in states.READY_STATES:  # the fleet gave up (retries exhausted)
            exc = results.exception_to_python(meta["result"])
            raise GradingServiceError(f"the grading fleet failed: {type(exc).__name__}: {exc}")
        time.sleep(POLL_SECONDS)
    where = "sent, no result" if sent else "could not be sent"
    raise GradingServiceError(
        f"the grading fleet timed out after {timeout:.0f} s ({where}){trouble}"
    )


def _forget(results: RedisBackend, task_id: str) -> None:
    """The result is here now: it need not wait in the shared broker until it expires."""
    with contextlib.suppress(*BROKER_DOWN):  # it expires anyway
        results.forget(task_id)


def submission_digest(workspace: bytes) -> str:
    """What a sealed outcome names to say which submission it is the outcome of."""
    return hashlib.sha256(workspace).hexdigest()


def seal_job(key: str, course: str, submission: dict) -> dict:
    """The task's argument: the course in the clear, the submission encrypted and signed."""
    return {
        "course": course,
        "sealed": Fernet(key).encrypt(json.dumps(submission).encode()).decode(),
    }


def open_outcome(key: str, result: dict, task_id: str, digest: str) -> dict:
    """The fleet's outcome of this task on this submission, or GradingServiceError.

    Only an outcome sealed with the course's key, naming this task id and this submission's
    digest, counts: anything else (unsealed, another course's, or a real outcome of another
    task or submission replayed here) is refused, never graded."""
    if not isinstance(result, dict) or "sealed" not in result:
        said = result.get("reason") if isinstance(result, dict) else None
        raise GradingServiceError(
            "the grading fleet's result is not sealed, so it is not trusted"
            + (f" (it says: {said})" if said else "")
        )
    try:
        outcome = json.loads(Fernet(key).decrypt(result["sealed"]))
    except (InvalidToken, TypeError, ValueError):
        raise GradingServiceError(
            "the grading fleet's result is not sealed with this course's key: the graders' "
            "grading_key_root differs from the hub's"
        ) from None
    if outcome.get("task_id") != task_id or outcome.get("submission") != digest:
        raise GradingServiceError(
            f"the grading fleet's result is sealed for another task or submission "
            f"({outcome.get('task_id')!r}), not {task_id!r}: refused"
        )
    return outcome


class SandboxedExecute(NbGraderPreprocessor):
    broker = Unicode(
        os.environ.get("CELERYLAB_GRADING_BROKER", ""),
        help="the grading fleet's broker URL (set by the hub for each course container)",
    ).tag(config=True)
    course_id = Unicode(
        json.loads(os.environ.get("CELERYLAB_COURSE", "{}")).get("id", ""),
        help="the course this container grades for",
    ).tag(config=True)
    grading_key = Unicode(
        os.environ.get("CELERYLAB_GRADING_KEY", ""),
        help="the course's key (Fernet) that seals its tasks and results on the grading broker; "
        "set by the hub for each course container",
    ).tag(config=True)
    request_timeout = Integer(
        3600, help="seconds to wait for the grading fleet (queueing included)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        directory = Path(resources["metadata"]["path"])
        notebook = f"{resources['unique_key']}.ipynb"
        who = resources.get("nbgrader", {})
        student, assignment = who.get("student", ""), who.get("assignment", "")
        body = workspace_tar(directory, notebook, nbformat.writes(nb))
        if not self.broker:
            raise GradingServiceError("no grading broker is configured (CELERYLAB_GRADING_BROKER)")
        if not self.grading_key:
            raise GradingServiceError(
                "no grading key is configured (CELERYLAB_GRADING_KEY): this course container "
                "predates it; `celerylab courses sync` in the hub container replaces it"
            )
        task_id = new_task_id(self.course_id)
        job = seal_job(
            self.grading_key,
            self.course_id,
            {
                "task_id": task_id,
                "student": student,
                "assignment": assignment,
                "notebook": notebook,
                "workspace": base64.b64encode(body).decode(),
            },
        )
        outcome = open_outcome(
            self.grading_key,
            run_on_fleet(self.broker, job, self.request_timeout, task_id),
            task_id,
            submission_digest(body),
        )
        if outcome["status"] == "refused":
            raise GradingServiceError(f"the grading fleet refused: {outcome['reason']}")
        if outcome["status"] == "ok":
            nb = nbformat.reads(outcome["notebook"], as_version=nbformat.NO_CONVERT)
        else:
            if outcome.get("partial"):
                nb = nbformat.reads(outcome["partial"], as_version=nbformat.NO_CONVERT)
            for cell in nb.cells:  # nothing counts from a run that did not finish
                if cell.cell_type == "code" and not cell.get("outputs"):
                    cell["execution_count"] = None
            mark_not_run(nb, outcome["reason"])
        if outcome["reason"]:
            self.log.warning("%s/%s %s: %s", assignment, student, notebook, outcome["reason"])
        self._record(directory, student, assignment, notebook, outcome)
        return nb, resources

    def _record(self, directory: Path, student, assignment, notebook, outcome) -> None:
        # autograded/<student>/<assignment> -> the course directory
        log_file = directory.parents[2] / "grading-log.jsonl"
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "student": student,
            "assignment": assignment,
            "notebook": notebook,
            "status": outcome["status"],
            "reason": outcome["reason"],
            "seconds": outcome["seconds"],
            "execution_seconds": outcome.get("execution_seconds"),
            "warm": outcome.get("warm"),
            "worker": outcome.get("worker"),
        }
        try:
            with log_file.open("a") as f:
                f.write(json.dumps(entry) + "\n")
        except OSError as e:
            self.log.warning("could not write %s: %s", log_file, e)
