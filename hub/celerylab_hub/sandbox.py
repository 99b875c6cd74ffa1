"""Run one submitted notebook in a throwaway container: the grading sandbox.

The container comes from the lab image, so hidden tests can start a Redis and a Celery worker
for the student's code, but it has no network, limits on CPU, memory, processes and wall time,
a read-only root, a size-limited tmpfs as its only writable workspace, and it is removed after
each run. Inside, celerylab_lab.sandbox_run executes the notebook without its tests (nbgrader's
Execute preprocessor, as an unprivileged user), then has the hidden tests judged by a fresh
process (docs/grading.md, "Hidden tests"). The gradebook never enters it: the caller
gets the executed notebook back and nbgrader records the grades outside.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import tarfile
import time
from dataclasses import asdict, dataclass

import docker
import docker.errors
from docker.types import Mount

log = logging.getLogger(__name__)
LABEL = "org.celerylab.sandbox"


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Defaults suit the course's lab notebooks on a 2-core host."""

    wall_seconds: int = 300
    cell_timeout: int = 120
    memory: str = "768m"
    cpus: float = 1.0
    pids: int = 256
    workspace: str = "128m"
    output_kib: int = 2048
    input_mib: int = 20


@dataclass
class Outcome:
    """How a sandboxed run ended. status is ok, or the reason class of a failure."""

    status: str  # ok | timeout | output_limit | kernel_died | wall_time | memory | failed
    reason: str
    seconds: float
    notebook: str | None  # the executed notebook (status ok)
    partial: str | None = None  # what had been executed before a failure
    #: of `seconds`, the time inside the sandbox's runner (kernel start and the cells)
    execution_seconds: float | None = None
    #: whether the sandbox was started ahead (start_warm) rather than for this submission
    warm: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


class InputTooLarge(ValueError):
    pass


def workspace_archive(files: dict[str, bytes], limits: Limits) -> bytes:
    """A tar for /sandbox: the workspace under in/, owned by root (read-only to the kernel)."""
    total = sum(len(b) for b in files.values())
    if total > limits.input_mib * 1024 * 1024:
        raise InputTooLarge(
            f"the submission is {total / 2**20:.1f} MiB; "
            f"the grading limit is {limits.input_mib} MiB"
        )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in sorted(files.items()):
            if name.startswith("/") or ".." in name.split("/"):
                raise ValueError(f"unsafe path in the workspace: {name!r}")
            info = tarfile.TarInfo(f"in/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack(body: bytes, limits: Limits) -> dict[str, bytes]:
    """A workspace sent as tar.gz: regular files only, inside the workspace, within limits."""
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
                    raise InputTooLarge(
                        f"the workspace is over the grading limit of {limits.input_mib} MiB"
                    )
                files[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"not a gzip-compressed tar archive: {e}") from None
    return files


def file_archive(name: str, payload: dict) -> bytes:
    data = json.dumps(payload).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


#: A warm sandbox nobody sends a submission to exits after this long (the grader makes another).
WARM_IDLE_SECONDS = 900


def job_settings(limits: Limits) -> dict:
    """What the runner needs before it has a submission (all of it for a warm start)."""
    return {
        "cell_timeout": limits.cell_timeout,
        "wall_seconds": limits.wall_seconds,
        "output_limit": limits.output_kib * 1024,
        "limits": {"memory": limits.memory, "pids": limits.pids},
        "idle_seconds": WARM_IDLE_SECONDS,
    }


def container_options(
    image: str, limits: Limits, labels: dict[str, str], warm: bool = False
) -> dict:
    return {
        "image": image,
        "entrypoint": ["python3", "-m", "celerylab_lab.sandbox_run"],
        "command": ["--warm"] if warm else [],
        "user": "0:0",
        "network_mode": "none",
        "read_only": True,
        "mounts": [Mount("/sandbox", None, type="volume")],
        # The kernel's only writable places; tmpfs pages count against the memory limit.
        "tmpfs": {
            "/workspace": f"size={limits.workspace},mode=1777",
            "/tmp": "size=64m,mode=1777",  # noqa: S108 (the sandbox's own tmpfs)
        },
        "cap_drop": ["ALL"],
        # Only to start (and stop) the kernel as nobody; the kernel itself has no capabilities.
        "cap_add": ["SETUID", "SETGID", "KILL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.pids,
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [docker.types.Ulimit(name="nofile", soft=1024, hard=1024)],
        "log_config": docker.types.LogConfig(
            type="json-file", config={"max-size": "1m", "max-file": "1"}
        ),
        "environment": {"PYTHONDONTWRITEBYTECODE": "1"},
        "labels": {LABEL: "1", **labels},
        "hostname": "sandbox",
    }


class ResultTooLarge(ValueError):
    pass


def result_limit(limits: Limits) -> int:
    """The largest result a run may return: the notebook as sent (at most the input limit),
    twice over (executed and partial), and its capped output (counted twice in the runner)."""
    return 2 * limits.input_mib * 2**20 + 4 * limits.output_kib * 1024 + 2**20


def _read_result(container, limit: int) -> dict | None:
    return _read_result_at(container, "/sandbox/out/result.json", limit)


def _read_result_at(container, path: str, limit: int) -> dict | None:
    """A result file, refused by its size before it is read (and never read past the limit)."""
    try:
        stream, stat = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    if stat.get("size", 0) > limit:
        raise ResultTooLarge(f"the result is {stat['size'] / 2**20:.1f} MiB")
    received = io.BytesIO()
    for chunk in stream:
        received.write(chunk)
        if received.tell() > limit + 64 * 1024:  # the tar's own headers and padding
            raise ResultTooLarge(f"the result is over {limit / 2**20:.1f} MiB")
    with tarfile.open(fileobj=io.BytesIO(received.getvalue())) as tar:
        member = tar.extractfile(path.rsplit("/", 1)[-1])
        return json.loads(member.read()) if member else None


def _new_name() -> str:
    return f"celerylab-sandbox-{secrets.token_hex(6)}"


def remove(container) -> None:
    try:
        container.remove(v=True, force=True)
    except docker.errors.APIError as e:  # already gone; never mask an outcome
        log.warning("could not remove sandbox %s: %s", container.name, e)


def start_warm(client: docker.DockerClient, image: str, limits: Limits, labels: dict[str, str]):
    """A sandbox started before its submission is known: kernel up, waiting for a workspace.

    It still serves exactly one submission (run(..., warm=it)) and is removed after it.
    """
    container = client.containers.create(
        name=_new_name(), **container_options(image, limits, labels, warm=True)
    )
    try:
        container.put_archive("/sandbox", file_archive("job.json", job_settings(limits)))
        container.start()
    except Exception:
        remove(container)
        raise
    return container


def _is_running(container) -> bool:
    try:
        container.reload()
    except docker.errors.APIError:  # removed, or the engine refused: make a new one
        return False
    return container.status == "running"


def run(
    client: docker.DockerClient,
    image: str,
    files: dict[str, bytes],
    notebook: str,
    limits: Limits = Limits(),
    labels: dict[str, str] | None = None,
    warm=None,
    dispose=remove,
    student: str = "",
) -> Outcome:
    """Execute `notebook` (a key of `files`) in a sandbox, then `dispose` of the container.

    `warm` is a container from start_warm() to use if it is still waiting; otherwise (or when
    it has expired) a new sandbox is created and started here. `student` (from the course's
    sealed job) reaches the hidden tests as CELERYLAB_STUDENT: an exam paper is drawn per student.
    """
    started = time.monotonic()
    container = warm  # disposed of in the end, used or not, whatever happens
    try:
        workspace = workspace_archive(files, limits)
        if container is not None and not _is_running(container):  # expired or gone
            dispose(container)
            container = None
        if container is not None:
            container.put_archive("/sandbox", workspace)
            container.put_archive(
                "/sandbox", file_archive("go", {"notebook": notebook, "student": student})
            )
        else:
            container = client.containers.create(
                name=_new_name(), **container_options(image, limits, labels or {})
            )
            job = {**job_settings(limits), "notebook": notebook, "student": student}
            container.put_archive("/sandbox", workspace)
            container.put_archive("/sandbox", file_archive("job.json", job))
            container.start()
        outcome = _outcome(container, limits, started)
        outcome.warm = container is warm
        return outcome
    finally:
        if container is not None:
            dispose(container)


def _outcome(container, limits: Limits, started: float) -> Outcome:
    try:
        exit_status = container.wait(timeout=limits.wall_seconds)["StatusCode"]
    except Exception:  # requests' ReadTimeout: the wall-time limit
        container.kill()
        return Outcome(
            "wall_time",
            f"time limit exceeded: grading took longer than {limits.wall_seconds} s",
            round(time.monotonic() - started, 3),
            None,
        )
    container.reload()
    oom = container.attrs["State"].get("OOMKilled", False)
    try:
        result = _read_result(container, result_limit(limits))
    except ResultTooLarge as e:
        return Outcome(
            "output_limit",
            f"output limit exceeded: {e}, over the grading limit",
            round(time.monotonic() - started, 3),
            None,
        )
    if result is None:
        if oom:
            reason = f"memory limit ({limits.memory}) exceeded"
            status = "memory"
        else:
            tail = container.logs(tail=5).decode(errors="replace").strip()
            reason = f"the grading sandbox failed (exit {exit_status}): {tail[-500:]}"
            status = "failed"
        return Outcome(status, reason, round(time.monotonic() - started, 3), None)
    return Outcome(
        result["status"],
        result["reason"],
        round(time.monotonic() - started, 3),
        result["notebook"],
        result.get("partial"),
        result.get("seconds"),
    )
