"""Spawn-to-ready, class-start herd and idle memory of celerylab labs, printed as a table.

Usage:
    make bench                                    # full: 10 spawns, 40 at once, 60 s idle
    .venv/bin/python benchmarks/spawn.py --smoke  # reduced: 3 spawns, 4 at once, 10 s idle

Runs its own compose project (celerylab-bench, port 18100; CELERYLAB_BENCH_PROJECT and
CELERYLAB_BENCH_PORT override) from the images `make images` built, and removes it afterwards;
then the same measures on plain JupyterHub + DockerSpawner + JupyterLab (benchmarks/baseline/,
port + 1; --no-baseline skips it), so every figure has its peer's beside it. "Ready" means what a
student needs: the hub reports the server ready, Jupyter answers through the proxy, and the lab's
worker reports ready (connected to its Redis and consuming, Celery's worker_ready; for the
baseline, Jupyter answering); every run then checks one real task round trip per lab.
Every failure is listed under the table; a failed lab never ends the run. "Class pre-started"
re-measures the herd with its labs running, as a session's pre-start leaves them: every student's
first request at once, until their lab is usable.
Targets (2-core machine): spawn p50 <= 3 s and p95 <= 5 s; 40 at once <= 90 s, 0 failed;
pre-started <= 5 s; idle <= 160 MiB.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration-tests"))
from baseline_stack import Baseline
from hubclient import Hub, Lab
from stack import ARTIFACTS, Stack

MIB = 1024 * 1024


@functools.cache
def client() -> docker.DockerClient:
    return docker.from_env()  # on first use: the table can be printed without an engine


def container_cpu_seconds(name: str) -> float:
    stats = client().containers.get(name).stats(stream=False, one_shot=True)
    return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9


def container_memory_mib(name: str) -> float:
    """As `docker stats` reports it: usage minus the inactive page cache."""
    mem = client().containers.get(name).stats(stream=False, one_shot=True)["memory_stats"]
    s = mem.get("stats", {})
    cache = s.get("total_inactive_file", s.get("inactive_file", 0))
    return (mem["usage"] - cache) / MIB


def worker_ready(lab: Lab) -> bool:
    """A celerylab lab is usable once its Celery worker is (connected to Redis, consuming)."""
    r = lab.get("api/celerylab/worker", timeout=10)
    return r.status_code == 200 and r.json().get("ready")


def jupyter_ready(lab: Lab) -> bool:
    """A plain JupyterLab is usable once Jupyter answers."""
    return lab.get("api/status", timeout=10).status_code == 200


@dataclass
class Target:
    """What is measured: the hub's container, its labs' containers, when a lab is usable."""

    name: str
    hub_container: str
    lab_container: Callable[[str], str]
    usable: Callable[[Lab], bool]
    tasks: bool  # the labs run Celery: check a real task round trip


def celerylab(stack: Stack) -> Target:
    return Target("celerylab", f"{stack.project}-hub-1", stack.lab_container, worker_ready, True)


def spawn_to_ready(hub: Hub, user: str, timeout: float = 120, usable=worker_ready) -> dict:
    """Start a lab; seconds until the hub says ready and until the lab is usable."""
    t0 = time.monotonic()
    r = hub.api("POST", f"/users/{user}/server")
    if r.status_code not in (201, 202):
        raise RuntimeError(f"{user}: {r.status_code} {r.text[:200]}")
    hub.wait_ready(user, timeout)
    hub_ready = time.monotonic() - t0
    lab = hub.lab(user)
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if usable(lab):
            return {"user": user, "hub": hub_ready, "ready": time.monotonic() - t0}
        time.sleep(0.05)
    raise TimeoutError(f"{user}: lab not usable within {timeout}s")


def round_trip(hub: Hub, user: str) -> float:
    lab = hub.lab(user)
    t0 = time.monotonic()
    out = lab.run("from tasks import add\nprint(add.delay(2, 3).get(timeout=30))")
    lab.close()
    if out.strip() != "5":
        raise RuntimeError(f"{user}: the starter task returned {out!r}")
    return time.monotonic() - t0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def mean(values: list[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def bench(stack: Stack | Target, hub: Hub, spawns: int, herd: int, idle: float) -> dict:
    """Every figure, and every failure as a line of text: a failed lab never ends the run."""
    target = stack if isinstance(stack, Target) else celerylab(stack)
    hub_container = target.hub_container
    users = [f"seq{i:02d}" for i in range(spawns)]
    for u in users:
        hub.ensure_user(u)
    sequential, cpu_lab, cpu_hub, failures = [], [], [], []
    for u in users:
        hub_cpu0 = container_cpu_seconds(hub_container)
        try:
            sequential.append(spawn_to_ready(hub, u, usable=target.usable))
        except Exception as e:  # reported in the table, with the next lab tried
            failures.append(f"one at a time: {u}: {e}")
            continue
        cpu_lab.append(container_cpu_seconds(target.lab_container(u)))
        cpu_hub.append(container_cpu_seconds(hub_container) - hub_cpu0)
    if sequential and target.tasks:
        failures += checked_round_trips(hub, [sequential[0]["user"]])[1]
    for u in users:
        hub.stop(u)

    herd_users = [f"herd{i:02d}" for i in range(herd)]
    for u in herd_users:
        hub.ensure_user(u)
    herd_failures = []
    t0 = time.monotonic()

    def one(user):
        try:
            return spawn_to_ready(hub, user, timeout=600, usable=target.usable)
        except Exception as e:  # listed as a failure, never a traceback
            herd_failures.append(f"{user}: {e}")
            return None

    with ThreadPoolExecutor(herd) as pool:
        herd_results = [r for r in pool.map(one, herd_users) if r]
    herd_total = time.monotonic() - t0
    ready = [r["user"] for r in herd_results]

    # The same class again, its labs already running (pre-started before the session): every
    # student's first request at once, until their lab's worker answers ready.
    t0 = time.monotonic()
    with ThreadPoolExecutor(herd) as pool:
        prestarted = [
            r for r in pool.map(lambda u: first_use(hub, u, target.usable), ready) if r is not None
        ]
    prestarted_total = time.monotonic() - t0 if prestarted else float("nan")

    time.sleep(idle)
    memory = [container_memory_mib(target.lab_container(u)) for u in ready]
    herd_pings, ping_failures = checked_round_trips(hub, ready[:3] if target.tasks else [])
    cpu_per_start = mean(cpu_lab) + mean(cpu_hub)
    for u in ready:
        hub.stop(u)
    return {
        "name": target.name,
        "spawns": spawns,
        "spawn_ready": len(sequential),
        "spawn_hub_p50": percentile([r["hub"] for r in sequential], 50),
        "spawn_p50": percentile([r["ready"] for r in sequential], 50),
        "spawn_p95": percentile([r["ready"] for r in sequential], 95),
        "spawn_max": max((r["ready"] for r in sequential), default=float("nan")),
        "cpu_lab_per_spawn": mean(cpu_lab),
        "cpu_hub_per_spawn": mean(cpu_hub),
        "herd": herd,
        "herd_ready": len(herd_results),
        "herd_failures": herd_failures,
        "herd_total": herd_total,
        "herd_slowest": max((r["ready"] for r in herd_results), default=float("nan")),
        "herd_floor": herd * cpu_per_start / 2,
        "prestarted_total": prestarted_total,
        "prestarted_slowest": max(prestarted, default=float("nan")),
        "idle_seconds": idle,
        "idle_mib_mean": mean(memory),
        "idle_mib_max": max(memory, default=float("nan")),
        "first_task_round_trip": mean(herd_pings),
        "failures": failures + ping_failures,
    }


def first_use(hub: Hub, user: str, usable=worker_ready) -> float | None:
    """Seconds from a student's first request to their running lab until it is usable."""
    t0 = time.monotonic()
    try:
        return time.monotonic() - t0 if usable(hub.lab(user)) else None
    except Exception:  # counted as not usable
        return None


def checked_round_trips(hub: Hub, users: list[str]) -> tuple[list[float], list[str]]:
    times, failures = [], []
    for u in users:
        try:
            times.append(round_trip(hub, u))
        except Exception as e:  # reported, never a traceback
            failures.append(f"task round trip: {u}: {e}")
    return times, failures


def _rows(r: dict) -> list[tuple[str, str, float | None, str]]:
    """(measure, shown value, number for a ratio or None, target)."""
    size = r["idle_mib_max"]
    labs_per_host = int(24 * 1024 / size) if size == size else 0
    return [
        ("one at a time: ready", f"{r['spawn_ready']} of {r['spawns']}", None, "all"),
        ("spawn-to-ready p50 (hub + lab usable)", f"{r['spawn_p50']:.2f} s", r["spawn_p50"],
         "<= 3 s"),
        ("spawn-to-ready p95", f"{r['spawn_p95']:.2f} s", r["spawn_p95"], "<= 5 s"),
        ("  of which hub reports ready (p50)", f"{r['spawn_hub_p50']:.2f} s",
         r["spawn_hub_p50"], ""),
        ("CPU per spawn: lab container", f"{r['cpu_lab_per_spawn']:.2f} s",
         r["cpu_lab_per_spawn"], ""),
        ("CPU per spawn: hub", f"{r['cpu_hub_per_spawn']:.2f} s", r["cpu_hub_per_spawn"], ""),
        (f"{r['herd']} students at once: all ready", f"{r['herd_total']:.1f} s", r["herd_total"],
         "<= 90 s"),
        ("  ready / failed", f"{r['herd_ready']} / {len(r['herd_failures'])}", None, "all / 0"),
        ("  slowest student", f"{r['herd_slowest']:.1f} s", r["herd_slowest"], ""),
        ("  CPU floor (n x CPU per spawn / 2 cores)", f"{r['herd_floor']:.1f} s",
         r["herd_floor"], ""),
        (f"{r['herd']} at once, class pre-started: all usable", f"{r['prestarted_total']:.1f} s",
         r["prestarted_total"], "<= 5 s"),
        (f"idle memory per lab after {r['idle_seconds']:.0f} s (mean)",
         f"{r['idle_mib_mean']:.1f} MiB", r["idle_mib_mean"], ""),
        ("idle memory per lab (max)", f"{size:.1f} MiB", size, "<= 160 MiB"),
        ("  labs per 24 GiB host at that size", f"{labs_per_host}", None, ">= 120"),
        ("first task round trip from a kernel", f"{r['first_task_round_trip']:.2f} s",
         None, ""),
    ]  # fmt: skip


def table(r: dict, base: dict | None = None) -> str:
    """The figures; with a baseline, its figures and celerylab's as a ratio of them beside."""
    rows = _rows(r)
    peer = _rows(base) if base else [("", "", None, "")] * len(rows)
    width = max(len(name) for name, *_ in rows)
    head = f"{'measure':<{width}}  {'celerylab':>12}"
    if base:
        head += f"  {'plain':>12}  {'ratio':>6}"
    lines = [head + "  target", "-" * (len(head) + 12)]
    for (name, value, number, target), (_, base_value, base_number, _) in zip(
        rows, peer, strict=True
    ):
        line = f"{name:<{width}}  {value:>12}"
        if base:
            ratio = (
                f"{number / base_number:.2f}x"
                if number == number and base_number and base_number == base_number
                else ""
            )
            line += f"  {base_value:>12}  {ratio:>6}"
        lines.append(f"{line}  {target}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small and quick")
    parser.add_argument("--spawns", type=int)
    parser.add_argument("--herd", type=int)
    parser.add_argument("--idle", type=float)
    parser.add_argument(
        "--no-baseline", action="store_true", help="celerylab only, no plain DockerSpawner"
    )
    args = parser.parse_args()
    spawns = args.spawns or (3 if args.smoke else 10)
    herd = args.herd or (4 if args.smoke else 40)
    idle = args.idle if args.idle is not None else (10 if args.smoke else 60)

    # Overridable, so a branch can be measured beside another run on the same engine.
    stack = Stack(
        os.environ.get("CELERYLAB_BENCH_PROJECT", "celerylab-bench"),
        int(os.environ.get("CELERYLAB_BENCH_PORT", "18100")),
    )
    hub = stack.up()
    try:
        result = bench(stack, hub, spawns, herd, idle)
    finally:
        stack.down()
    base = None
    if not args.no_baseline:
        # Same run, same machine, one after the other (never side by side: they would share
        # the cores): plain JupyterHub + DockerSpawner + JupyterLab.
        peer = Baseline(stack.project, stack.port + 1)
        peer.build()
        try:
            base = bench(
                Target("plain", peer.hub_container, peer.lab_container, jupyter_ready, False),
                peer.up(),
                spawns,
                herd,
                idle,
            )
        finally:
            peer.down()
    print(table(result, base))
    for failure in result["herd_failures"] + result["failures"]:
        print(f"failed: {failure}")
    for failure in (base or {}).get("herd_failures", []) + (base or {}).get("failures", []):
        print(f"failed (plain DockerSpawner): {failure}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bench-spawn.json").write_text(
        json.dumps({"celerylab": result, "baseline": base}, indent=2)
    )
    return 1 if result["herd_failures"] or result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
