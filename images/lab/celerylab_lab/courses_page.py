"""The "My courses" launcher page: each course's assignments, when they are due, what is
released, when you last submitted (the exchange's time), whether that was late, and the late
policy. nbgrader's Assignments tab does the fetching and submitting; this page answers "what is
due when".
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

from celerylab_lab.exchange import ExchangeClient, ServiceError
from celerylab_lab.pages import PageHandler, page, serve

#: nbgrader's timestamp format, as the exchange writes it.
TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f %Z"


def last_submission(course: str, assignment: str, cache: Path | None = None) -> datetime | None:
    """Latest submission of an assignment, from nbgrader's local record of submissions."""
    cache = cache or Path(jupyter_data_dir()) / "nbgrader_cache"
    times = []
    for record in (cache / course).glob(f"*+{assignment}+*"):
        try:
            stamp = (record / "timestamp.txt").read_text().strip()
            times.append(datetime.strptime(stamp, TIMESTAMP).replace(tzinfo=UTC))
        except (OSError, ValueError):
            continue
    return max(times, default=None)


def policy_text(policy: dict | None) -> str:
    if not policy or policy["kind"] == "none":
        return "Late work is accepted without penalty."
    if policy["kind"] == "zero":
        return "Late work scores 0."
    text = f"Late work loses {policy['percent']:g}% per day late"
    if policy.get("max_days"):
        text += f"; after {policy['max_days']} days late it scores 0"
    return text + "."


def status(assignment: dict, submitted: datetime | None, now: datetime) -> str:
    due = datetime.fromisoformat(assignment["due"]) if assignment["due"] else None
    if submitted:
        when = f"submitted {submitted:%Y-%m-%d %H:%M} UTC"
        if due and submitted > due:
            return f"<span class=late>{when}, {_span(submitted - due)} late</span>"
        return f"<span class=ok>{when}</span>"
    if not assignment["released"]:
        return "not released yet"
    if due and now > due:
        return f"<span class=late>not submitted; due {_span(now - due)} ago</span>"
    return f"not submitted; due in {_span(due - now)}" if due else "not submitted"


def _span(delta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def render(courses: list[dict], now: datetime | None = None, cache: Path | None = None) -> str:
    now = now or datetime.now(UTC)
    if not courses:
        return page("My courses", "<h1>My courses</h1><p>You are not enrolled in a course yet.</p>")
    parts = ["<h1>My courses</h1>"]
    for c in courses:
        rows = "".join(
            f"<tr><td>{html.escape(a['id'])}</td>"
            f"<td>{html.escape(a['due'][:16].replace('T', ' ') + ' UTC') if a['due'] else '-'}</td>"
            f"<td>{status(a, last_submission(c['id'], a['id'], cache), now)}</td></tr>"
            for a in c["assignments"]
        )
        parts.append(
            f"<h2>{html.escape(c['title'])} <small>({html.escape(c['id'])})</small></h2>"
            f"<table><tr><th>Assignment</th><th>Due</th><th>You</th></tr>{rows}</table>"
            f"<p>{html.escape(policy_text(c['late_policy']))} Fetch and submit in the "
            f"<b>Assignments</b> tab (Nbgrader menu).</p>"
        )
    return page("My courses", "".join(parts))


class Handler(PageHandler):
    def do_GET(self):
        try:
            courses = ExchangeClient().courses()
        except ServiceError as e:
            self.send(503, page("My courses", f"<p class=err>{html.escape(str(e))}</p>"))
            return
        if self.path.rstrip("/").endswith("json"):
            self.send(200, json.dumps(courses), "application/json")
        else:
            self.send(200, render(courses))


if __name__ == "__main__":
    serve(Handler)
