"""Jupyter server extension: the lab finds a recreated hub at its new address at once.

JupyterHub requires aiodns, which makes c-ares aiohttp's default resolver, and c-ares keeps each
answer for its TTL: Docker's DNS answers with 600 s. After the hub container was recreated (an
upgrade), a running lab kept asking the old address to check every new token, and answered 500,
for up to ten minutes. The system resolver (getaddrinfo) asks Docker's DNS each time; aiohttp
still keeps an answer for 10 s. (The hub package does the same for its own processes; the lab
never imports it.)
"""

import aiohttp.connector
import aiohttp.resolver


def use_system_resolver() -> None:
    """Make every aiohttp connector created from now on in this process use getaddrinfo."""
    aiohttp.connector.DefaultResolver = aiohttp.resolver.ThreadedResolver


def _load_jupyter_server_extension(server_app):
    # Extensions load before the server's first request to the hub creates its connector.
    use_system_resolver()
