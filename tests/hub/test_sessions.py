"""Course sessions: labs started before a class, kept from the culler until it ends, and the
unopened ones stopped after it. Planned from the declarations and the hub's user list."""

from datetime import UTC, datetime, timedelta

import pytest
from celerylab_hub.courses import CourseError, load
from celerylab_hub.sessions import opened, plan, students_to_watch

COURSE = """
id: celery-101
title: Celery Foundations
instructors: [ada]
roster: celery-101.csv
sessions:
  - {start: "2027-01-12T10:00:00+01:00", minutes: 90}
  - {start: "2027-01-05T10:00:00+01:00", minutes: 90}
"""
START = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
LEAD = timedelta(minutes=15)
CULL = timedelta(hours=1)


@pytest.fixture
def course(tmp_path):
    (tmp_path / "celery-101.csv").write_text("username\nalice\nbob\ncarl\n")
    (tmp_path / "celery-101.yaml").write_text(COURSE)
    return load(tmp_path / "celery-101.yaml")


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def running(last_activity: datetime) -> dict:
    return {"servers": {"": {"ready": True, "last_activity": iso(last_activity)}}}


def test_sessions_are_declared_with_start_and_length_in_order(course):
    first, second = course.sessions
    assert first.start == datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    assert (second.start, second.end) == (START, START + timedelta(minutes=90))


def test_a_session_without_time_zone_is_refused(tmp_path):
    (tmp_path / "celery-101.csv").write_text("username\nalice\n")
    (tmp_path / "c.yaml").write_text(COURSE.replace("10:00:00+01:00", "10:00:00"))
    with pytest.raises(CourseError, match=r"session 1: start .* needs a time zone"):
        load(tmp_path / "c.yaml")


def test_labs_are_prestarted_within_the_lead_only(course):
    users = {"alice": {"servers": {}}, "bob": running(START - LEAD), "carl": {"pending": "spawn"}}
    assert plan([course], users, START - LEAD - timedelta(seconds=1), LEAD, CULL).start == []
    todo = plan([course], users, START - LEAD, LEAD, CULL)
    assert todo.start == ["alice"]  # bob runs, carl is starting
    assert plan([course], users, START, LEAD, CULL).start == []  # then students start their own
    assert plan([course], users, START - LEAD, timedelta(0), CULL).start == []  # lead 0: never


def test_students_not_created_yet_are_left_alone(course):
    assert plan([course], {}, START - LEAD, LEAD, CULL).start == []


def test_the_culler_cannot_take_a_lab_before_its_session_ends(course):
    last = START - LEAD  # pre-started, never opened
    end = START + timedelta(minutes=90)
    now = START - LEAD
    while now < end:  # the service's rounds (every 5 min here)
        keep = plan([course], {"alice": running(last)}, now, LEAD, CULL).protect.get("alice")
        last = keep or last
        assert now - last <= CULL, f"the culler could stop it at {now}"
        now += timedelta(minutes=5)
    # ...and may once the session is over (a cull timeout after its end at the latest).
    assert last == end - CULL


def test_activity_is_never_moved_backwards_nor_past_now(course):
    now = START + timedelta(minutes=5)
    users = {"alice": running(now)}  # the student is at work
    assert plan([course], users, now, LEAD, CULL).protect == {}
    users = {"alice": running(START - LEAD)}
    assert plan([course], users, now, LEAD, timedelta(minutes=30)).protect == {"alice": now}


def test_after_the_session_running_labs_are_checked_once_for_being_opened(course):
    end = START + timedelta(minutes=90)
    users = {"alice": running(end), "bob": {"servers": {}}}
    todo = plan([course], users, end + timedelta(minutes=1), LEAD, CULL)
    assert todo.check_unopened == {"alice": end} and todo.protect == {}
    assert plan([course], users, end + timedelta(hours=2), LEAD, CULL).check_unopened == {}


def test_a_lab_is_opened_when_its_own_activity_is_after_its_start():
    t = datetime(2027, 1, 12, 8, 45, tzinfo=UTC)
    assert not opened({"started": iso(t), "last_activity": iso(t + timedelta(seconds=3))})
    assert opened({"started": iso(t), "last_activity": iso(t + timedelta(minutes=5))})


def test_only_students_of_current_sessions_are_looked_up(course):
    assert students_to_watch([course], START - timedelta(days=1), LEAD) == set()
    assert students_to_watch([course], START - LEAD, LEAD) == {"alice", "bob", "carl"}
