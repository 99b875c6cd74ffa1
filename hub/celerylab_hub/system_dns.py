"""Look names up afresh, so a recreated container is found at its new address.

JupyterHub requires aiodns, which makes c-ares aiohttp's default resolver, and c-ares keeps each
answer for its TTL: Docker's DNS answers with 600 s. A process that had looked up `proxy` (the
hub) or `hub` (the exchange service) kept connecting to the old container's address for up to
ten minutes after that container was recreated. The system resolver (getaddrinfo) asks Docker's
DNS each time; aiohttp still keeps an answer for 10 s.
"""

import aiohttp.connector
import aiohttp.resolver


def use_system_resolver() -> None:
    """Make every aiohttp connector created from now on in this process use getaddrinfo."""
    aiohttp.connector.DefaultResolver = aiohttp.resolver.ThreadedResolver
