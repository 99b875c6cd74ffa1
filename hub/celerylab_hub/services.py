"""Hub services and their roles: least privilege for each.

- celerylab-ops: owns the ops API token (CELERYLAB_API_TOKEN) with the admin role, for the
  standard REST API at /hub/api.
- idle-culler: jupyterhub-idle-culler, allowed only to read activity and stop servers.
"""

import sys


def services(options, ops_token: str) -> list[dict]:
    result = [{"name": options.ops_service, "api_token": ops_token}]
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
    result = [{"name": "admin", "services": [options.ops_service]}]
    if options.cull_every > 0:
        result.append(
            {
                "name": "idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            }
        )
    return result
