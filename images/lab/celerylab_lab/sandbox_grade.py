"""Hidden tests judged outside the student's kernel (docs/grading.md, "Hidden tests").

A submitted notebook is graded in two steps:

1. the kernel runs the notebook with every test cell emptied: the student's outputs become their
   feedback, and the student's code never runs in the same process as a test, nor sees one;
2. a fresh judge process (celerylab_lab.sandbox_judge), in a fresh copy of the submitted
   workspace, replays the notebook's code cells in order, tests included, and reports each
   test's verdict on sockets of its own as it goes; only a connection to a test's "pass"
   socket from that very process (its pid, by SO_PEERCRED) counts as a pass. A test that
   never reports (the judge died, or the test ran out of time) fails, and a fresh judge
   replays the notebook without it for the tests after it.

The notebook that comes back keeps the student's cells and outputs; each test cell holds only
its name and outcome, never its source or what it printed.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import math
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
    score: float | None = None  # partial credit: the number a passing test ended with
    note: str = ""  # what a pass says (a quiz question's explanation), from the course's source


def pass_note(source: str) -> str:
    """What a passing quiz question tells the student, read from the instructor's own test
    source (never from the judge, whose output the student's code could shape): each
    `answers.check_*("<id>", given, ..., "<explanation>")` call says "<id>: correct. <why>"."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "answers"
            and node.func.attr.startswith("check_")
            and len(node.args) >= 3
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                    for a in (node.args[0], node.args[-1]))
        ):  # fmt: skip
            lines.append(f"{node.args[0].value}: correct. {node.args[-1].value}")
    return "\n".join(lines)


def capture_last_value(source: str) -> str:
    """The test's source with its last expression, if it ends in one, assigned to the judge's
    SCORE name: a passing test that ends in a number earns that much (nbgrader's partial
    credit, which it reads from the cell's result)."""
    from celerylab_lab.sandbox_judge import SCORE

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # it fails in the judge, as it would in the notebook
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return source
    last = tree.body[-1]
    tree.body[-1] = ast.copy_location(
        ast.Assign(targets=[ast.Name(SCORE, ast.Store())], value=last.value), last
    )
    return ast.unparse(ast.fix_missing_locations(tree))


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


def notebook_steps(nb: NotebookNode, skip: frozenset = frozenset()) -> list[list]:
    """The notebook's code in order: ["cells", [sources]] for the student's and the given
    cells, ["test", index, source] for each test (but those in `skip`)."""
    steps: list[list] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or index in skip:
            continue
        if is_test(cell):
            steps.append(["test", index, capture_last_value(cell.source)])
        elif steps and steps[-1][0] == "cells":
            steps[-1][1].append(cell.source)
        else:
            steps.append(["cells", [cell.source]])
    return steps


def _budgets(steps: list[list], cell_timeout: float, startup: float) -> dict[int, float]:
    """How long each test may take to report after the one before it (or the judge's start):
    its own cell and the cells since, at the cell timeout each."""
    budgets, cells, first = {}, 0, True
    for step in steps:
        if step[0] == "cells":
            cells += len(step[1])
            continue
        budgets[step[1]] = cell_timeout * (cells + 1) + (startup if first else 0)
        cells, first = 0, False
    return budgets


def judge_once(
    steps: list[list],
    workdir: Path,
    cell_timeout: float,
    deadline: float,
    user: int | None = None,
    env: dict[str, str] | None = None,
) -> tuple[dict[int, Verdict], str]:
    """One judge process runs `steps`: the verdicts it reported and, if a test did not
    report, why ("timed out", or "failed": the judge ended)."""
    import json

    tests = [step[1] for step in steps if step[0] == "test"]
    with tempfile.TemporaryDirectory(prefix="celerylab-judge-") as d:
        os.chmod(d, 0o755)  # noqa: S103 - for the judge (another user) to reach the sockets
        listeners = {}
        for index in tests:
            listeners[_listen(Path(d, f"pass-{index}"))] = (index, True)
            listeners[_listen(Path(d, f"fail-{index}"))] = (index, False)
        who = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
        proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "celerylab_lab.sandbox_judge", d],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=workdir, env=env, start_new_session=True, **who,
        )  # fmt: skip
        program = json.dumps({"steps": steps, "cell_timeout": cell_timeout})

        def send():
            try:
                proc.stdin.write(program.encode() + b"\n")
                proc.stdin.close()
            except OSError:  # the judge is gone already: its verdicts are failures
                pass

        threading.Thread(target=send, daemon=True).start()
        budgets = _budgets(steps, cell_timeout, startup=30)
        try:
            return _wait_for_verdicts(proc, listeners, tests, budgets, deadline)
        finally:
            for s in listeners:
                s.close()
            _stop(proc)


def _wait_for_verdicts(proc, listeners: dict, tests: list, budgets: dict, deadline: float):
    """Verdicts as they come, until every test has one, the judge is gone, or the test it is
    on runs out of time."""
    verdicts: dict[int, Verdict] = {}
    with selectors.DefaultSelector() as sel:
        for s in listeners:
            sel.register(s, selectors.EVENT_READ)
        exited_at, since = None, time.monotonic()
        while True:
            pending = [i for i in tests if i not in verdicts]
            now = time.monotonic()
            if not pending:
                return verdicts, ""
            if now > deadline or now - since > budgets[pending[0]]:
                return verdicts, "timed out"
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            elif exited_at is not None and now - exited_at > 1:  # nothing queued after its exit
                return verdicts, "failed"
            for key, _ in sel.select(timeout=0.2):
                try:
                    conn, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                index, passed = listeners[key.fileobj]
                with conn:
                    if _peer_pid(conn) != proc.pid:  # anyone else's word counts for nothing
                        continue
                    if passed:  # only main's own code reaches it
                        verdicts[index] = Verdict(True, score=_score(conn))
                    elif index not in verdicts:
                        conn.settimeout(1)
                        try:
                            said = conn.recv(1000).decode(errors="replace")
                        except OSError:
                            said = ""
                        verdicts[index] = Verdict(False, said.strip() or "failed")
                    since = time.monotonic()


def _score(conn: socket.socket) -> float | None:
    """The partial credit the judge sent with a pass, if any (a number's repr)."""
    conn.settimeout(1)
    try:
        said = conn.recv(64).decode()
        value = float(said) if said else None
    except (OSError, ValueError):
        return None
    # nbgrader reads the number as a partial grade; not a number is nothing earned.
    return value if value is None or math.isfinite(value) else 0.0


def _stop(proc) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, 9)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def judge_notebook(
    nb: NotebookNode,
    fresh_workspace: Callable[[], Path],
    cell_timeout: float,
    deadline: float | None = None,
    user: int | None = None,
    env: dict[str, str] | None = None,
    after_each: Callable[[], None] = lambda: None,
) -> dict[int, Verdict]:
    """A verdict for every test cell (by cell index). One judge process replays the notebook
    and reports each test as it goes; a test that does not report (the judge died, or the
    test ran out of time) fails, and a fresh judge replays the notebook without that test for
    the tests after it."""
    verdicts: dict[int, Verdict] = {}
    tests = [i for i, cell in enumerate(nb.cells) if is_test(cell)]
    skip: set[int] = set()
    if deadline is None:
        deadline = time.monotonic() + 10**6
    while len(verdicts) < len(tests):
        if time.monotonic() >= deadline:
            break
        steps = notebook_steps(nb, frozenset(skip))
        try:
            reported, why = judge_once(steps, fresh_workspace(), cell_timeout, deadline, user, env)
        finally:
            after_each()
        # Earlier tests run again in a later judge (for what they leave behind): their first
        # verdict stands.
        for index, verdict in reported.items():
            verdicts.setdefault(index, verdict)
        stuck = next((i for i in tests if i not in verdicts), None)
        if stuck is not None:
            verdicts[stuck] = Verdict(False, why or "failed")
            skip.add(stuck)
    for index in tests:
        verdicts.setdefault(index, Verdict(False, "timed out"))
        if verdicts[index].passed:
            verdicts[index].note = pass_note(nb.cells[index].source)
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
        if verdict.passed and verdict.note:
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=verdict.note + "\n")
            ]
        if verdict.passed and verdict.score is not None:
            cell.outputs += [
                nbformat.v4.new_output(
                    "execute_result",
                    data={"text/plain": repr(verdict.score)},
                    execution_count=count,
                )
            ]
        if not verdict.passed:
            reason, _, message = verdict.reason.partition("\n")
            ename = reason if reason in BUILTIN_EXCEPTIONS else "HiddenTestFailed"
            said = f": {reason}" if reason in REASONS else ""
            # Only a check's teaching message is passed on (the judge sends no other text).
            message = message if reason == "AssertionError" else ""
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
