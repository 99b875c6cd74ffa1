"""The lab container's own resource use, from its cgroup (v2 or v1).

Inside a container /sys/fs/cgroup is the container's own cgroup, so each lab reports its memory,
CPU and OOM kills itself: Prometheus needs neither the Docker socket nor cAdvisor.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

ROOT = Path("/sys/fs/cgroup")
#: cgroup v1 writes "no limit" as a huge number; anything above this is unlimited.
UNLIMITED = 1 << 62


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _keyed(text: str | None) -> dict[str, int]:
    values = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


def read_usage(root: Path = ROOT) -> dict[str, float]:
    """memory (working set, bytes), memory_limit (bytes, absent if none), cpu (seconds),
    oom_kills. Missing files leave their keys out."""
    usage: dict[str, float] = {}
    if (root / "cgroup.controllers").exists():  # v2
        current = _read(root / "memory.current")
        stat = _keyed(_read(root / "memory.stat"))
        if current is not None:
            usage["memory"] = max(0, int(current) - stat.get("inactive_file", 0))
        limit = (_read(root / "memory.max") or "max").strip()
        if limit.isdigit():
            usage["memory_limit"] = int(limit)
        cpu = _keyed(_read(root / "cpu.stat"))
        if "usage_usec" in cpu:
            usage["cpu"] = cpu["usage_usec"] / 1e6
        events = _keyed(_read(root / "memory.events"))
        if "oom_kill" in events:
            usage["oom_kills"] = events["oom_kill"]
        return usage
    memory = root / "memory"
    current = _read(memory / "memory.usage_in_bytes")
    stat = _keyed(_read(memory / "memory.stat"))
    if current is not None:
        usage["memory"] = max(0, int(current) - stat.get("total_inactive_file", 0))
    limit = _read(memory / "memory.limit_in_bytes")
    if limit is not None and int(limit) < UNLIMITED:
        usage["memory_limit"] = int(limit)
    cpu = _read(root / "cpuacct" / "cpuacct.usage")
    if cpu is not None:
        usage["cpu"] = int(cpu) / 1e9
    oom = _keyed(_read(memory / "memory.oom_control"))
    if "oom_kill" in oom:
        usage["oom_kills"] = oom["oom_kill"]
    return usage


class CgroupCollector:
    def __init__(self, root: Path = ROOT):
        self.root = root

    def collect(self):
        usage = read_usage(self.root)
        if "memory" in usage:
            yield GaugeMetricFamily(
                "celerylab_lab_memory_bytes",
                "Memory in use by the container (working set: without inactive page cache)",
                value=usage["memory"],
            )
        if "memory_limit" in usage:
            yield GaugeMetricFamily(
                "celerylab_lab_memory_limit_bytes",
                "Memory limit of the container",
                value=usage["memory_limit"],
            )
        if "cpu" in usage:
            yield CounterMetricFamily(
                "celerylab_lab_cpu_seconds", "CPU time used by the container", value=usage["cpu"]
            )
        if "oom_kills" in usage:
            yield CounterMetricFamily(
                "celerylab_lab_oom_kills",
                "Processes of the container killed for lack of memory",
                value=usage["oom_kills"],
            )
