"""Roster names and e-mail reach the course's gradebook, so a grade export carries them
(issue 17: the CSV had empty names because every column but username was dropped)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from celerylab_hub import coursecontainers
from celerylab_hub.courses import load
from celerylab_hub.roster import parse, parse_profiles

ROSTER = (
    "username,first_name,last_name,email,seat\n"
    "amy,Amy,Adams,amy@uni.example,12\n"
    "bob,,,,\n"
    "cara,Cara,,cara@uni.example,3\n"
)


def test_profile_columns_are_kept_and_others_ignored():
    assert parse_profiles(ROSTER) == {
        "amy": {"first_name": "Amy", "last_name": "Adams", "email": "amy@uni.example"},
        "bob": {},
        "cara": {"first_name": "Cara", "email": "cara@uni.example"},
    }
    assert parse(ROSTER) == ["amy", "bob", "cara"]


def test_a_course_container_gets_the_roster_profiles(tmp_path):
    (tmp_path / "c1.csv").write_text(ROSTER)
    (tmp_path / "c1.yaml").write_text("id: c1\ntitle: C one\ninstructors: [ida]\nroster: c1.csv\n")
    course = load(tmp_path / "c1.yaml")
    declared = json.loads(coursecontainers.environment(course, "token")["CELERYLAB_COURSE"])
    assert declared["students"] == ["amy", "bob", "cara"]
    assert declared["profiles"] == {k: v for k, v in parse_profiles(ROSTER).items() if v}


def test_the_gradebook_export_carries_names_and_email(tmp_path, monkeypatch):
    (tmp_path / "c1.csv").write_text(ROSTER)
    (tmp_path / "c1.yaml").write_text(
        "id: c1\ntitle: C one\ninstructors: [ida]\nroster: c1.csv\nassignments: [{id: ps1}]\n"
    )
    course = load(tmp_path / "c1.yaml")
    declared = json.loads(coursecontainers.environment(course, "token")["CELERYLAB_COURSE"])
    home = tmp_path / "course"
    # nbgrader's gradebook runs `alembic` from the environment's bin (first on PATH in images).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    home.mkdir()
    # The course container's own code against a real nbgrader gradebook, then nbgrader's export.
    from celerylab_lab.course import sync_gradebook

    sync_gradebook(declared, home)
    sync_gradebook(declared, home)  # every container start: idempotent
    out = tmp_path / "grades.csv"
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", f"--to={out}",
         f"--CourseDirectory.db_url=sqlite:///{home}/gradebook.db",
         "--CourseDirectory.course_id=c1"],
        cwd=home, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"amy", "bob", "cara"}
    amy, bob, cara = rows["amy"], rows["bob"], rows["cara"]
    assert (amy["first_name"], amy["last_name"], amy["email"]) == (
        "Amy",
        "Adams",
        "amy@uni.example",
    )
    assert (cara["first_name"], cara["email"]) == ("Cara", "cara@uni.example")
    assert (bob["first_name"], bob["email"]) in {("", ""), ("None", "None")}
