"""Inside a grading sandbox: execute one submitted notebook and write the result.

The grader starts a throwaway container from the lab image with no network, CPU, memory and
process limits and a read-only root, puts the workspace (the notebook with its hidden tests
restored, and the assignment's other files) under /sandbox/in and job.json beside it, and runs
this module as root with only the SETUID/SETGID capabilities. It copies the workspace to a
size-limited tmpfs and runs the kernel there as an unprivileged user, so the student's code can
neither write the result file (/sandbox/out, root's) nor touch this process. The result says how
execution ended; the grader turns a missing result into a reason from the container's state.

The kernel runs the notebook with its test cells emptied (nbgrader's own Execute preprocessor,
plus a cap on everything the kernel sends): the student's outputs, for feedback. The hidden tests
never enter the kernel, nor its workspace: the runner moves the notebook out of the kernel's
reach first, and the tests are then judged by a fresh process (one per notebook) in a fresh
copy of the submitted workspace (celerylab_lab.sandbox_grade, sandbox_judge; docs/grading.md).

With --warm the grader starts the container before it has a submission for it: this process
imports nbgrader and starts the kernel, then waits for /sandbox/go (the notebook's name), which
the grader writes after the workspace. The container is still used for one submission only;
warming just takes container start, imports and kernel start off the grading time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError

from celerylab_lab.sandbox_grade import hide_tests, judge_notebook, merge

SANDBOX = Path("/sandbox")
WORKSPACE = Path("/workspace")
TMP = "/tmp"  # noqa: S108 - the sandbox's own tmpfs
KERNEL_USER = 65534  # nobody


class OutputLimitExceeded(Exception):
    pass


def _oom_score_adj(value: str) -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(value)


def _limited_execute(cell_timeout: int, output_limit: int, as_nobody: bool = True):
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

        def process_message(self, msg, cell, cell_index):
            # Every iopub message counts, not just printed text: display updates and widget
            # (comm) state too. The kernel-side cap (sandbox_output) stops a print loop early
            # with a friendlier error; this is the cap nothing in the kernel can get around.
            if msg.get("msg_type") != "status":
                self.produced += len(json.dumps(msg.get("content", {}))) + len(
                    json.dumps(msg.get("metadata", {}))
                )
            if self.produced > 2 * output_limit:
                raise OutputLimitExceeded(
                    f"output limit exceeded: the notebook printed more than "
                    f"{output_limit // 1024} KiB"
                )
            return super().process_message(msg, cell, cell_index)

    return LimitedExecute(
        timeout=cell_timeout,
        kernel_manager_class=KernelAsNobody if as_nobody else AsyncKernelManager,
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


def execute(job: dict, executor=None, km=None, nb=None) -> dict:
    """Run the notebook in the kernel (its test cells emptied by the caller: see main)."""
    if nb is None:
        nb = nbformat.read(WORKSPACE / job["notebook"], as_version=nbformat.NO_CONVERT)
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
        "notebook": nb if status == "ok" else None,
        "partial": None if status == "ok" else (executor.nb or nb),
    }


def as_kernel_user(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(command), user=KERNEL_USER, group=KERNEL_USER, extra_groups=[], capture_output=True
    )


def _kernel_user_pids() -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == KERNEL_USER:
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def stop_kernel_user() -> None:
    """Every process of the kernel's user ends, and is reaped (this runner is the container's
    first process: orphans come to it). Signalled from here, not by a `kill` started for it:
    a fork bomb may have taken every process slot. Stopped first, so none forks meanwhile."""
    for _ in range(100):
        pids = _kernel_user_pids()
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
        time.sleep(0.05)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def fresh_workspace(notebook: str, text: str, first: bool = False) -> Path:
    """The submitted workspace again, as the kernel's user: nothing a run before left in it or
    in /tmp survives (the hidden tests' notebook is not in it: see grade). The first copy is
    made for a kernel that may be running already (started ahead)."""
    if not first:
        stop_kernel_user()
        user = str(KERNEL_USER)
        for place in (str(WORKSPACE), TMP):
            as_kernel_user("find", place, "-mindepth", "1", "-user", user, "-delete")
    as_kernel_user("cp", "-r", f"{SANDBOX}/in/.", str(WORKSPACE))
    path = WORKSPACE / notebook
    path.write_text(text)  # root's, read-only to the kernel, as the grader placed it
    path.chmod(0o644)
    return WORKSPACE


def take_notebook(notebook: str) -> nbformat.NotebookNode:
    """The notebook with its hidden tests, moved where the kernel's user cannot read it."""
    private = SANDBOX / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    os.replace(SANDBOX / "in" / notebook, private / "notebook.ipynb")
    return nbformat.read(private / "notebook.ipynb", as_version=nbformat.NO_CONVERT)


def grade(job: dict, executor=None, km=None) -> dict:
    """The kernel runs the notebook without its tests (the student's outputs, for feedback);
    then the tests are judged by a fresh process (celerylab_lab.sandbox_grade)."""
    deadline = time.monotonic() + float(job.get("wall_seconds", 10**6)) - 10
    nb = take_notebook(job["notebook"])
    shown = nbformat.writes(hide_tests(nb))
    fresh_workspace(job["notebook"], shown, first=True)
    result = execute(job, executor, km, nbformat.reads(shown, as_version=nbformat.NO_CONVERT))
    if result["status"] == "ok":
        # The sandbox's own tmpfs, emptied before each judge (fresh_workspace).
        env = {**os.environ, "HOME": TMP, "IPYTHONDIR": f"{TMP}/.ipython"}
        verdicts = judge_notebook(
            nb,
            lambda: fresh_workspace(job["notebook"], shown),
            int(job["cell_timeout"]),
            deadline,
            user=KERNEL_USER,
            env=env,
        )
        stop_kernel_user()
        result["notebook"] = nbformat.writes(merge(result["notebook"], verdicts))
    else:
        result["partial"] = nbformat.writes(result["partial"])
    return result


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
        job["notebook"], job["student"] = go["notebook"], go.get("student", "")
    # Who submitted (an exam paper is drawn per student: celerylab_course.papers). The judge's
    # environment is taken from here, after the student's name is known; a kernel started ahead
    # (--warm) does not have it, so a paper's questions are not shown in its feedback.
    os.environ["CELERYLAB_STUDENT"] = job.get("student", "")
    result = grade(job, executor, km)
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
