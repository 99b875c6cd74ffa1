"""Hub services and their roles: least privilege for each.

- celerylab-ops: owns the ops API token (CELERYLAB_API_TOKEN) with the admin role, for the
  standard REST API at /hub/api.
- celerylab-exchange: students' nbgrader exchange (its own container); may read group
  membership to know who studies what. Every user may call it with their lab's token.
- idle-culler: jupyterhub-idle-culler, allowed only to read activity and stop servers.
- celerylab-prometheus: Prometheus's token for /hub/metrics, read:metrics only.
- celerylab-metrics-discovery: tells Prometheus which labs run (celerylab_hub.metrics_discovery);
  may list users with their groups and servers, nothing else.
- celerylab-sessions: starts the roster's labs before each course session and keeps them until
  it ends (celerylab_hub.sessions); may start, stop and reach servers and report their activity.
"""

import sys
from urllib.parse import urlsplit

from celerylab_hub.coursecontainers import service_origin

EXCHANGE = "celerylab-exchange"
EXCHANGE_URL = "http://exchange:8765"
PROMETHEUS = "celerylab-prometheus"
METRICS_DISCOVERY = "celerylab-metrics-discovery"
SESSIONS = "celerylab-sessions"
#: What a lab's own API token may do: report activity, be reached, and use the exchange.
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={EXCHANGE}",
]


def course_services(courses, instance: str, token) -> list[dict]:
    """One formgrader service per course: its course container, for its instructors only."""
    return [
        {
            "name": c.formgrader_service,
            "url": f"http://{instance}-course-{c.id}:8888",
            "api_token": token(c.id),
            "oauth_no_confirm": True,
            "info": {"course": c.title},
            # A course container may not exist yet (created by `courses sync`): the hub must not
            # spend 30 s per course waiting for it before serving (JupyterHub's default).
            "timeout": 2,
        }
        for c in courses
    ]


#: Where nbgrader's formgrader links files when it is not framed by JupyterLab: the root of the
#: page's origin (its utils.js `linkTo`), which the proxy would hand to the hub (a 404 there).
FORMGRADER_FILE_LINKS = ("tree", "notebooks", "edit")


def course_link_routes(courses, hub_url: str, instance: str) -> dict[str, str]:
    """Proxy routes (Proxy.extra_routes) that send formgrader's file links on a course
    service's own origin to its course container, which redirects them into its JupyterLab
    (celerylab_lab.course_links). Only that origin's paths: never a student's origin."""
    routes = {}
    for c in courses:
        host = urlsplit(service_origin(hub_url, c.formgrader_service)).hostname
        for link in FORMGRADER_FILE_LINKS:
            routes[f"{host}/{link}/"] = f"http://{instance}-course-{c.id}:8888"
    return routes


def staff_formgraders(courses, hub_url: str) -> dict[str, list[dict]]:
    """Each instructor's or grader's formgraders, as nbgrader's Course List shows them (its
    `/formgraders` answer: course_id is what it displays, url where its link goes)."""
    result: dict[str, list[dict]] = {}
    for c in sorted(courses, key=lambda c: c.title):
        service = c.formgrader_service
        url = f"{service_origin(hub_url, service)}/services/{service}/formgrader"
        for user in c.staff:
            result.setdefault(user, []).append(
                {"course_id": c.title, "url": url, "kind": "formgrader"}
            )
    return result


def course_roles(courses) -> list[dict]:
    return [
        {
            "name": c.grader_group,
            "description": f"instructors and graders of {c.title}",
            "scopes": [f"access:services!service={c.formgrader_service}"],
            "groups": [c.grader_group],
        }
        for c in courses
    ]


def course_groups(courses) -> dict:
    groups = {}
    for c in courses:
        groups[c.student_group] = {"users": list(c.students)}
        groups[c.grader_group] = {"users": list(c.staff)}
    return groups


def services(options, ops_token: str, exchange_token: str, instance: str) -> list[dict]:
    result = [
        {"name": options.ops_service, "api_token": ops_token},
        {
            "name": EXCHANGE,
            "url": EXCHANGE_URL,
            "api_token": exchange_token,
            "display": False,
            "timeout": 10,  # it starts alongside the hub; don't hold the hub up for long
        },
    ]
    result.append(
        {
            # No url: it only calls the hub's API (and asks labs on the compose network).
            "name": SESSIONS,
            "display": False,
            "command": [
                sys.executable,
                "-m",
                "celerylab_hub.sessions",
                f"--courses-dir={options.courses_dir}",
                f"--lead={options.prestart_minutes}",
                f"--cull-timeout={options.cull_timeout}",
            ],
            "environment": {"CELERYLAB_INSTANCE": instance},
        }
    )
    if options.cull_every > 0:
        result.append(
            {
                "name": "idle-culler",
                "command": [
                    sys.executable,
                    "-m",
                    "jupyterhub_idle_culler",
                    f"--timeout={options.cull_timeout}",
                    f"--cull-every={options.cull_every}",
                    # Busy labs are spared by --timeout, never by this (celerylab_hub.options).
                    f"--max-age={options.lab_max_age}",
                ],
            }
        )
    return result


def roles(options) -> list[dict]:
    result = [
        {"name": "admin", "services": [options.ops_service]},
        {"name": "user", "scopes": ["self", f"access:services!service={EXCHANGE}"]},
        {"name": "exchange", "scopes": ["list:groups", "read:groups"], "services": [EXCHANGE]},
        {
            "name": "sessions",
            "scopes": [
                "read:users",
                "read:servers",
                "servers",
                "users:activity",
                "access:servers",
            ],
            "services": [SESSIONS],
        },
    ]
    if options.cull_every > 0:
        result.append(
            {
                "name": "idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            }
        )
    return result


def monitoring_services(
    prometheus_token: str, metrics_token_file: str, instance: str, course_ids: list[str]
) -> list[dict]:
    return [
        {"name": PROMETHEUS, "api_token": prometheus_token, "display": False},
        {
            # No url: the hub starts it but the proxy never routes to it; Prometheus reaches it
            # at hub:9095 on the compose network.
            "name": METRICS_DISCOVERY,
            "display": False,
            "command": [sys.executable, "-m", "celerylab_hub.metrics_discovery"],
            "environment": {
                "CELERYLAB_INSTANCE": instance,
                "CELERYLAB_COURSE_IDS": ",".join(course_ids),
                # The root scrape token, by file: discovery checks Prometheus with it and derives
                # each target's own token from it (celerylab_hub.secrets.scrape_token).
                "CELERYLAB_METRICS_TOKEN_FILE": metrics_token_file,
            },
        },
    ]


def monitoring_roles() -> list[dict]:
    return [
        {"name": "metrics", "scopes": ["read:metrics"], "services": [PROMETHEUS]},
        {
            "name": "metrics-discovery",
            "scopes": ["list:users", "read:users:name", "read:users:groups", "read:servers"],
            "services": [METRICS_DISCOVERY],
        },
    ]
