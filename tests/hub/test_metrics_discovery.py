"""Prometheus's discovery of labs: what it lists, who may ask, and the hub's least privilege."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile

import pytest
from celerylab_hub import metrics_discovery, secrets
from celerylab_hub.config import apply
from celerylab_hub.services import METRICS_DISCOVERY, PROMETHEUS
from tornado import httpclient, web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from traitlets.config import Config

TOKEN = "scrape-token"
SHA = hashlib.sha256(TOKEN.encode()).hexdigest()
TOKEN_FILE = tempfile.NamedTemporaryFile("w", suffix=".token", delete=False)  # noqa: SIM115
TOKEN_FILE.write(TOKEN + "\n")
TOKEN_FILE.close()

USERS = [
    {
        "name": "bob",
        "groups": ["nbgrader-c101", "formgrade-c202"],
        "servers": {"": {"ready": True}},
    },
    {
        "name": "alice",
        "groups": ["nbgrader-c202", "nbgrader-c101"],
        "servers": {"": {"ready": True}},
    },
    {"name": "carl", "groups": [], "servers": {"": {"ready": False}}},  # still starting
    {"name": "dora", "groups": ["nbgrader-c101"], "servers": {}},
]


def test_ready_labs_become_targets_with_student_course_and_their_own_token():
    alice, bob = (secrets.scrape_token(TOKEN, "lab", n) for n in ("alice", "bob"))
    assert metrics_discovery.lab_targets(USERS, "inst", TOKEN) == [
        {
            "targets": ["inst-lab-alice:9100"],
            "labels": {"student": "alice", "course": "c101,c202", "__param_token": alice},
        },
        {
            "targets": ["inst-lab-bob:9100"],
            "labels": {"student": "bob", "course": "c101", "__param_token": bob},
        },
    ]


def test_each_target_gets_its_own_token_and_none_opens_another():
    tokens = {
        secrets.scrape_token(TOKEN, kind, name)
        for kind in ("lab", "course")
        for name in ("alice", "bob", "c101")
    }
    assert len(tokens) == 6 and TOKEN not in tokens
    alice_sha = secrets.scrape_token_sha256(TOKEN, "lab", "alice")
    assert metrics_discovery.token_ok(
        f"Bearer {secrets.scrape_token(TOKEN, 'lab', 'alice')}", alice_sha
    )
    assert not metrics_discovery.token_ok(
        f"Bearer {secrets.scrape_token(TOKEN, 'lab', 'bob')}", alice_sha
    )
    assert not metrics_discovery.token_ok(f"Bearer {TOKEN}", alice_sha)


@pytest.mark.parametrize("name", ["alice", "monitor-carol", "d_2", "Eve"])
def test_targets_use_the_container_names_dockerspawner_gives(name):
    from dockerspawner import DockerSpawner

    assert metrics_discovery.container_name(name) == DockerSpawner._escape(name)
    users = [{"name": name, "groups": [], "servers": {"": {"ready": True}}}]
    (group,) = metrics_discovery.lab_targets(users, "inst")
    assert group["targets"] == [f"inst-lab-{DockerSpawner._escape(name)}:9100"]
    assert group["labels"]["student"] == name


class FakeHubUsers(web.RequestHandler):
    """The hub's paginated /users, two users a page, checking the discovery's token."""

    def get(self):
        assert self.request.headers["Authorization"] == "token hub-token"
        assert self.get_argument("state") == "ready"
        offset = int(self.get_argument("offset"))
        page = USERS[offset : offset + 2]
        following = {"offset": offset + 2} if offset + 2 < len(USERS) else None
        self.finish({"items": page, "_pagination": {"next": following}})


async def _serve(app) -> int:
    sock, port = bind_unused_port()
    HTTPServer(app).add_sockets([sock])
    return port


async def _ask(headers: dict, path: str = "/targets/labs", hub_up: bool = True):
    hub_port = await _serve(web.Application([("/hub/api/users", FakeHubUsers)]))
    api = f"http://127.0.0.1:{hub_port if hub_up else 1}/hub/api"
    app = metrics_discovery.make_app(
        {
            "JUPYTERHUB_API_URL": api,
            "JUPYTERHUB_API_TOKEN": "hub-token",
            "CELERYLAB_INSTANCE": "inst",
            "CELERYLAB_COURSE_IDS": "c101,c202",
            "CELERYLAB_METRICS_TOKEN_FILE": TOKEN_FILE.name,
        }
    )
    port = await _serve(app)
    return await httpclient.AsyncHTTPClient().fetch(
        f"http://127.0.0.1:{port}{path}", headers=headers, raise_error=False
    )


def test_discovery_lists_every_page_of_ready_labs():
    response = asyncio.run(_ask({"Authorization": f"Bearer {TOKEN}"}))
    assert response.code == 200
    assert [g["labels"]["student"] for g in json.loads(response.body)] == ["alice", "bob"]


@pytest.mark.parametrize("header", [None, f"Bearer {SHA}", "Bearer wrong", TOKEN])
def test_discovery_answers_only_the_scrape_token(header):
    response = asyncio.run(_ask({"Authorization": header} if header else {}))
    assert response.code == 401
    assert b"alice" not in response.body


def test_course_targets_only_for_containers_that_run(monkeypatch):
    # On the compose network a course container's name resolves only while it runs.
    monkeypatch.setattr(metrics_discovery, "_resolves", lambda host: host == "inst-course-c101")
    response = asyncio.run(_ask({"Authorization": f"Bearer {TOKEN}"}, "/targets/courses"))
    assert json.loads(response.body) == [
        {
            "targets": ["inst-course-c101:9100"],
            "labels": {
                "__meta_celerylab_course": "c101",
                "__param_token": secrets.scrape_token(TOKEN, "course", "c101"),
            },
        }
    ]


def test_names_that_do_not_resolve_are_not_running():
    assert not metrics_discovery._resolves("inst-course-nonexistent.invalid")


def test_hub_unreachable_is_a_clear_503():
    response = asyncio.run(_ask({"Authorization": f"Bearer {TOKEN}"}, hub_up=False))
    assert response.code == 503


def test_config_gives_prometheus_read_metrics_only_and_discovery_read_only(secrets_dir):
    c = Config()
    apply(c, {"CELERYLAB_SECRETS_DIR": str(secrets_dir), "CELERYLAB_COURSES_DIR": "/nonexistent"})
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["metrics"] == {
        "name": "metrics",
        "scopes": ["read:metrics"],
        "services": [PROMETHEUS],
    }
    assert roles["metrics-discovery"]["services"] == [METRICS_DISCOVERY]
    assert all(s.startswith(("list:", "read:")) for s in roles["metrics-discovery"]["scopes"]), (
        "discovery must not be able to change anything"
    )
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services[PROMETHEUS]["api_token"] == secrets.read(secrets_dir, "prometheus_hub_token")
    assert "url" not in services[METRICS_DISCOVERY], "discovery must have no proxy route"
    token_file = services[METRICS_DISCOVERY]["environment"]["CELERYLAB_METRICS_TOKEN_FILE"]
    assert token_file == str(secrets_dir / "metrics_scrape_token")
    root = secrets.read(secrets_dir, "metrics_scrape_token")
    assert c.CeleryLabSpawner.metrics_token_root == root
    assert root not in json.dumps(services[METRICS_DISCOVERY])


def test_setup_writes_prometheus_web_config_and_passwords_to_env(tmp_path):
    import bcrypt

    env = tmp_path / ".env"
    secrets.ensure(tmp_path / "s", env)
    password = secrets.read(tmp_path / "s", "prometheus_password")
    web_config = (tmp_path / "s" / secrets.PROMETHEUS_WEB_CONFIG).read_text()
    user, _, hashed = web_config.splitlines()[1].strip().partition(": ")
    assert user == secrets.PROMETHEUS_USER
    assert bcrypt.checkpw(password.encode(), hashed.strip("'").encode())
    lines = env.read_text().splitlines()
    assert f"CELERYLAB_PROMETHEUS_PASSWORD={password}" in lines
    grafana = secrets.read(tmp_path / "s", "grafana_admin_password")
    assert f"CELERYLAB_GRAFANA_ADMIN_PASSWORD={grafana}" in lines
