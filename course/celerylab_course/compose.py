"""Check a Compose file offline: against the Compose Specification, then as a service graph.

A lab container has no Docker, so F01's students check their `compose.yaml` the way
`docker compose config` would begin to: the file is validated against a JSON Schema of the part
of the Compose Specification the course's stacks use (schema/compose-subset.schema.json,
written for the course with the specification's rules for those keys; the course's tests check
that it agrees with `docker compose config`), then its `depends_on` graph is checked for
unknown services and cycles and put in start order. `celery_stack_problems` adds the course's
rules for a broker + backend + worker + Flower stack.

    from celerylab_course import compose
    doc = compose.load("compose.yaml")
    compose.schema_errors(doc)       # [] when the file fits the specification
    compose.start_order(doc)         # ['redis', 'worker', 'flower']

Needs pyyaml and jsonschema (both in the lab image).
"""

from __future__ import annotations

import json
import re
from functools import cache
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

#: The schema file in this package (see the module's docstring).
SCHEMA = "schema/compose-subset.schema.json"


class ComposeError(ValueError):
    """The file is not YAML, or its service graph cannot be started."""


@cache
def spec_schema() -> dict:
    text = resources.files("celerylab_course").joinpath(SCHEMA).read_text()
    return json.loads(text)


def load(path: str | Path) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise ComposeError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ComposeError(f"{path} is not a mapping of top-level keys (services:, ...)")
    return doc


def schema_errors(doc: dict) -> list[str]:
    """Every place where the document breaks the Compose Specification, as 'path: message'."""
    import jsonschema

    validator = jsonschema.Draft7Validator(spec_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def dependencies(doc: dict) -> dict[str, set[str]]:
    """service -> the services it depends on (depends_on as a list or as a mapping)."""
    graph = {}
    for name, service in (doc.get("services") or {}).items():
        deps = (service or {}).get("depends_on") or []  # a list, or a mapping name -> condition
        graph[name] = set(deps)
    return graph


def graph_problems(doc: dict) -> list[str]:
    graph = dependencies(doc)
    problems = [
        f"{name} depends on {dep}, which is not a service"
        for name, deps in graph.items()
        for dep in sorted(deps - set(graph))
    ]
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as e:
        problems.append(f"depends_on has a cycle: {' -> '.join(e.args[1])}")
    return problems


def start_order(doc: dict) -> list[str]:
    """Services in an order that starts every dependency first (ties by name)."""
    problems = graph_problems(doc)
    if problems:
        raise ComposeError("; ".join(problems))
    sorter = TopologicalSorter(dependencies(doc))
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += ready
        sorter.done(*ready)
    return order


def mermaid(doc: dict) -> str:
    """The service graph as a Mermaid flowchart (an arrow points at what a service needs)."""
    lines = ["flowchart LR"]
    for name, deps in sorted(dependencies(doc).items()):
        lines.append(f"    {name}")
        lines += [f"    {name} --> {dep}" for dep in sorted(deps)]
    return "\n".join(lines)


def _command(service: dict) -> str:
    cmd = service.get("command") or ""
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def celery_stack_problems(doc: dict) -> list[str]:
    """The course's rules for a broker + backend + worker + Flower stack: a worker and a Flower
    service run `celery ... worker` / `celery ... flower`, both depend on the service their
    broker URL names, and every URL names a service of the file, not localhost."""
    services = doc.get("services") or {}
    graph = dependencies(doc)
    problems = []
    roles = {
        "worker": [n for n, s in services.items() if re.search(r"\bworker\b", _command(s or {}))],
        "flower": [n for n, s in services.items() if re.search(r"\bflower\b", _command(s or {}))],
    }
    for role, names in roles.items():
        if not names:
            problems.append(f"no service runs `celery ... {role}`")
    for name in roles["worker"] + roles["flower"]:
        env = _environment(services[name] or {})
        for var in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            url = env.get(var)
            if not url:
                if var == "CELERY_BROKER_URL" or name in roles["worker"]:
                    problems.append(f"{name} does not set {var}")
                continue
            host = re.sub(r"^[a-z0-9+]+://([^@/]*@)?", "", url).split("/")[0].split(":")[0]
            if host not in services:
                problems.append(f"{name}: {var} points at {host!r}, which is not a service")
            elif host not in graph.get(name, set()):
                problems.append(f"{name} uses {host} ({var}) but does not depend on it")
    return problems
