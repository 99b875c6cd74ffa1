"""A small client for a running celerylab: the hub's REST API and code execution in a lab's
kernel (Jupyter's kernel API over a websocket), as a student's notebook would do it.

Used by the integration tests and the benchmarks.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field

import requests
import websocket
from jupyterhub.utils import subdomain_hook_idna

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class KernelError(RuntimeError):
    """The code raised in the kernel; the message is the kernel's traceback."""


def origin(public_url: str, name: str, kind: str = "user") -> str:
    """Where the hub serves a user's lab or a service: its own subdomain of the hub's host."""
    scheme, _, host = public_url.partition("://")
    hostname, colon, port = host.partition(":")
    return f"{scheme}://{subdomain_hook_idna(name, hostname, kind)}{colon}{port}"


@dataclass
class Hub:
    url: str  # the API, e.g. http://127.0.0.1:18000
    token: str
    #: The address people use (CELERYLAB_PUBLIC_URL); labs and services are its subdomains.
    public_url: str = ""
    #: False for a hub without subdomain_host (the benchmark's plain-JupyterHub baseline).
    subdomains: bool = True
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.session.headers["Authorization"] = f"token {self.token}"
        if not self.public_url:
            self.public_url = "http://celerylab.localhost:" + self.url.rsplit(":", 1)[1]

    def user_url(self, name: str) -> str:
        if not self.subdomains:
            return f"{self.url}/user/{name}"
        return f"{origin(self.public_url, name)}/user/{name}"

    def service_url(self, name: str) -> str:
        return f"{origin(self.public_url, name, 'service')}/services/{name}"

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.url}/hub/api{path}", **kwargs)

    def user(self, name: str) -> dict | None:
        r = self.api("GET", f"/users/{name}")
        return None if r.status_code == 404 else r.json()

    def ensure_user(self, name: str) -> dict:
        r = self.api("POST", f"/users/{name}")
        if r.status_code not in (201, 409):
            r.raise_for_status()
        return self.user(name)

    def token_for(self, name: str) -> str:
        r = self.api(
            "POST", f"/users/{name}/tokens", json={"note": "integration test", "expires_in": 3600}
        )
        r.raise_for_status()
        return r.json()["token"]

    def start(self, name: str, timeout: float = 90) -> float:
        """Start a user's lab and wait until the hub calls it ready; return the seconds taken."""
        t0 = time.monotonic()
        r = self.api("POST", f"/users/{name}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"start {name}: {r.status_code} {r.text}")
        self.wait_ready(name, timeout)
        return time.monotonic() - t0

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            user = self.user(name) or {}
            server = user.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if server is None and not user.get("pending"):  # the spawn ended without a server
                raise RuntimeError(f"{name}'s lab failed to start: {self.spawn_failure(name)}")
            time.sleep(0.1)
        raise TimeoutError(f"{name}'s lab was not ready within {timeout}s")

    def spawn_failure(self, name: str) -> str:
        """The hub's last progress message for a failed spawn (what the spawn page shows)."""
        r = self.api("GET", f"/users/{name}/server/progress", stream=True, timeout=30)
        message = ""
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                message = event.get("message", message)
                if event.get("failed") or event.get("ready"):
                    break
        return message

    def stop(self, name: str, timeout: float = 60) -> None:
        r = self.api("DELETE", f"/users/{name}/server")
        if r.status_code not in (202, 204, 400):
            r.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            user = self.user(name) or {}
            if not user.get("servers") and not user.get("pending"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{name}'s lab did not stop within {timeout}s")

    def lab(self, name: str, token: str | None = None) -> Lab:
        return Lab(self, name, token or self.token)


@dataclass
class Lab:
    """A user's lab, reached through the hub's proxy like a browser would."""

    hub: Hub
    name: str
    token: str
    kernel_id: str | None = None

    @property
    def base(self) -> str:
        return self.hub.user_url(self.name)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def request(self, method: str, path: str, timeout: float = 60, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        url = f"{self.base}/{path.lstrip('/')}"
        return requests.request(method, url, headers=headers, timeout=timeout, **kwargs)

    def write_file(self, path: str, text: str) -> None:
        r = self.request(
            "PUT", f"api/contents/{path}", json={"type": "file", "format": "text", "content": text}
        )
        r.raise_for_status()

    def read_file(self, path: str) -> str | None:
        # type=file: notebooks too come back as their text, not as parsed JSON
        params = {"content": 1, "format": "text", "type": "file"}
        r = self.request("GET", f"api/contents/{path}", params=params)
        return None if r.status_code == 404 else r.raise_for_status() or r.json()["content"]

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute code in the lab's kernel; return its stdout; raise KernelError on error."""
        if self.kernel_id is None:
            r = self.request("POST", "api/kernels", json={"name": "python3"})
            r.raise_for_status()
            self.kernel_id = r.json()["id"]
        ws_url = self.base.replace("http", "ws", 1) + f"/api/kernels/{self.kernel_id}/channels"
        ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout
        )
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.name,
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        out, error = [], None
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    error = ANSI.sub("", "\n".join(content["traceback"]))
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            else:
                raise TimeoutError(f"code did not finish within {timeout}s in {self.name}'s lab")
        finally:
            ws.close()
        if error:
            raise KernelError(error)
        return "".join(out)

    def close(self) -> None:
        if self.kernel_id:
            self.request("DELETE", f"api/kernels/{self.kernel_id}")
            self.kernel_id = None
