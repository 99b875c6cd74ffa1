"""Check the Grafana provisioning, and give every panel's PromQL as Prometheus can run it.

Grafana cannot run on every machine the tests run on, so its files are checked here:
- the datasource has the fixed uid DATASOURCE_UID;
- each dashboard has its stable uid (STABLE_UIDS), unique, and no `__inputs` (an exported
  dashboard that asks for a datasource on import would not provision);
- every panel and every target references the datasource by that uid, every panel has a query.
The live test (integration-tests/test_monitoring.py) runs every query through Prometheus's API.

    python monitoring/dashboards.py      # prints the problems; exit status 1 if any
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DASHBOARDS = HERE / "grafana" / "dashboards"
DATASOURCES = HERE / "grafana" / "provisioning" / "datasources"
DATASOURCE_UID = "celerylab-prometheus"
#: file -> uid. Links and bookmarks use the uid: never change one.
STABLE_UIDS = {
    "fleet.json": "celerylab-fleet",
    "celery.json": "celerylab-celery",
    "class-progress.json": "celerylab-class-progress",
}
#: What Grafana puts in for its variables when a query runs, for running it ourselves:
#: "All" for every template variable, a fixed window for the interval variables.
GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__range": "1h",
}


def load() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict) -> list[dict]:
    """Every panel, rows' nested panels included, rows themselves excluded."""
    found = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            found += panel.get("panels", [])
        else:
            found.append(panel)
    return found


def _uses_datasource(item: dict) -> bool:
    source = item.get("datasource")
    return isinstance(source, dict) and source.get("uid") == DATASOURCE_UID


def problems() -> list[str]:
    found = []
    sources = [
        s
        for f in sorted(DATASOURCES.glob("*.yml"))
        for s in (yaml.safe_load(f.read_text()) or {}).get("datasources", [])
    ]
    if [s.get("uid") for s in sources] != [DATASOURCE_UID]:
        found.append(f"provisioning must define exactly one datasource, uid {DATASOURCE_UID}")
    dashboards = load()
    if set(dashboards) != set(STABLE_UIDS):
        found.append(f"dashboards are {sorted(dashboards)}, expected {sorted(STABLE_UIDS)}")
    uids = [d.get("uid") for d in dashboards.values()]
    if len(uids) != len(set(uids)):
        found.append(f"dashboard uids are not unique: {uids}")
    for name, dashboard in dashboards.items():
        where = f"{name}:"
        if STABLE_UIDS.get(name) and dashboard.get("uid") != STABLE_UIDS[name]:
            found.append(f"{where} uid {dashboard.get('uid')!r}, must stay {STABLE_UIDS[name]!r}")
        if "__inputs" in dashboard or "${DS_" in json.dumps(dashboard):
            found.append(f"{where} has __inputs/${{DS_...}}: export without 'share externally'")
        if not dashboard.get("title"):
            found.append(f"{where} has no title")
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query" and not _uses_datasource(variable):
                found.append(f"{where} variable {variable.get('name')} not on uid {DATASOURCE_UID}")
        ids = [p.get("id") for p in panels(dashboard)]
        if len(ids) != len(set(ids)):
            found.append(f"{where} panel ids are not unique")
        for panel in panels(dashboard):
            title = f"{where} panel {panel.get('title')!r}"
            if not _uses_datasource(panel):
                found.append(f"{title} does not reference the datasource by uid")
            targets = panel.get("targets") or []
            if not targets:
                found.append(f"{title} has no query")
            for target in targets:
                if not _uses_datasource(target):
                    found.append(f"{title} target {target.get('refId')} not on the datasource uid")
                if not str(target.get("expr", "")).strip():
                    found.append(f"{title} target {target.get('refId')} has no expr")
    return found


def template_names(dashboard: dict) -> list[str]:
    return [v["name"] for v in dashboard.get("templating", {}).get("list", [])]


def runnable(expr: str, variables: list[str]) -> str:
    """The query as Grafana sends it with every variable on "All"."""
    values = {**GRAFANA_VARIABLES, **{name: ".*" for name in variables}}

    def substitute(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown Grafana variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", substitute, expr)


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every target of every panel, ready for Prometheus's query API."""
    result = []
    for name, dashboard in load().items():
        variables = template_names(dashboard)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                where = f"{name} / {panel['title']} / {target['refId']}"
                result.append((where, runnable(target["expr"], variables)))
    return result


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(issue, file=sys.stderr)
    print(f"{len(load())} dashboards, {len(queries())} queries, {len(issues)} problems")
    sys.exit(1 if issues else 0)
