"""Hub services and their roles: least privilege for each.

- celerylab-ops: owns the ops API token (CELERYLAB_API_TOKEN) with the admin role, for the
  standard REST API at /hub/api.
- celerylab-exchange: students' nbgrader exchange (its own container); may read group
  membership to know who studies what. Every user may call it with their lab's token.
- idle-culler: jupyterhub-idle-culler, allowed only to read activity and stop servers.
"""

import sys

EXCHANGE = "celerylab-exchange"
EXCHANGE_URL = "http://exchange:8765"
#: What a lab's own API token may do: report activity, be reached, and use the exchange.
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={EXCHANGE}",
]


def services(options, ops_token: str, exchange_token: str) -> list[dict]:
    result = [
        {"name": options.ops_service, "api_token": ops_token},
        {"name": EXCHANGE, "url": EXCHANGE_URL, "api_token": exchange_token, "display": False},
    ]
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
                ],
            }
        )
    return result


def roles(options) -> list[dict]:
    result = [
        {"name": "admin", "services": [options.ops_service]},
        {"name": "user", "scopes": ["self", f"access:services!service={EXCHANGE}"]},
        {"name": "exchange", "scopes": ["list:groups", "read:groups"], "services": [EXCHANGE]},
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
