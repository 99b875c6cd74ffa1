"""celerylab's JupyterHub configuration.

Structural settings live here, each with its reason. Everything a deployment may change comes
from CELERYLAB_* environment variables (.env, docker-compose.yml), applied last by
celerylab_hub.config; see docs/configuration.md for the list.
"""

from celerylab_hub import config, system_dns

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

# Every student gets a lab container: JupyterLab, private Redis, Celery worker, Flower.
c.JupyterHub.spawner_class = "celerylab"

# The proxy runs in its own container, so labs stay reachable while the hub restarts...
# (CeleryLabProxy: configurable-http-proxy whose routes come back within seconds of a restart.)
c.JupyterHub.proxy_class = "celerylab_hub.proxy.CeleryLabProxy"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://proxy:8001"
# ...and labs keep running when the hub stops.
c.JupyterHub.cleanup_servers = False
# A recreated proxy has a new address: look names up afresh (celerylab_hub.system_dns).
system_dns.use_system_resolver()

# The hub listens on the compose networks; the proxy and course containers reach it by name.
c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - inside its container, behind the proxy
c.JupyterHub.hub_connect_ip = "hub"
# Labs reach the hub's API through the proxy, the one port of the platform their network fence
# lets them open (celerylab_lab.firewall): the hub's own ports stay closed to them.
c.CeleryLabSpawner.hub_connect_url = "http://proxy:8000"
c.CeleryLabSpawner.network_name = "celerylab-labs"

# State on the hub-data volume: SQLite by default (CELERYLAB_DB_URL selects Postgres).
c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/data/jupyterhub.sqlite"
c.JupyterHub.pid_file = "/srv/jupyterhub/data/jupyterhub.pid"

# Hub metrics stay behind a token (the monitoring service gets read:metrics only).
c.JupyterHub.authenticate_prometheus = True

c.Authenticator.admin_users = {"admin"}

# Students are untrusted (docs/architecture.md, "Threat model"). Besides giving every lab and
# service its own origin (config.py: subdomain_host), JupyterHub's own defences for that case:
# __Host- cookies, which a student's subdomain cannot overwrite, and servers that ignore the
# student's ~/.jupyter and ~/.local, so no file of theirs can change what their server serves.
c.JupyterHub.cookie_host_prefix_enabled = True
c.Spawner.disable_user_config = True

config.apply(c)
