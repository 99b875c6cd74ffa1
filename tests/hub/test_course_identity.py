"""Each course container is a UID of its own and a broker user of its own (issue 19, items 4-5);
the live attacks are integration-tests/test_course_apart.py."""

from celerylab_hub import coursecontainers, grading_acl, secrets
from celerylab_hub.courses import load


def test_each_course_has_its_own_stable_uid_apart_from_the_exchange_and_students():
    ids = [f"c{n:03d}" for n in range(300)]
    uids = coursecontainers.course_uids(ids)
    assert len(set(uids.values())) == len(ids)  # distinct, even where their slots collide
    assert all(uid in coursecontainers.COURSE_UIDS for uid in uids.values())
    assert secrets.EXCHANGE_UID not in uids.values()
    assert max(coursecontainers.COURSE_UIDS) < 10000  # students start at uid_base (10000)
    # Stable: the same course keeps its UID whatever else is declared (unless its slot is taken).
    assert coursecontainers.course_uids(["c101"])["c101"] == uids["c101"]
    assert coursecontainers.course_uids(["c101", "c202"]) == {
        "c101": uids["c101"],
        "c202": uids["c202"],
    }


def test_a_course_container_runs_as_its_course_with_its_own_broker_user(tmp_path):
    (tmp_path / "c101.csv").write_text("username\ncara\n")
    declaration = tmp_path / "c101.yaml"
    declaration.write_text("id: c101\ntitle: Celery 101\ninstructors: [ida]\nroster: c101.csv\n")
    course = load(declaration)
    secrets_dir = tmp_path / "secrets"
    secrets.ensure(secrets_dir)
    password = secrets.course_broker_password(secrets_dir, "c101")
    env = coursecontainers.environment(
        course, "token", grading_broker=grading_acl.course_url("c101", password), uid=4321
    )
    assert env["CELERYLAB_UID"] == "4321" and env["NB_USER"] == "grader-c101"
    assert env["CELERYLAB_EXCHANGE_COURSE"] == "c101"
    assert env["CELERYLAB_GRADING_BROKER"].startswith("redis://course-c101:")
    admin = secrets.read(secrets_dir, "grading_broker_password")
    assert admin not in str(env)  # the broker's admin password never reaches a course
    assert password != secrets.course_broker_password(secrets_dir, "c202")


def test_course_rules_allow_queueing_and_own_results_only():
    rules = grading_acl.course_rules("c101", "pw")
    assert rules[:2] == ["reset", "resetchannels"]  # whatever it could do before is gone
    assert "(~grading +lpush)" in rules
    assert "(~celery-task-meta-c101.* +get +del)" in rules
    assert not [r for r in rules if "~*" in r or "&" in r or "+@" in r]


def test_the_broker_acl_file_holds_hashes_not_passwords(tmp_path):
    secrets.ensure(tmp_path)
    acl = (tmp_path / secrets.BROKER_ACL).read_text()
    assert [line.split()[1] for line in acl.splitlines()] == ["default", "grader", "exporter"]
    for name in ("grading_broker_password", "grading_worker_password", "grading_exporter_password"):
        assert secrets.read(tmp_path, name) not in acl
