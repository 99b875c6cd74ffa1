from datetime import UTC, datetime

import pytest
from celerylab_hub.courses import CourseError, load, load_all

GOOD = """
id: celery-101
title: Celery Foundations
instructors: [ada, grace]
graders: [tom]
roster: celery-101.csv
late_policy: {kind: percent_per_day, percent: 10, max_days: 5}
assignments:
  - {id: f02-calculator, due: "2027-01-15T23:59:00+01:00"}
  - {id: f01-quiz}
"""


def write(tmp_path, text, name="celery-101.yaml", roster="username\nalice\nbob\n"):
    (tmp_path / "celery-101.csv").write_text(roster)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_declaration_gives_groups_service_and_roster(tmp_path):
    course = load(write(tmp_path, GOOD))
    assert course.students == ("alice", "bob")
    assert course.staff == ("ada", "grace", "tom")
    assert (course.student_group, course.grader_group) == (
        "nbgrader-celery-101",
        "formgrade-celery-101",
    )
    assert course.formgrader_service == "formgrader-celery-101"
    assert course.assignments[0].due == datetime(2027, 1, 15, 22, 59, tzinfo=UTC)
    assert course.assignments[1].due is None
    assert (course.late_policy.kind, course.late_policy.percent) == ("percent_per_day", 10.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("id: celery-101", "id: Celery 101"), "id: 'Celery 101' does not match"),
        (("instructors: [ada, grace]", "instructors: []"), "instructors"),
        (("instructors: [ada, grace]", "instructors: [Ada Lovelace]"), "invalid user names"),
        (("kind: percent_per_day", "kind: sometimes"), "late_policy/kind"),
        (("2027-01-15T23:59:00+01:00", "2027-01-15T23:59:00"), "needs a time zone"),
        (("2027-01-15T23:59:00+01:00", "next friday"), "not an ISO 8601"),
        (("{id: f01-quiz}", "{id: f02-calculator}"), "listed twice"),
        (("title: Celery Foundations", "title: Celery Foundations\ncolour: blue"), "colour"),
        (("roster: celery-101.csv", "roster: missing.csv"), "does not exist"),
    ],
)
def test_bad_declarations_are_explained_with_the_file(tmp_path, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CourseError) as e:
        load(path)
    assert str(path) in str(e.value) and message in str(e.value), str(e.value)


def test_bad_roster_rows_are_reported(tmp_path):
    with pytest.raises(CourseError, match="line 3"):
        load(write(tmp_path, GOOD, roster="username\nalice\nNot Valid\n"))


def test_load_all_reports_every_file_and_duplicate_ids(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    (tmp_path / "c.yaml").write_text("id: [unclosed\n")
    with pytest.raises(CourseError) as e:
        load_all(tmp_path)
    assert "declared twice" in str(e.value) and "c.yaml: not valid YAML" in str(e.value)
