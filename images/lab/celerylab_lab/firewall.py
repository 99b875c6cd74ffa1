"""A student lab's own network fence, in nftables, applied by the start script as root.

Run as `python -I -m celerylab_lab.firewall` (isolated: nothing from the student's home is
imported) before the script drops to the student, who keeps no capability to change it. Docker
networks keep labs away from the broker, graders, course containers and their network; what
only a rule inside the lab can do is below:

- out: the lab opens connections only to the peer ports (the proxy, which also carries the hub's
  API, and the exchange) on its own networks, and to the egress allow-list, if any. Nothing
  else on those networks (the hub's other ports, the proxy's API, Prometheus, other labs),
  never the link-local range, where clouds serve instance metadata (169.254.169.254), and
  never the host itself: the host answers containers at its networks' gateways (Docker's
  internal networks stop only what the host forwards), on any port a host service listens on;
- in: new connections only to Jupyter and the metrics endpoint (the proxy, the hub and
  Prometheus reach them), so a server a student starts on another port reaches nobody.

Together the two directions leave no port of one lab open to another. Environment (set by the
hub's spawner):

    CELERYLAB_LAB_PEER_PORTS   TCP ports of the peers on the lab's networks, e.g. "8000 8765"
    CELERYLAB_LAB_SERVE_PORTS  ports others may open in the lab, e.g. "8888 9100"
    CELERYLAB_LAB_EGRESS       allowed destinations beyond them, "host-or-cidr[:port]" separated
                               by commas or spaces; empty: none
    CELERYLAB_LAB_HOST_ADDRESSES  the host's addresses: the gateways of Docker's networks,
                               dropped before anything else (the lab's own routes' gateways too)
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterable, Mapping

#: Where clouds serve instance metadata (and other link-local services): never reachable.
LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
TABLE = "celerylab_lab"


class FirewallError(ValueError):
    """A setting the fence cannot be built from; the lab does not start."""


def ports(text: str, name: str) -> list[int]:
    try:
        result = [int(p) for p in text.replace(",", " ").split()]
    except ValueError:
        raise FirewallError(f"{name}={text!r}: expected port numbers") from None
    if any(not 0 < p < 65536 for p in result):
        raise FirewallError(f"{name}={text!r}: ports are 1-65535")
    return result


def egress_rules(text: str, resolve: Callable[[str], list[str]]) -> list[str]:
    """nft rules for each allowed destination; names are resolved now (IPv4)."""
    rules = []
    for entry in text.replace(",", " ").split():
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        host = host or entry
        try:
            addresses = [ipaddress.ip_network(host, strict=False)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_network(a) for a in resolve(host)]
            except OSError as e:
                raise FirewallError(f"CELERYLAB_LAB_EGRESS: cannot resolve {host!r}: {e}") from e
        for net in addresses:
            if net.version != 4:
                continue
            if net.overlaps(LINK_LOCAL):
                raise FirewallError(
                    f"CELERYLAB_LAB_EGRESS: {entry!r} reaches the link-local range {LINK_LOCAL} "
                    "(cloud instance metadata); it is never allowed"
                )
            match = f"tcp dport {ports(port, 'CELERYLAB_LAB_EGRESS')[0]} " if port else ""
            rules.append(f"ip daddr {net} {match}accept")
    return rules


def gateways(route_table: str) -> list[str]:
    """The gateways of the lab's routes (an egress network's): addresses of the host."""
    found = set()
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[0] != "lo" and int(fields[2], 16) != 0:
            found.add(socket.inet_ntoa(struct.pack("<L", int(fields[2], 16))))
    return sorted(found)


def host_addresses(text: str) -> list[str]:
    try:
        nets = [ipaddress.ip_network(a, strict=False) for a in text.replace(",", " ").split()]
    except ValueError as e:
        raise FirewallError(f"CELERYLAB_LAB_HOST_ADDRESSES={text!r}: {e}") from None
    return sorted({str(n) for n in nets if n.version == 4})


def local_networks(route_table: str) -> list[str]:
    """The lab's directly attached IPv4 networks, from /proc/net/route (no gateway, not lo)."""
    nets = []
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[0] == "lo" or int(fields[2], 16) != 0:
            continue
        dest, mask = (
            socket.inet_ntoa(struct.pack("<L", int(f, 16))) for f in (fields[1], fields[7])
        )
        if dest != "0.0.0.0":  # noqa: S104 - a route's destination, not a bind address
            nets.append(str(ipaddress.ip_network(f"{dest}/{mask}")))
    return sorted(set(nets))


def ruleset(
    env: Mapping[str, str],
    networks: Iterable[str],
    resolve: Callable[[str], list[str]],
    route_gateways: Iterable[str] = (),
) -> str:
    peers = ports(env.get("CELERYLAB_LAB_PEER_PORTS", ""), "CELERYLAB_LAB_PEER_PORTS")
    serve = ports(env.get("CELERYLAB_LAB_SERVE_PORTS", ""), "CELERYLAB_LAB_SERVE_PORTS")
    egress = egress_rules(env.get("CELERYLAB_LAB_EGRESS", ""), resolve)
    if egress:
        # Docker's resolver (127.0.0.11) forwards names from inside the lab: let it ask upstream.
        egress = ["meta l4proto { tcp, udp } th dport 53 accept", *egress]
    networks = list(networks)
    host = sorted(
        {
            *host_addresses(env.get("CELERYLAB_LAB_HOST_ADDRESSES", "")),
            *(f"{g}/32" for g in route_gateways),
        }
    )
    destinations, peer_ports = ", ".join(networks), ", ".join(map(str, peers))
    peer_rules = (
        [f"ip daddr {{ {destinations} }} tcp dport {{ {peer_ports} }} accept"]
        if peers and networks
        else []
    )
    serve_rules = [f"tcp dport {{ {', '.join(map(str, serve))} }} accept"] if serve else []
    out = [
        'oifname "lo" accept',  # Redis, Flower, the worker page and Docker's DNS (127.0.0.11)
        "ct state established,related accept",
        f"ip daddr {LINK_LOCAL} drop",
        *([f"ip daddr {{ {', '.join(host)} }} drop"] if host else []),
        *peer_rules,
        *egress,
    ]
    inbound = ['iifname "lo" accept', "ct state established,related accept", *serve_rules]
    body = "\n".join(
        [
            f"table inet {TABLE} {{",
            "  chain output {",
            "    type filter hook output priority 0; policy drop;",
            *(f"    {r}" for r in out),
            # Refused at once (as a closed port would be), rather than left to time out.
            "    meta l4proto tcp reject with tcp reset",
            "    reject with icmpx type admin-prohibited",
            "  }",
            "  chain input {",
            "    type filter hook input priority 0; policy drop;",
            *(f"    {r}" for r in inbound),
            "  }",
            "}",
        ]
    )
    # Replacing, not adding: a restarted container applies the same table again.
    return f"table inet {TABLE}\ndelete table inet {TABLE}\n{body}\n"


def _resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None, socket.AF_INET)})


def main() -> int:
    try:
        with open("/proc/net/route") as f:
            routes = f.read()
        print(ruleset(os.environ, local_networks(routes), _resolve, gateways(routes)), end="")
    except FirewallError as e:
        print(f"celerylab-lab: {e}", file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main())
