"""Hidden tests judged outside the student's kernel (docs/grading.md, "Hidden tests").

A submitted notebook is graded in two steps:

1. the kernel runs the notebook with every test cell emptied: the student's outputs become their
   feedback, and the student's code never runs in the same process as a test, nor sees one;
2. each test cell is judged by a fresh process (celerylab_lab.sandbox_judge) in a fresh copy of
   the submitted workspace: it replays the code cells before the test (earlier tests included,
   for what they leave behind), then the test, and
   reports on one of two sockets; only a connection to the "pass" socket from that very process
   (its pid, by SO_PEERCRED) counts as a pass.

The notebook that comes back keeps the student's cells and outputs; each test cell holds only
its name and outcome, never its source or what it printed.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import os
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

#: What a failed test's feedback may say besides "failed" (nothing the test's code chose).
NOT_FINISHED = "the notebook did not finish"
REASONS = (
    NOT_FINISHED,
    "timed out",
    "threads left running by the notebook's code",
    "threads left running by the test",
)
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def is_test(cell: NotebookNode) -> bool:
    """An autograded test cell: a grade cell that is not the student's answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def hide_tests(nb: NotebookNode) -> NotebookNode:
    """A copy of the notebook with every test cell emptied (the kernel skips empty cells)."""
    hidden = copy.deepcopy(nb)
    for cell in hidden.cells:
        if is_test(cell):
            cell.source, cell.outputs, cell.execution_count = "", [], None
    return hidden


@dataclass
class Verdict:
    passed: bool
    reason: str = ""


def _peer_pid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def _listen(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    os.chmod(path, 0o666)  # noqa: S103 - the judge runs as the kernel's user; see _peer_pid
    s.listen(16)
    s.setblocking(False)
    return s


def judge(
    steps: list[tuple[str, object]],
    test: str,
    workdir: Path,
    cell_timeout: float,
    timeout: float,
    user: int | None = None,
    env: dict[str, str] | None = None,
) -> Verdict:
    """Run one test after `steps` in a fresh judge process in `workdir`; pass only on its word."""
    import json

    with tempfile.TemporaryDirectory(prefix="celerylab-judge-") as d:
        os.chmod(d, 0o755)  # noqa: S103 - for the judge (another user) to reach the sockets
        pass_path, fail_path = Path(d, "pass"), Path(d, "fail")
        listeners = {_listen(pass_path): True, _listen(fail_path): False}
        who = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
        proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "celerylab_lab.sandbox_judge", str(pass_path),
             str(fail_path)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=workdir, env=env, start_new_session=True, **who,
        )  # fmt: skip
        program = json.dumps({"steps": steps, "test": test, "cell_timeout": cell_timeout})

        def send():
            try:
                proc.stdin.write(program.encode() + b"\n")
                proc.stdin.close()
            except OSError:  # the judge is gone already: its verdict is a failure
                pass

        threading.Thread(target=send, daemon=True).start()
        try:
            return _wait_for_verdict(proc, listeners, time.monotonic() + timeout)
        finally:
            for s in listeners:
                s.close()
            _stop(proc)


def _wait_for_verdict(proc, listeners: dict, deadline: float) -> Verdict:
    with selectors.DefaultSelector() as sel:
        for s in listeners:
            sel.register(s, selectors.EVENT_READ)
        exited_at = None
        while True:
            now = time.monotonic()
            if now > deadline:
                return Verdict(False, "timed out")
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            elif exited_at is not None and now - exited_at > 1:  # nothing queued after its exit
                return Verdict(False, "failed")
            for key, _ in sel.select(timeout=0.2):
                try:
                    conn, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                with conn:
                    if _peer_pid(conn) != proc.pid:  # anyone else's word counts for nothing
                        continue
                    if listeners[key.fileobj]:
                        return Verdict(True)
                    conn.settimeout(1)
                    try:
                        said = conn.recv(1000).decode(errors="replace")
                    except OSError:
                        said = ""
                    return Verdict(False, said.strip() or "failed")


def _stop(proc) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, 9)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def steps_before(nb: NotebookNode, index: int) -> list[tuple[str, object]]:
    """The code before cell `index`, in order: ("cells", [sources]) for the student's and the
    given cells, ("test", source) for each earlier test."""
    steps: list[tuple[str, object]] = []
    for cell in nb.cells[:index]:
        if cell.cell_type != "code":
            continue
        if is_test(cell):
            steps.append(("test", cell.source))
        elif steps and steps[-1][0] == "cells":
            steps[-1][1].append(cell.source)
        else:
            steps.append(("cells", [cell.source]))
    return steps


def judge_notebook(
    nb: NotebookNode,
    fresh_workspace: Callable[[], Path],
    cell_timeout: float,
    deadline: float | None = None,
    user: int | None = None,
    env: dict[str, str] | None = None,
    after_each: Callable[[], None] = lambda: None,
) -> dict[int, Verdict]:
    """A verdict for every test cell (by cell index), each from its own judge."""
    verdicts = {}
    for index, cell in enumerate(nb.cells):
        if not is_test(cell):
            continue
        before = steps_before(nb, index)
        budget = cell_timeout * (sum(len(p) if k == "cells" else 1 for k, p in before) + 1) + 30
        if deadline is not None:
            budget = min(budget, deadline - time.monotonic())
        if budget <= 0:
            verdicts[index] = Verdict(False, "timed out")
            continue
        try:
            verdicts[index] = judge(
                before, cell.source, fresh_workspace(), cell_timeout, budget, user, env
            )
        finally:
            after_each()
    return verdicts


def merge(executed: NotebookNode, verdicts: dict[int, Verdict]) -> NotebookNode:
    """The feedback notebook: each test cell holds its name and outcome, nothing else."""
    count = max((c.get("execution_count") or 0 for c in executed.cells), default=0)
    for index, verdict in sorted(verdicts.items()):
        cell = executed.cells[index]
        name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
        outcome = "passed" if verdict.passed else "failed"
        count += 1
        cell.source = f"# {name}: hidden test, {outcome}"
        cell.execution_count = count
        cell.outputs = []
        if not verdict.passed:
            reason, _, message = verdict.reason.partition("\n")
            ename = reason if reason in BUILTIN_EXCEPTIONS else "HiddenTestFailed"
            said = f": {reason}" if reason in REASONS else ""
            evalue = message[:500] or f"the hidden test {name} failed{said}"
            cell.outputs = [
                nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue])
            ]
    return executed


def copy_workspace(source: Path) -> Callable[[], Path]:
    """Fresh copies of `source` (outside any sandbox: course tests), one per judge."""
    root = Path(tempfile.mkdtemp(prefix="celerylab-workspaces-"))
    made = iter(range(10**6))

    def fresh() -> Path:
        target = root / str(next(made))
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        return target

    fresh.root = root
    return fresh


def judged_execute_class():
    """nbgrader's Execute with the hidden tests judged outside the kernel, for grading outside a
    sandbox (the course's own tests): the same two steps as the sandbox runner, as this user."""
    from nbgrader.preprocessors import Execute

    class JudgedExecute(Execute):
        def preprocess(self, nb, resources):
            path = Path(resources["metadata"]["path"])
            fresh = copy_workspace(path)  # as submitted, before the kernel writes into it
            try:
                try:
                    executed, resources = super().preprocess(hide_tests(nb), resources)
                except Exception as e:  # as in the sandbox: no test passes a run that broke
                    self.log.warning("the notebook did not finish: %s", e)
                    executed = hide_tests(nb)
                    verdicts = {
                        i: Verdict(False, NOT_FINISHED)
                        for i, cell in enumerate(nb.cells)
                        if is_test(cell)
                    }
                else:
                    verdicts = judge_notebook(nb, fresh, self.timeout or 120)
            finally:
                shutil.rmtree(fresh.root, ignore_errors=True)
            return merge(executed, verdicts), resources

    return JudgedExecute
