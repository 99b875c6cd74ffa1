"""Grading tasks are sealed per course: the course container (celerylab_lab.sandbox_execute) and
the grader workers (celerylab_hub.grading) agree on each course's key, derived from the same
secret, and nothing of a submission or its result is readable on the shared broker without it.
The live round trip through the fleet is integration-tests/test_sandbox.py."""

import json

import pytest
from celerylab_hub import grading, secrets
from celerylab_lab.sandbox_execute import GradingServiceError, open_outcome, seal_job

SUBMISSION = {
    "student": "alice",
    "assignment": "ps1",
    "notebook": "ps1.ipynb",
    "workspace": "aGlkZGVuIHRlc3Rz",  # "hidden tests"
}


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    secrets.ensure(tmp_path)
    monkeypatch.setattr(grading, "SECRETS_DIR", tmp_path)
    return tmp_path


def test_each_course_has_its_own_stable_key(secrets_dir):
    c101 = secrets.course_grading_key(secrets_dir, "c101")
    assert c101 == secrets.course_grading_key(secrets_dir, "c101")
    assert c101 != secrets.course_grading_key(secrets_dir, "c202")
    assert c101 != secrets.course_token(secrets_dir, "c101")


def test_a_worker_opens_what_its_course_sealed_and_the_course_opens_the_result(secrets_dir):
    key = secrets.course_grading_key(secrets_dir, "c101")
    job = seal_job(key, "c101", SUBMISSION)
    shown = json.dumps(job)
    assert set(job) == {"course", "sealed"}
    for value in ("alice", "ps1.ipynb", SUBMISSION["workspace"]):
        assert value not in shown

    fernet, opened = grading.open_job(job)
    assert opened == SUBMISSION
    outcome = {
        "status": "ok",
        "reason": "",
        "notebook": "{executed}",
        "seconds": 1.0,
        "task_id": "c101.1",
        "submission": "d1",
    }
    result = {"status": "ok", "sealed": fernet.encrypt(json.dumps(outcome).encode()).decode()}
    assert "executed" not in json.dumps(result)
    assert open_outcome(key, result, "c101.1", "d1") == outcome


def test_another_course_can_neither_grade_in_its_name_nor_read_its_results(secrets_dir):
    c101 = secrets.course_grading_key(secrets_dir, "c101")
    c202 = secrets.course_grading_key(secrets_dir, "c202")
    with pytest.raises(grading.Refused, match="not sealed with course c202's grading key"):
        grading.open_job(seal_job(c101, "c202", SUBMISSION))
    with pytest.raises(grading.Refused, match="courses sync"):  # an older course container
        grading.open_job({"course": "c101", "token": "t", **SUBMISSION})
    fernet, _ = grading.open_job(seal_job(c101, "c101", SUBMISSION))
    result = {"status": "ok", "sealed": fernet.encrypt(b"{}").decode()}
    with pytest.raises(GradingServiceError, match="not sealed with this course's key"):
        open_outcome(c202, result, "c202.1", "d1")


def test_an_unsealed_result_is_refused_whatever_it_says(secrets_dir):
    # Before, open_outcome returned an unsealed result unchanged: anyone who could write the
    # result key could give full marks. Now it only tells why it is not trusted.
    key = secrets.course_grading_key(secrets_dir, "c101")
    forged = {"status": "ok", "reason": "", "seconds": 0.0, "notebook": "{full marks}"}
    with pytest.raises(GradingServiceError, match="not sealed, so it is not trusted"):
        open_outcome(key, forged, "c101.1", "d1")
    refused = {"status": "refused", "reason": "not sealed", "seconds": 0.0, "notebook": None}
    with pytest.raises(GradingServiceError, match="it says: not sealed"):
        open_outcome(key, refused, "c101.1", "d1")


def test_a_grader_needs_no_secret_that_makes_hub_tokens(secrets_dir, tmp_path_factory, monkeypatch):
    # What the swarm gives grader hosts: the workers' own broker password and grading_key_root,
    # nothing else (not the broker's admin password, from which course users are derived).
    grader_host = tmp_path_factory.mktemp("grader-secrets")
    for name in ("grading_worker_password", "grading_key_root"):
        (grader_host / name).write_text((secrets_dir / name).read_text())
    monkeypatch.setattr(grading, "SECRETS_DIR", grader_host)
    key = secrets.course_grading_key(secrets_dir, "c101")  # the hub's, for the course container
    _, opened = grading.open_job(seal_job(key, "c101", SUBMISSION))
    assert opened == SUBMISSION
    with pytest.raises(FileNotFoundError, match="course_token_key"):
        secrets.course_token(grader_host, "c101")
    assert grading.broker_url.__defaults__ == ("grader",)
    monkeypatch.delenv("CELERYLAB_GRADING_BROKER", raising=False)
    assert grading.broker_url().startswith("redis://grader:")
    with pytest.raises(FileNotFoundError, match="grading_broker_password"):
        secrets.course_broker_password(grader_host, "c101")
