"""Inside a grading sandbox: execute one submitted notebook and write the result.

The grader starts a throwaway container from the lab image with no network, CPU, memory and
process limits and a read-only root, puts the workspace (the notebook with its hidden tests
restored, and the assignment's other files) under /sandbox/in and job.json beside it, and runs
this module as root with only the SETUID/SETGID capabilities. It copies the workspace to a
size-limited tmpfs and runs the kernel there as an unprivileged user, so the student's code can
neither write the result file (/sandbox/out, root's) nor touch this process. The result says how
execution ended; the grader turns a missing result into a reason from the container's state.

Execution is nbgrader's own Execute preprocessor (same semantics as a plain `nbgrader
autograde`), plus a cap on the output a notebook may produce.

With --warm the grader starts the container before it has a submission for it: this process
imports nbgrader and starts the kernel, then waits for /sandbox/go (the notebook's name), which
the grader writes after the workspace. The container is still used for one submission only;
warming just takes container start, imports and kernel start off the grading time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError

SANDBOX = Path("/sandbox")
WORKSPACE = Path("/workspace")
KERNEL_USER = 65534  # nobody


class OutputLimitExceeded(Exception):
    pass


def _oom_score_adj(value: str) -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(value)


def _limited_execute(cell_timeout: int, output_limit: int):
    from jupyter_client.manager import AsyncKernelManager
    from nbgrader.preprocessors import Execute

    class KernelAsNobody(AsyncKernelManager):
        """The kernel runs as nobody: its connection file must be readable to it."""

        def write_connection_file(self, **kwargs):
            super().write_connection_file(**kwargs)
            os.chmod(self.connection_file, 0o644)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.update(
                user=KERNEL_USER,
                group=KERNEL_USER,
                extra_groups=[],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # The kernel and whatever it starts go first when memory runs out, not this runner:
            # it inherits the score (it cannot be set on the kernel's own /proc entry from here).
            _oom_score_adj("1000")
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                _oom_score_adj("0")

    class LimitedExecute(Execute):
        produced = 0

        def output(self, outs, msg, display_id, cell_index):
            # The backstop for output that bypasses the kernel-side cap (sandbox_output).
            self.produced += len(json.dumps(msg.get("content", {})))
            if self.produced > 2 * output_limit:
                raise OutputLimitExceeded(
                    f"output limit exceeded: the notebook printed more than "
                    f"{output_limit // 1024} KiB"
                )
            return super().output(outs, msg, display_id, cell_index)

    return LimitedExecute(
        timeout=cell_timeout,
        kernel_manager_class=KernelAsNobody,
        extra_arguments=[
            "--HistoryManager.hist_file=:memory:",
            "--IPKernelApp.exec_lines="
            f"import celerylab_lab.sandbox_output as o; o.install({output_limit}); del o",
        ],
    )


def _cgroup_events() -> dict[str, int]:
    """Process and memory limit hits, from cgroup v1 or v2 (best effort)."""
    found = {}
    for name, path, key in (
        ("pids_max", "/sys/fs/cgroup/pids/pids.events", "max"),
        ("pids_max", "/sys/fs/cgroup/pids.events", "max"),
        ("oom_kill", "/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
        ("oom_kill", "/sys/fs/cgroup/memory.events", "oom_kill"),
    ):
        try:
            for line in Path(path).read_text().splitlines():
                k, _, v = line.partition(" ")
                if k == key:
                    found[name] = max(found.get(name, 0), int(v))
        except (OSError, ValueError):
            continue
    return found


def _reason_for_dead_kernel(events: dict[str, int], limits: dict) -> str:
    reasons = []
    if events.get("pids_max"):
        reasons.append(f"process limit ({limits.get('pids', '?')}) reached")
    if events.get("oom_kill"):
        reasons.append(f"memory limit ({limits.get('memory', '?')}) exceeded")
    return "; ".join(reasons) + ": the kernel was killed" if reasons else "the kernel died"


def _raised(nb, ename: str) -> bool:
    return any(
        out.get("ename") == ename
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def prestart(job: dict):
    """The executor and a kernel already running in the (still empty) workspace."""
    executor = _limited_execute(int(job["cell_timeout"]), int(job["output_limit"]))
    km = executor.kernel_manager_class(kernel_name="python3", config=executor.config)
    run_sync(km.start_kernel)(extra_arguments=executor.extra_arguments, cwd=str(WORKSPACE))
    return executor, km


def wait_for_go(idle_seconds: float) -> dict | None:
    """What the grader sends once the workspace is in place; None when none came in time."""
    deadline = time.monotonic() + idle_seconds
    go = SANDBOX / "go"
    while time.monotonic() < deadline:
        try:
            return json.loads(go.read_text())
        except (OSError, ValueError):  # not there yet, or still being written
            time.sleep(0.05)
    return None


def execute(job: dict, executor=None, km=None) -> dict:
    nb_path = WORKSPACE / job["notebook"]
    nb = nbformat.read(nb_path, as_version=nbformat.NO_CONVERT)
    if executor is None:
        executor = _limited_execute(int(job["cell_timeout"]), int(job["output_limit"]))
    started = time.monotonic()
    status, reason = "ok", ""
    try:
        nb, _ = executor.preprocess(nb, {"metadata": {"path": str(WORKSPACE)}}, km=km)
    except OutputLimitExceeded as e:
        status, reason = "output_limit", str(e)
    except CellTimeoutError:
        status = "timeout"
        reason = (
            f"time limit exceeded: a cell ran longer than {job['cell_timeout']} s "
            "and did not stop when interrupted"
        )
    except Exception as e:  # the kernel died, or nbclient gave up on it
        events = _cgroup_events()
        status = "kernel_died"
        reason = f"{_reason_for_dead_kernel(events, job.get('limits', {}))} ({type(e).__name__})"
    events = _cgroup_events()
    if status == "ok" and _raised(nb, "CellTimeoutError"):
        reason = f"a cell ran longer than {job['cell_timeout']} s and was interrupted"
    elif status == "ok" and _raised(nb, "OutputLimitExceeded"):
        reason = f"output limit ({int(job['output_limit']) // 1024} KiB) exceeded"
    elif status == "ok" and events.get("pids_max"):
        # Execution finished, but some cell hit the process limit: say so beside its error.
        reason = f"process limit ({job.get('limits', {}).get('pids', '?')}) reached"
    return {
        "status": status,
        "reason": reason,
        "seconds": round(time.monotonic() - started, 3),
        "notebook": nbformat.writes(nb) if status == "ok" else None,
        "partial": None if status == "ok" else nbformat.writes(executor.nb or nb),
    }


def main(argv: list[str]) -> int:
    job = json.loads((SANDBOX / "job.json").read_text())
    # The sandbox's own tmpfs (mode 1777); nothing else in this container is writable.
    os.environ.update(HOME="/tmp", IPYTHONDIR="/tmp/.ipython", JUPYTER_RUNTIME_DIR="/tmp/rt")  # noqa: S108
    os.environ.pop("PYTHONSTARTUP", None)
    executor = km = None
    if "--warm" in argv:
        executor, km = prestart(job)
        go = wait_for_go(float(job.get("idle_seconds", 900)))
        if go is None:  # never used: the grader will start a fresh one
            return 0
        job["notebook"] = go["notebook"]
    # Copy the workspace as the kernel's user, so the student's code owns only its copy.
    subprocess.run(
        ["cp", "-r", f"{SANDBOX}/in/.", str(WORKSPACE)],
        check=True,
        user=KERNEL_USER,
        group=KERNEL_USER,
        extra_groups=[],
    )
    result = execute(job, executor, km)
    out = SANDBOX / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(mode=0o700)
    (out / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # The result is written. A kernel started ahead (--warm) ends with this container, so exit
    # without waiting on its channels at interpreter shutdown.
    sys.stdout.flush()
    os._exit(code)
