"""Execute notebooks the way a student would in a fresh lab: their own Redis, the
`celerylab-worker` command (the test stand-in in shim/), cwd = the assignment folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from celerylab_course.labkit import Flower, RedisServer
from course_env import temporary_env
from nbclient import NotebookClient

SHIM = Path(__file__).parent / "shim"


class LabSession:
    """A student's lab services: Redis, the supervised worker (via the shim, running the starter
    module as a fresh lab does) and Flower."""

    def __init__(self, tmp: Path, full: bool = True):
        """full: also start Flower and the starter worker, as a fresh lab has them (only the
        notebooks that use them need them; the others point the worker at their own module)."""
        self.tmp = tmp
        self.redis = RedisServer().start()
        self.flower = None
        if full:
            self.flower = Flower(
                "tasks", self.redis.url(0), self.redis.url(1), SHIM / "home"
            ).start()
        self.state = tmp / "shim-state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.env = {
            "CELERY_BROKER_URL": self.redis.url(0),
            "CELERY_RESULT_BACKEND": self.redis.url(1),
            "CELERYLAB_SHIM_DIR": str(self.state),
            "CELERYLAB_SHIM_PYTHON": sys.executable,
            "CELERYLAB_FLOWER_URL": self.flower.url if self.flower else "http://127.0.0.1:9",
            "PATH": os.pathsep.join(
                [str(SHIM), str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
        }
        if full:
            self.shim("use", "tasks", "--workdir", str(SHIM / "home"))

    def shim(self, *args: str) -> None:
        subprocess.run(
            [str(SHIM / "celerylab-worker"), *args],
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
        )

    def close(self) -> None:
        self.shim("stop")
        if self.flower:
            self.flower.stop()
        self.redis.stop()

    def execute(
        self, assignment_dir: Path, notebook: str, timeout: int = 60
    ) -> nbformat.NotebookNode:
        work = self.tmp / assignment_dir.name
        if not work.exists():
            shutil.copytree(assignment_dir, work, ignore=shutil.ignore_patterns("__pycache__"))
        nb = nbformat.read(work / notebook, as_version=4)
        with temporary_env(self.env):
            NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(work)}},
            ).execute()
        return nb


def errors(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"[{cell.get('id')}] {out['ename']}: {out['evalue']}")
            elif (
                out.get("output_type") == "stream"
                and out.get("name") == "stderr"
                and "Traceback" in out["text"]
            ):
                found.append(f"[{cell.get('id')}] stderr: {out['text'][-800:]}")
    return found


def outputs(nb: nbformat.NotebookNode) -> str:
    # A cell's stream pieces are joined with nothing: on a busy machine the kernel flushes one
    # print() in several messages ("RuntimeError:" then " runbook stopped..."), and a newline
    # between them would split a line the student sees whole.
    return "\n".join(
        "".join(o.get("text", "") for o in c.get("outputs", []) if o.get("output_type") == "stream")
        for c in nb.cells
    )
