from celerylab_hub.spawner import LAB_HOME, CeleryLabSpawner
from traitlets.config import Config


def test_lab_identity_and_private_redis(make_spawner):
    spawner = make_spawner("alice")
    env = spawner.get_env()
    assert env["NB_USER"] == "alice"
    assert env["CELERYLAB_UID"] == str(10000 + spawner.user.id)
    password = env["CELERYLAB_REDIS_PASSWORD"]
    assert len(password) >= 24
    assert env["CELERY_BROKER_URL"] == f"redis://:{password}@127.0.0.1:6379/0"
    assert env["CELERY_RESULT_BACKEND"] == f"redis://:{password}@127.0.0.1:6379/1"


def test_each_start_gets_a_new_redis_password(make_spawner):
    spawner = make_spawner()
    assert (
        spawner.get_env()["CELERYLAB_REDIS_PASSWORD"]
        != spawner.get_env()["CELERYLAB_REDIS_PASSWORD"]
    )


def test_distinct_students_get_distinct_uids(make_spawner):
    uids = {make_spawner(name).get_env()["CELERYLAB_UID"] for name in ("a1", "b2", "c3")}
    assert len(uids) == 3


def test_limits_and_privileges(make_spawner):
    spawner = make_spawner()
    assert spawner.mem_limit == 1024**3
    assert spawner.cpu_limit == 1.0
    host = spawner.extra_host_config
    assert host["pids_limit"] == 512
    assert host["cap_drop"] == ["ALL"]
    # NET_ADMIN: the start script fences the lab's network in before it drops to the student.
    assert set(host["cap_add"]) == {
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "SETUID",
        "SETGID",
        "NET_ADMIN",
    }
    assert host["security_opt"] == ["no-new-privileges"]
    assert host["log_config"] == {
        "type": "json-file",
        "config": {"max-size": "10m", "max-file": "3"},
    }


def test_network_fence_settings(make_spawner):
    env = make_spawner().get_env()
    assert env["CELERYLAB_LAB_FIREWALL"] == "1"
    assert env["CELERYLAB_LAB_PEER_PORTS"] == "8000 8765"
    assert env["CELERYLAB_LAB_SERVE_PORTS"] == "8888 9100"
    assert env["CELERYLAB_LAB_EGRESS"] == ""
    c = Config()
    c.CeleryLabSpawner.egress = "pypi.org:443"
    spawner = make_spawner("bob", c)
    assert spawner.get_env()["CELERYLAB_LAB_EGRESS"] == "pypi.org:443"
    assert spawner.egress_network == "celerylab-egress"


def test_home_volume_and_names_follow_the_instance(make_spawner):
    c = Config()
    c.CeleryLabSpawner.instance = "course-b"
    spawner = make_spawner("alice", c)
    assert spawner.volumes == {"course-b-home-{username}": LAB_HOME}
    assert spawner.name_template == "course-b-lab-{username}"
    assert spawner.object_name == "course-b-lab-alice"


def test_settings_override_defaults(make_spawner):
    c = Config()
    c.CeleryLabSpawner.mem_limit = "512M"
    c.CeleryLabSpawner.pids_limit = 128
    c.CeleryLabSpawner.worker_concurrency = 3
    c.CeleryLabSpawner.activity_interval = 30
    spawner = make_spawner("alice", c)
    env = spawner.get_env()
    assert spawner.mem_limit == 512 * 1024**2
    assert spawner.extra_host_config["pids_limit"] == 128
    assert env["CELERYLAB_WORKER_CONCURRENCY"] == "3"
    assert env["CELERYLAB_WORKER_AUTOSCALE"] == "4,0"
    assert env["JUPYTERHUB_ACTIVITY_INTERVAL"] == "30"


def test_lab_starts_jupyterlab_from_the_local_image(make_spawner):
    spawner = make_spawner()
    assert spawner.image == "celerylab/lab:latest"
    assert spawner.pull_policy == "never"
    assert spawner.cmd == ["jupyterhub-singleuser"]
    assert spawner.default_url == "/lab"
    assert spawner.remove is True


def test_spawner_is_registered_by_short_name():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="jupyterhub.spawners") if e.name == "celerylab"]
    assert ep.load() is CeleryLabSpawner
