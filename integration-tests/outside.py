"""Stand-ins for the world outside the platform's networks, so that the tests that say "X cannot
call out" have a destination that is really there, and a control that reaches it, whether the
machine has internet access or not.

- `stand_in`: a container on a network of its own that publishes ports on the host. Opened at
  the host's address from another container, the connection is forwarded by the host to
  another network, as one to another machine would be: what an internal network stops.
- `listeners`: TCP ports on the host itself. Docker's internal networks do not stop a container
  from opening the host's own ports (nothing is forwarded); `bound`: given ports at one address.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from contextlib import contextmanager, suppress

#: Runs in a container: which (host, port) targets accept a TCP connection.
PROBE = """
import json, socket, sys
found = {}
for host, port in json.loads(sys.argv[1]):
    try:
        socket.create_connection((host, port), timeout=3).close()
        found[f"{host}:{port}"] = "open"
    except OSError as e:
        found[f"{host}:{port}"] = type(e).__name__
print(json.dumps(found))
"""


SERVE = """
import socket, sys, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        s.accept()[0].close()
for port in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(port),)).start()
"""


@contextmanager
def stand_in(name: str, image: str, count: int = 1):
    """`count` ports of a container on network `name` (both made here), published on the host;
    yields the host's address and the published ports."""
    inner = [str(8080 + i) for i in range(count)]
    subprocess.run(["docker", "network", "create", name], capture_output=True, check=True)
    try:
        subprocess.run(
            ["docker", "run", "-d", "--rm", "--name", name, "--network", name,
             *[a for port in inner for a in ("-p", port)],
             "--entrypoint", "python3", image, "-c", SERVE, *inner],
            capture_output=True, check=True,
        )  # fmt: skip
        published = []
        for port in inner:
            out = subprocess.run(
                ["docker", "port", name, f"{port}/tcp"], capture_output=True, text=True
            ).stdout
            published.append(int(out.split("\n")[0].rsplit(":", 1)[1]))
        yield host_address(), published
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "network", "rm", name], capture_output=True)


@contextmanager
def listeners(count: int = 1):
    """`count` TCP ports on every address of this host that accept (and drop) connections."""
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Every address: containers reach the host through their network's gateway.
        s.bind(("0.0.0.0", 0))  # noqa: S104
        s.listen(64)
        sockets.append(s)
    with listening(sockets):
        yield [s.getsockname()[1] for s in sockets]


@contextmanager
def bound(address: str, ports: tuple[int, ...]):
    """Those TCP ports at one of this host's addresses accept connections (where one is taken
    already, whatever holds it is served there: the same for a probe)."""
    held = []
    for port in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            s.close()
            continue
        s.listen(16)
        held.append(s)
    with listening(held):
        yield


@contextmanager
def listening(sockets: list[socket.socket]):
    """Accept (and drop) connections on these sockets until the block ends; then close them."""
    stop = threading.Event()

    def serve(s):
        s.settimeout(0.5)
        while not stop.is_set():
            with suppress(OSError):  # the accept timeout: look at `stop` again
                s.accept()[0].close()

    threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in sockets]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(2)
        for s in sockets:
            s.close()


def host_address() -> str:
    """This host's address on its default route, or on Docker's default bridge without one."""
    route = subprocess.run(["ip", "-4", "route", "get", "1.1.1.1"], capture_output=True, text=True)
    words = route.stdout.split()
    if "src" in words:
        return words[words.index("src") + 1]
    return gateway_of("bridge")


def gateway_of(network: str) -> str:
    out = subprocess.run(
        ["docker", "network", "inspect", network], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)[0]["IPAM"]["Config"][0]["Gateway"]


def probe_from(container: str, targets: list[tuple[str, int]], user: str = "") -> dict[str, str]:
    """From inside a running container (python3 in it): "open" or the error, per target."""
    r = subprocess.run(
        ["docker", "exec", *(["-u", user] if user else []), container,
         "python3", "-c", PROBE, json.dumps(targets)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def probe_on(network: str, image: str, targets: list[tuple[str, int]]) -> dict[str, str]:
    """The same from a throwaway container on `network`."""
    r = subprocess.run(
        ["docker", "run", "--rm", "--network", network, "--entrypoint", "python3", image,
         "-c", PROBE, json.dumps(targets)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
