"""Plain JupyterHub + DockerSpawner, as jupyterhub-deploy-docker sets it up (the benchmark's peer).

Students log in with any password (the benchmark only uses the API token); every setting not
named here is JupyterHub's or DockerSpawner's default.
"""

import os

c = get_config()  # noqa: F821 - provided by JupyterHub

c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = os.environ["BASELINE_IMAGE"]
c.DockerSpawner.network_name = os.environ["BASELINE_NETWORK"]
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.name_template = os.environ["BASELINE_PROJECT"] + "-lab-{username}"
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.default_url = "/lab"
c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - in its container
c.JupyterHub.hub_connect_ip = os.environ["BASELINE_HUB_NAME"]
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{"name": "bench", "api_token": os.environ["BASELINE_TOKEN"]}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["bench"]}]
c.JupyterHub.db_url = "sqlite:///:memory:"
c.DockerSpawner.notebook_dir = "/home/jovyan"
