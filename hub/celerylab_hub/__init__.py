"""celerylab's JupyterHub side.

One module per concern: `spawner` (student lab containers), `settings` (environment -> traits),
`auth` (roster login), `services` (ops token, idle culler), `secrets` (generated once), `cli`.
`jupyterhub_config.py` at the repository root only wires these together.
"""
