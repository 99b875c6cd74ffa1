"""The "Grade all" page of a course container: autograde an assignment's class with one click.

One row per assignment: how many submissions are collected, how many are graded at their
collected version, and a button that starts `celerylab-grade ASSIGNMENT` (the grading fleet) in
the course directory. While it runs the page follows its progress (done / failed / remaining,
time left) from the state file the command keeps, and lists failures with their reason.
A run that was interrupted is resumed by pressing the button again: what is graded is skipped.

It is also the course's page for its staff: it names the course by its title and links the
formgrader, the grading fleet's Flower and **Download grades (CSV)** (nbgrader's export of the
gradebook, with the roster's names and e-mail).

Served through jupyter-server-proxy at /services/<course service>/grade-all/, so only the
course's instructors and graders (the hub's access to the service) reach it.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

from celerylab_lab.grade_all import pending
from celerylab_lab.pages import PageHandler, page, serve

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def course_root() -> Path:
    return Path(os.environ.get("CELERYLAB_COURSE_ROOT") or Path.home())


def _state_dir(root: Path) -> Path:
    return root / ".celerylab" / "grading"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not our run
        return False
    # A finished child of this server that nobody waited for yet is a zombie: reap it.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def assignments(root: Path) -> list[str]:
    source = root / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and NAME.match(p.name))


def run_state(root: Path, assignment: str) -> dict:
    """The last or current run: its counts, whether it is running, and its failures."""
    folder = _state_dir(root)
    try:
        state = json.loads((folder / f"{assignment}.json").read_text())
    except (OSError, ValueError):
        state = {}
    try:
        pid = int((folder / f"{assignment}.pid").read_text())
    except (OSError, ValueError):
        pid = None
    ran = bool(state)
    state["ran"] = ran
    state["running"] = pid is not None and _alive(pid)
    if ran and not state["running"] and not state.get("finished"):
        state["interrupted"] = True
    return state


def status(root: Path) -> list[dict]:
    rows = []
    for a in assignments(root):
        todo, done = pending(root, a, "*", force=False)
        rows.append({"assignment": a, "collected": len(todo) + len(done), "graded": len(done),
                     "to_grade": len(todo), "run": run_state(root, a)})  # fmt: skip
    return rows


class AlreadyRunning(RuntimeError):
    pass


def start(root: Path, assignment: str, force: bool) -> int:
    """Start celerylab-grade for `assignment` in the background; its pid."""
    if assignment not in assignments(root):
        raise ValueError(f"no assignment {assignment!r} in this course's source/")
    if run_state(root, assignment)["running"]:
        raise AlreadyRunning(f"{assignment} is being graded already")
    folder = _state_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    command = ["celerylab-grade", assignment] + (["--force"] if force else [])
    with (folder / f"{assignment}.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (folder / f"{assignment}.pid").write_text(str(process.pid))
    return process.pid


def _progress(run: dict) -> str:
    if not run.get("ran") and not run.get("running"):
        return "not graded here yet"  # no bar and no counts: nothing has run
    done, failed, remaining = run.get("done", 0), run.get("failed", 0), run.get("remaining", 0)
    total = done + failed + remaining
    finished = done + failed
    percent = round(100 * finished / total) if total else 100
    eta = (
        f", about {run['elapsed'] / finished * remaining:.0f} s left"
        if run["running"] and finished and remaining
        else ""
    )
    if run["running"]:
        label = "grading"
    elif run.get("interrupted"):
        label = "interrupted (grade again to resume)"
    else:
        label = "finished"
    return (
        f'<progress max="100" value="{percent}"></progress> <b>{label}</b>: '
        f"{done} done, {failed} failed, {remaining} remaining "
        f"({run.get('elapsed', 0):.0f} s{eta})"
    )


def _failures(run: dict) -> str:
    items = "".join(
        f"<li><b>{html.escape(f['student'])}</b>: "
        f"{html.escape((f['error'].strip().splitlines() or ['see the log'])[-1])}</li>"
        for f in run.get("failures", [])
    )
    return f"<ul class=err>{items}</ul>" if items else ""


def course_title() -> str:
    try:
        return json.loads(os.environ["CELERYLAB_COURSE"])["title"]
    except (KeyError, ValueError):
        return "This course"


def export_grades(root: Path) -> bytes:
    """nbgrader's CSV export of the course's gradebook (one row per assignment and student)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "grades.csv"
        subprocess.run(
            ["nbgrader", "export", f"--to={out}"], cwd=root, check=True, capture_output=True,
            timeout=300,
        )  # fmt: skip
        return out.read_bytes()


def render(root: Path, message: str = "") -> str:
    rows = status(root)
    running = any(r["run"].get("running") for r in rows)
    lines = []
    for r in rows:
        a = html.escape(r["assignment"])
        # Nothing collected: nothing to grade again (a run would finish at once with 0 done).
        disabled = " disabled" if r["run"].get("running") or not r["collected"] else ""
        none_new = " disabled" if r["run"].get("running") or not r["to_grade"] else ""
        buttons = (
            f'<form method="post" action="grade" style="display:inline">'
            f'<input type="hidden" name="assignment" value="{a}">'
            f'<button{none_new} data-busy="Starting…">Grade {r["to_grade"]} new</button></form> '
            f'<form method="post" action="grade" style="display:inline">'
            f'<input type="hidden" name="assignment" value="{a}">'
            f'<input type="hidden" name="force" value="1">'
            f'<button{disabled} data-busy="Starting…">Grade all again</button></form>'
        )
        lines.append(
            f'<tr id="row-{a}"><td>{a}</td><td>{r["collected"]}</td><td>{r["graded"]}</td>'
            f'<td class="progress">{_progress(r["run"])}{_failures(r["run"])}</td>'
            f"<td>{buttons}</td></tr>"
        )
    table = (
        "<table><tr><th>Assignment</th><th>Collected</th><th>Graded</th><th>Last run</th>"
        f"<th></th></tr>{''.join(lines)}</table>"
        if lines
        else "<p>No assignments in source/ yet.</p>"
    )
    refresh = '<meta http-equiv="refresh" content="2">' if running else ""
    note = f"<p class=err>{html.escape(message)}</p>" if message else ""
    title = html.escape(course_title())
    links = (
        '<nav><a href="../formgrader">Formgrader</a> · <b>Grade all</b> · '
        '<a href="../grading-fleet/">Grading fleet</a> · '
        '<a id="download-grades" href="grades.csv" download>Download grades (CSV)</a></nav>'
    )
    return page(
        f"Grade all · {title}",
        f"{refresh}{links}<h1>{title}: grade all</h1>{note}<p>Autograde every collected "
        "submission of an "
        "assignment on the grading fleet (each in its own sandbox, several at a time). "
        "Collect first in the formgrader; the same runs from a terminal: "
        "<code>celerylab-grade ASSIGNMENT</code>.</p>"
        f"{table}<p><small>Updated {time.strftime('%H:%M:%S')}</small></p>",
    )


class Handler(PageHandler):
    def do_GET(self):
        root = course_root()
        if self.path.rstrip("/").endswith("status.json"):
            self.send(200, json.dumps(status(root)), "application/json")
        elif self.path.split("?")[0].endswith("/grades.csv"):
            try:
                data = export_grades(root)
            except (subprocess.SubprocessError, OSError) as e:
                self.send(500, render(root, f"the export failed: {e}"))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Content-Disposition", 'attachment; filename="grades.csv"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send(200, render(root))

    def do_POST(self):
        if self.cross_site():
            self.send(403, "cross-site request refused")
            return
        if not self.path.rstrip("/").endswith("/grade"):
            self.send(404, "not found")
            return
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        form = parse_qs(self.rfile.read(length).decode(errors="replace"))
        assignment = form.get("assignment", [""])[0]
        try:
            start(course_root(), assignment, force=bool(form.get("force")))
        except (ValueError, AlreadyRunning) as e:
            self.send(409 if isinstance(e, AlreadyRunning) else 400, render(course_root(), str(e)))
            return
        self.send_response(303)
        self.send_header("Location", "./")
        self.end_headers()


if __name__ == "__main__":
    serve(Handler)
