"""A clever student with a terminal in a live lab, trying what isolation must stop beyond the
network (test_network_isolation.py): the hub's API with the lab's own token beyond its scopes,
other containers' processes through /proc, the Docker socket, other students' homes."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.docker

#: Runs in the student's kernel: what the lab's own API token gets from the hub, per request.
API = """
import json, os, urllib.request, urllib.error
base = os.environ["JUPYTERHUB_API_URL"].rstrip("/")
token = os.environ["JUPYTERHUB_API_TOKEN"]
me = os.environ["JUPYTERHUB_USER"]
found = {{}}
for method, path, body in json.loads({calls!r}):
    path = path.replace("{{me}}", me)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={{"Authorization": f"token {{token}}"}})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            found[f"{{method}} {{path}}"] = r.status
    except urllib.error.HTTPError as e:
        found[f"{{method}} {{path}}"] = e.code
print(json.dumps(found))
"""

#: What a student might try with the lab's token, none of it within its scopes
#: (celerylab_hub.services.SERVER_TOKEN_SCOPES: its own activity, its own server, the exchange).
BEYOND = [
    ("GET", "/users", None),  # who else is here
    ("GET", "/users/dana", None),
    ("POST", "/users/{me}/tokens", {"note": "mine for ever"}),  # a token that outlives the lab
    ("POST", "/users/dana/tokens", {}),
    ("POST", "/users/dana/server", {}),
    ("DELETE", "/users/dana/server", None),
    ("PATCH", "/users/{me}", {"admin": True}),
    ("POST", "/users", {"usernames": ["mallory"]}),
    ("GET", "/groups", None),
    ("POST", "/groups/formgrade-c101/users", {"users": ["{me}"]}),
    ("GET", "/proxy", None),
    ("GET", "/services", None),
    ("GET", "/info", None),
    ("POST", "/shutdown", {}),
]


@pytest.fixture(scope="module")
def lab(stack):
    for name in ("carol", "dana"):
        stack.ensure_user(name)
    stack.start("carol")
    lab = stack.lab("carol", stack.token_for("carol"))
    yield lab
    lab.close()
    stack.stop("carol")


def call(lab, calls) -> dict[str, int]:
    return json.loads(lab.run(API.format(calls=json.dumps(calls))))


def test_the_labs_token_does_nothing_beyond_its_scopes(lab):
    # The control: the token is good for what it is for (who am I; report my own activity).
    own = call(lab, [("GET", "/user", None)])
    assert own == {"GET /user": 200}, own
    found = call(lab, BEYOND)
    assert len(found) == len(BEYOND), found
    allowed = {request: status for request, status in found.items() if status < 400}
    assert not allowed, f"the lab's token was allowed: {allowed}"


def test_proc_shows_only_the_labs_own_processes(lab):
    """Its own PID namespace: no host's or other container's process; its init (root) keeps
    its environment to itself; no Docker or containerd socket anywhere."""
    out = lab.run(
        "import glob, os, json\n"
        "pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]\n"
        "cmds = {}\n"
        "for p in pids:\n"
        "    try: cmds[p] = open(f'/proc/{p}/cmdline', 'rb').read().split(b'\\0')[0].decode()\n"
        "    except OSError: pass\n"
        "try:\n"
        "    open('/proc/1/environ', 'rb').read(); init_env = 'read'\n"
        "except OSError as e: init_env = type(e).__name__\n"
        "socks = [p for pat in ('/var/run/*.sock', '/run/*.sock', '/run/*/*.sock',\n"
        "         '/var/run/docker*', '/run/containerd*') for p in glob.glob(pat)]\n"
        "homes = sorted(os.listdir('/home'))\n"
        "print(json.dumps({'cmds': cmds, 'init_env': init_env, 'socks': socks, 'homes': homes}))\n"
    )
    seen = json.loads(out)
    commands = {c.rsplit("/", 1)[-1] for c in seen["cmds"].values()}
    assert "tini" in commands and len(seen["cmds"]) < 40, seen["cmds"]  # the control: its own
    hosts = {"dockerd", "containerd", "systemd", "sshd", "prometheus", "configurable-http-proxy"}
    assert not commands & hosts, commands
    assert seen["init_env"] == "PermissionError", seen["init_env"]
    assert seen["socks"] == [], seen["socks"]
    assert seen["homes"] == ["student"], seen["homes"]
