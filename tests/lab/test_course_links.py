"""nbgrader's Course List gets the formgraders the hub gave the user, or the course's own."""

import json

from celerylab_lab.course_links import formgraders


def test_a_users_lab_lists_the_formgraders_the_hub_gave_it():
    given = [{"course_id": "Celery One", "url": "https://fg/formgrader", "kind": "formgrader"}]
    assert formgraders({"CELERYLAB_FORMGRADERS": json.dumps(given)}) == given
    assert formgraders({"CELERYLAB_FORMGRADERS": "[]"}) == []
    assert formgraders({}) == [], "a lab started before this existed lists none, not an error"


def test_a_course_container_lists_its_own_formgrader_by_title():
    service = "https://formgrader-c1--service.lab.example.org/services/formgrader-c1/"
    env = {
        "CELERYLAB_COURSE": json.dumps({"id": "c1", "title": "Celery One"}),
        "JUPYTERHUB_PUBLIC_URL": service,
        "CELERYLAB_FORMGRADERS": "[]",
    }
    assert formgraders(env) == [
        {"course_id": "Celery One", "url": f"{service}formgrader", "kind": "formgrader"}
    ]
