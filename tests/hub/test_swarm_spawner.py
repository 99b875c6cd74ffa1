"""CeleryLabSwarmSpawner: the same lab as CeleryLabSpawner, as a swarm service.

Real JupyterHub users and spawners; the Docker API answers come from a small stand-in that
replays task states as a swarm reports them (the live swarm spawn is in deploy/tests/run.sh).
"""

import asyncio

import pytest
from celerylab_hub.settings import ConfigError, load_env
from celerylab_hub.spawner import LAB_HOME, CeleryLabSpawner, LabStartError
from celerylab_hub.swarmspawner import CeleryLabSwarmSpawner
from dockerspawner import SwarmSpawner
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.user import User
from traitlets.config import Config


@pytest.fixture
def make_swarm_spawner(db):
    def make(name: str = "alice", config: Config | None = None) -> CeleryLabSwarmSpawner:
        orm_user = orm.User(name=name)
        db.add(orm_user)
        db.commit()
        return CeleryLabSwarmSpawner(
            user=User(orm_user, {"db": db}), hub=Hub(), config=config or Config(), db=db
        )

    return make


class SwarmAPI:
    """Answers the Docker API calls a lab start makes, with the task states given."""

    def __init__(self, *task_states: dict):
        self.task_states = list(task_states)
        self.created: dict | None = None

    def create_service(self, **kwargs):
        self.created = kwargs
        return {"ID": "svc0123456789"}

    def inspect_service(self, name):
        return {"ID": "svc0123456789", "Spec": {"Name": name}}

    def tasks(self, filters):
        state = self.task_states.pop(0) if len(self.task_states) > 1 else self.task_states[0]
        return [{"ID": "task1", "NodeID": "node1", "Status": state}]

    def inspect_node(self, node_id):
        return {"Description": {"Hostname": "lab2"}}

    def service_logs(self, service, **kwargs):
        return iter([b"celerylab-lab: CELERYLAB_UID '12' must be a number >= 1000\n"])


def run_start_object(spawner, api, monkeypatch):
    monkeypatch.setattr(CeleryLabSwarmSpawner, "client", api)
    spawner.object_id = "svc0123456789"
    return asyncio.run(spawner.start_object())


def test_is_the_celerylab_lab_as_a_swarm_service(make_swarm_spawner):
    spawner = make_swarm_spawner("alice")
    assert isinstance(spawner, SwarmSpawner) and isinstance(spawner, CeleryLabSpawner)
    env = spawner.get_env()
    assert env["NB_USER"] == "alice"
    assert env["CELERYLAB_UID"] == str(10000 + spawner.user.id)
    assert env["CELERY_BROKER_URL"].endswith("@127.0.0.1:6379/0")
    assert spawner.image == "celerylab/lab:latest"
    assert spawner.cmd == ["jupyterhub-singleuser"]
    assert spawner.object_name == "celerylab-lab-alice"
    assert spawner.use_internal_ip is True


def test_celerylab_settings_reach_the_swarm_spawner(make_swarm_spawner):
    c = Config()
    load_env(
        c,
        {
            "CELERYLAB_INSTANCE": "course-b",
            "CELERYLAB_NETWORK": "course-b",
            "CELERYLAB_LAB_MEM_LIMIT": "512M",
            "CELERYLAB_LAB_PIDS_LIMIT": "128",
        },
    )
    spawner = make_swarm_spawner("alice", c)
    assert spawner.object_name == "course-b-lab-alice"
    assert spawner.network_name == "course-b"
    assert spawner.mem_limit == 512 * 1024**2
    assert spawner.pids_limit == 128


def test_service_spec_places_labs_on_lab_nodes(make_swarm_spawner, monkeypatch):
    c = Config()
    c.CeleryLabSpawner.network_name = "celerylab"  # as jupyterhub_config.py sets it
    spawner = make_swarm_spawner("alice", c)
    api = SwarmAPI({"State": "running"})
    monkeypatch.setattr(CeleryLabSwarmSpawner, "client", api)
    asyncio.run(spawner.create_object())
    spec = api.created
    task = spec["task_template"]
    assert spec["name"] == "celerylab-lab-alice"
    assert spec["endpoint_spec"] == {"Mode": "dnsrr"}
    assert task["Placement"]["Constraints"] == ["node.labels.celerylab.lab==true"]
    assert task["RestartPolicy"]["Condition"] == "none"
    assert task["Networks"] == [{"Target": "celerylab"}]
    limits = task["Resources"]["Limits"]
    assert limits == {"NanoCPUs": 10**9, "MemoryBytes": 1024**3, "Pids": 512}
    container = task["ContainerSpec"]
    assert container["CapabilityDrop"] == ["ALL"]
    assert set(container["CapabilityAdd"]) == {
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "SETUID",
        "SETGID",
        "NET_ADMIN",  # the start script's network fence, before it drops to the student
    }
    assert container["Privileges"]["NoNewPrivileges"] is True
    assert container["Args"] == ["jupyterhub-singleuser"]
    assert "NB_USER=alice" in container["Env"]
    (mount,) = container["Mounts"]
    assert mount["Type"] == "volume"
    assert mount["Source"] == "celerylab-home-alice"
    assert mount["Target"] == LAB_HOME


def test_homes_on_shared_storage_get_per_student_driver_options(make_swarm_spawner):
    c = Config()
    c.CeleryLabSwarmSpawner.volume_driver = "local"
    c.CeleryLabSwarmSpawner.volume_driver_options = {
        "type": "nfs",
        "o": "addr=10.20.0.10,rw,nfsvers=4",
        "device": ":/srv/celerylab/homes/{username}",
    }
    c.CeleryLabSpawner.volumes = {"celerylab-home-{username}": LAB_HOME, "/srv/data": "/data"}
    home, data = make_swarm_spawner("bob", c).mounts
    assert home["Type"] == "volume"
    assert home["VolumeOptions"]["DriverConfig"] == {
        "Name": "local",
        "Options": {
            "type": "nfs",
            "o": "addr=10.20.0.10,rw,nfsvers=4",
            "device": ":/srv/celerylab/homes/bob",
        },
    }
    assert data["Type"] == "bind" and data["Source"] == "/srv/data"


def test_start_waits_for_the_task_to_run(make_swarm_spawner, monkeypatch):
    api = SwarmAPI({"State": "pending"}, {"State": "preparing"}, {"State": "running"})
    run_start_object(make_swarm_spawner(), api, monkeypatch)
    assert api.task_states == [{"State": "running"}]


def test_rejected_task_fails_the_spawn_with_the_reason(make_swarm_spawner, monkeypatch):
    rejected = {
        "State": "rejected",
        "Message": "preparing",
        "Err": "No such image: celerylab/lab:latest",
    }
    with pytest.raises(LabStartError) as e:
        run_start_object(
            make_swarm_spawner(), SwarmAPI({"State": "pending"}, rejected), monkeypatch
        )
    message = e.value.jupyterhub_message
    assert "could not start on node lab2: No such image: celerylab/lab:latest" in message
    assert "build or load it on every lab node" in message


def test_failed_task_fails_the_spawn_with_exit_code_and_log(make_swarm_spawner, monkeypatch):
    failed = {
        "State": "failed",
        "Err": "task: non-zero exit (64)",
        "ContainerStatus": {"ContainerID": "c0ffee", "ExitCode": 64},
    }
    with pytest.raises(LabStartError) as e:
        run_start_object(make_swarm_spawner(), SwarmAPI(failed), monkeypatch)
    message = str(e.value)
    assert "stopped while starting on node lab2 (exit code 64)" in message
    assert "must be a number >= 1000" in message


def test_unplaceable_lab_fails_after_placement_timeout(make_swarm_spawner, monkeypatch):
    c = Config()
    c.CeleryLabSwarmSpawner.placement_timeout = 1
    pending = {"State": "pending", "Err": "no suitable node (scheduling constraints not satisfied)"}
    with pytest.raises(LabStartError, match=r"No lab node can run your lab.*no suitable node"):
        run_start_object(make_swarm_spawner("alice", c), SwarmAPI(pending), monkeypatch)


def test_spawner_setting_selects_the_class():
    c = Config()
    load_env(c, {"CELERYLAB_SPAWNER": "Swarm"})
    assert c.JupyterHub.spawner_class == "celerylab_hub.swarmspawner.CeleryLabSwarmSpawner"
    c = Config()
    load_env(c, {"CELERYLAB_SPAWNER": "docker"})
    assert c.JupyterHub.spawner_class == "celerylab"
    with pytest.raises(
        ConfigError, match=r"CELERYLAB_SPAWNER='k8s': must be one of: docker, swarm"
    ):
        load_env(Config(), {"CELERYLAB_SPAWNER": "k8s"})


def test_home_volume_settings_reach_the_swarm_spawner(make_swarm_spawner):
    c = Config()
    load_env(
        c,
        {
            "CELERYLAB_HOME_VOLUME_DRIVER": "local",
            "CELERYLAB_HOME_VOLUME_OPTIONS": '{"type": "nfs", "device": ":/homes/{username}"}',
        },
    )
    (home,) = make_swarm_spawner("carol", c).mounts
    assert home["VolumeOptions"]["DriverConfig"]["Options"]["device"] == ":/homes/carol"
    with pytest.raises(ConfigError, match=r"CELERYLAB_HOME_VOLUME_OPTIONS=.*JSON object"):
        load_env(Config(), {"CELERYLAB_HOME_VOLUME_OPTIONS": "type=nfs"})


def test_swarm_labs_refuse_egress(make_swarm_spawner, monkeypatch):
    c = Config()
    c.CeleryLabSpawner.egress = "pypi.org:443"
    spawner = make_swarm_spawner("alice", c)
    monkeypatch.setattr(CeleryLabSwarmSpawner, "client", SwarmAPI({"State": "running"}))
    with pytest.raises(LabStartError, match="CELERYLAB_LAB_EGRESS"):
        asyncio.run(spawner.create_object())
