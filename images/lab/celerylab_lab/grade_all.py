"""celerylab-grade: autograde every collected submission of an assignment on the grading fleet.

    celerylab-grade ps1                 # everything collected and not yet graded
    celerylab-grade ps1 --force         # grade again, even what is already graded
    celerylab-grade ps1 --student 'a*'  # some students only

Run in the course container (the formgrader's terminal), in the course directory. Each
submission is graded by nbgrader's own API, as `nbgrader autograde` would, several at a time:
the execution itself runs on the grading fleet (celerylab_lab.sandbox_execute), so this process
mostly waits, and the gradebook is written here, once per submission. A live line shows done /
failed / remaining and the time left; the state is also kept in
.celerylab/grading/<assignment>.json for the instructor page.

Resumable: a submission whose collected version (its timestamp) is already graded is skipped,
so running the command again after an interruption grades only what is left.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import multiprocessing
import os
import sys
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

_api = None


def _load_api():
    """nbgrader's API with the course's configuration (as nbgrader's own apps load it)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader

    class Config(NbGrader):
        name = "celerylab-grade"

    app = Config()
    app.initialize([])
    return NbGraderAPI(config=app.config)


def _grade(assignment: str, student: str) -> dict:
    global _api
    if _api is None:
        # nbgrader's gradebook code trips SQLAlchemy's autoflush warnings on every submission.
        warnings.filterwarnings("ignore", message=".*not in session.*")
        _api = _load_api()
    started = time.monotonic()
    try:
        result = _api.autograde(assignment, student, force=True, create=True)
    except Exception as e:  # never lose the batch to one submission
        result = {"success": False, "error": f"{type(e).__name__}: {e}", "log": ""}
    return {
        "student": student,
        "success": bool(result.get("success")),
        "error": (result.get("error") or "").strip(),
        "log": result.get("log") or "",
        "seconds": round(time.monotonic() - started, 2),
    }


def reason(result: dict) -> str:
    """Why a submission failed: the grading fleet's own message when there is one (nbgrader's
    last line only points at its traceback)."""
    lines = f"{result.get('log', '')}\n{result.get('error', '')}".splitlines()
    ours = [line.strip() for line in lines if "GradingServiceError" in line]
    if ours:
        return ours[-1]
    errors = [line for line in result.get("error", "").splitlines() if line.strip()]
    return errors[-1] if errors else "see the log"


def version(folder: Path) -> str | None:
    try:
        return (folder / "timestamp.txt").read_text().strip()
    except OSError:
        return None


def pending(root: Path, assignment: str, pattern: str, force: bool) -> tuple[list[str], list[str]]:
    """(students to grade, students already graded at their collected version)."""
    todo, done = [], []
    submitted = root / "submitted"
    for folder in sorted(submitted.glob(f"*/{assignment}")):
        student = folder.parent.name
        if not fnmatch.fnmatch(student, pattern):
            continue
        graded = version(root / "autograded" / student / assignment)
        if not force and graded is not None and graded == version(folder):
            done.append(student)
        else:
            todo.append(student)
    return todo, done


def _line(done: int, failed: int, remaining: int, elapsed: float) -> str:
    total = done + failed + remaining
    finished = done + failed
    eta = f"{elapsed / finished * remaining:5.0f} s" if finished else "    ?"
    width = 30
    filled = int(width * finished / total) if total else width
    bar = "#" * filled + "." * (width - filled)
    return (
        f"[{bar}] {finished}/{total}  done {done}  failed {failed}  remaining {remaining}  "
        f"elapsed {elapsed:5.0f} s  left {eta}"
    )


class Progress:
    def __init__(self, root: Path, assignment: str, total: int, live: bool):
        self.path = root / ".celerylab" / "grading" / f"{assignment}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.assignment, self.total, self.live = assignment, total, live
        self.started = time.monotonic()
        self.results: list[dict] = []
        self.shown = -1

    @property
    def counts(self) -> tuple[int, int, int]:
        done = sum(r["success"] for r in self.results)
        failed = len(self.results) - done
        return done, failed, self.total - len(self.results)

    def show(self, final: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        line = _line(*self.counts, elapsed)
        if self.live:
            print(f"\r{line}", end="\n" if final else "", file=sys.stderr, flush=True)
        elif len(self.results) != self.shown:  # a line per change when not on a terminal
            print(line, file=sys.stderr, flush=True)
        self.shown = len(self.results)
        done, failed, remaining = self.counts
        state = {
            "assignment": self.assignment,
            "done": done,
            "failed": failed,
            "remaining": remaining,
            "elapsed": round(elapsed, 1),
            "finished": final,
            "failures": [
                {"student": r["student"], "error": reason(r)[-500:]}
                for r in self.results
                if not r["success"]
            ],
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="celerylab-grade", description=__doc__.split("\n\n")[0].split(": ", 1)[1]
    )
    parser.add_argument("assignment")
    parser.add_argument("--student", default="*", help="only students matching this pattern")
    parser.add_argument("--force", action="store_true", help="grade again what is graded")
    parser.add_argument(
        "--parallel",
        type=int,
        default=int(os.environ.get("CELERYLAB_GRADE_PARALLEL") or 8),
        help="submissions in progress at once (they mostly wait for the fleet)",
    )
    args = parser.parse_args(argv)
    root = Path.cwd()
    if not (root / "nbgrader_config.py").exists():
        print("celerylab-grade: run me in the course directory (~)", file=sys.stderr)
        return 2
    if not (root / "source" / args.assignment).is_dir():
        print(f"celerylab-grade: no assignment {args.assignment!r} in source/", file=sys.stderr)
        return 2
    todo, skipped = pending(root, args.assignment, args.student, args.force)
    print(
        f"{args.assignment}: {len(todo)} to grade, {len(skipped)} already graded "
        f"(--force grades them again)",
        file=sys.stderr,
    )
    progress = Progress(root, args.assignment, len(todo), sys.stderr.isatty())
    progress.show()
    # Forked workers share the already imported nbgrader; each keeps its own gradebook session.
    import nbgrader.apps  # noqa: F401

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max(1, args.parallel), mp_context=context) as pool:
        futures = {pool.submit(_grade, args.assignment, s) for s in todo}
        while futures:
            finished, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                progress.results.append(future.result())
            progress.show()
    progress.show(final=True)
    failures = [r for r in progress.results if not r["success"]]
    for r in failures:
        print(f"FAILED {r['student']}: {reason(r)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
