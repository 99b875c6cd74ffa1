"""The "My courses" page: due dates, release state, submission times and lateness."""

from datetime import UTC, datetime

from celerylab_lab.courses_page import last_submission, policy_text, render

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
COURSE = {
    "id": "c101",
    "title": "Celery 101",
    "late_policy": {"kind": "percent_per_day", "percent": 10.0, "max_days": 3},
    "assignments": [
        {"id": "ps1", "due": "2027-01-09T12:00:00+00:00", "released": True},
        {"id": "ps2", "due": "2027-01-20T12:00:00+00:00", "released": True},
        {"id": "ps3", "due": None, "released": False},
        {"id": "ps4", "due": "2027-01-08T00:00:00+00:00", "released": True},
    ],
}


def record(cache, course, assignment, stamp):
    d = cache / course / f"amy+{assignment}+{stamp}"
    d.mkdir(parents=True)
    (d / "timestamp.txt").write_text(stamp)


def test_latest_submission_comes_from_nbgraders_record(tmp_path):
    record(tmp_path, "c101", "ps1", "2027-01-09 10:00:00.000000 UTC")
    record(tmp_path, "c101", "ps1", "2027-01-09 13:30:00.000000 UTC")
    assert last_submission("c101", "ps1", tmp_path) == datetime(2027, 1, 9, 13, 30, tzinfo=UTC)
    assert last_submission("c101", "ps2", tmp_path) is None


def test_page_shows_due_dates_lateness_and_policy(tmp_path):
    record(tmp_path, "c101", "ps1", "2027-01-09 13:30:00.000000 UTC")
    html = render([COURSE], NOW, tmp_path)
    assert "Celery 101" in html and "2027-01-20 12:00 UTC" in html
    assert "submitted 2027-01-09 13:30 UTC, 2 hours late" in html
    assert "not submitted; due in 10.0 days" in html
    assert "not released yet" in html
    assert "not submitted; due 2.5 days ago" in html
    assert "loses 10% per day late; after 3 days late it scores 0" in html


def test_policies_in_words():
    assert policy_text(None) == "Late work is accepted without penalty."
    assert policy_text({"kind": "zero"}) == "Late work scores 0."


def test_no_courses():
    assert "not enrolled in a course" in render([], NOW)
