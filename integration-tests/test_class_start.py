"""A class that starts together gets in together: a herd sized to the machine all gets its labs
(0 failed: a correctness property, not a timing), waiting students see their place in the start
queue, and a course session pre-starts its roster's labs so a student's first request finds the
lab running."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from live import ARTIFACTS, compose, restart_hub

pytestmark = pytest.mark.docker

#: Five labs per core (10 on the 2-core CI machine): several times the start queue's slots, so
#: most of the class waits its turn, and far more CPU than one lab's start at once.
HERD = 5 * len(os.sched_getaffinity(0))


def spawn_and_follow(hub, name: str) -> list[dict]:
    """Start a lab and read the spawn page's events (JupyterHub's progress API) until it ends.

    The events are read while the start request is still open: the hub answers it only once the
    lab is up (or after 10 s), when a waiting student's place in the queue would be gone."""
    with ThreadPoolExecutor(1) as request:
        answer = request.submit(hub.api, "POST", f"/users/{name}/server")
        while not answer.done() and not (hub.user(name) or {}).get("pending"):
            time.sleep(0.05)
        events = []
        with hub.api("GET", f"/users/{name}/server/progress", stream=True, timeout=900) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("ready") or events[-1].get("failed"):
                        break
        r = answer.result()
    assert r.status_code in (201, 202), f"{name}: {r.status_code} {r.text}"
    assert events, f"{name}: the spawn page had nothing to show"
    return events


def test_a_class_starting_at_once_all_gets_in(stack):
    names = [f"class{i:02d}" for i in range(HERD)]
    for name in names:
        stack.ensure_user(name)
    try:
        with ThreadPoolExecutor(HERD) as pool:
            runs = dict(
                zip(names, pool.map(lambda n: spawn_and_follow(stack, n), names), strict=True)
            )
        failed = {n: e[-1].get("message") for n, e in runs.items() if not e[-1].get("ready")}
        assert not failed, f"{len(failed)} of {HERD} labs failed: {failed}"
        messages = [e.get("message", "") for events in runs.values() for e in events]
        assert any("starting before yours" in m for m in messages), (
            f"no waiting student was told their place in the queue: {sorted(set(messages))}"
        )
    finally:
        with ThreadPoolExecutor(HERD) as pool:
            list(pool.map(stack.stop, names))


SESSION_COURSE = """
id: c303
title: A session about to start (test course)
instructors: [ida]
roster: c303.csv
sessions:
  - {{start: "{start}", minutes: 30}}
"""


@pytest.fixture
def course_with_a_session_soon(stack):
    """The hub restarted on a course folder whose one course meets in three minutes."""
    students = ["pre1", "pre2"]
    for name in students:
        stack.ensure_user(name)
    folder = ARTIFACTS / "session-courses"
    folder.mkdir(parents=True, exist_ok=True)
    start = (datetime.now(UTC) + timedelta(minutes=3)).replace(microsecond=0)
    (folder / "c303.yaml").write_text(SESSION_COURSE.format(start=start.isoformat()))
    (folder / "c303.csv").write_text("username\n" + "\n".join(students) + "\n")
    restart_hub(stack, CELERYLAB_COURSES=str(folder), CELERYLAB_PRESTART_MINUTES="15")
    yield students
    for name in students:
        stack.stop(name)
    restart_hub(stack)


def test_a_session_prestarts_its_roster_and_students_find_their_labs_running(
    stack, course_with_a_session_soon
):
    students = course_with_a_session_soon
    deadline = time.monotonic() + 120
    waiting = set(students)
    while waiting and time.monotonic() < deadline:
        waiting = {n for n in waiting if not (stack.user(n)["servers"].get("") or {}).get("ready")}
        time.sleep(1)
    assert not waiting, f"the session did not pre-start the labs of {sorted(waiting)}"

    # A student's first request goes straight to their running lab (no spawn page).
    lab = stack.lab("pre1", stack.token_for("pre1"))
    r = lab.get("api/status", allow_redirects=False)
    assert r.status_code == 200, f"the first request did not find the lab running: {r.status_code}"

    # By hand, as an instructor would before an unscheduled class.
    stack.stop("pre2")
    out = compose("exec", "-T", "hub", "celerylab", "labs", "prestart", "c303", check=False)
    assert out.returncode == 0, out.stderr
    assert "2 of 2 labs of c303 running" in out.stderr, out.stderr
    assert (stack.user("pre2")["servers"].get("") or {}).get("ready")
