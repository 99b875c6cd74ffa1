"""The hub's processes look names up through getaddrinfo, not c-ares (which keeps an answer for
Docker's 600 s TTL, past a recreated container's change of address)."""

import asyncio

import aiohttp
import aiohttp.connector
import aiohttp.resolver
from celerylab_hub import system_dns


def resolver_of_a_new_connector():
    async def make():
        connector = aiohttp.TCPConnector()
        try:
            return type(connector._resolver)
        finally:
            await connector.close()

    return asyncio.run(make())


def test_connectors_use_the_system_resolver(monkeypatch):
    monkeypatch.setattr(aiohttp.connector, "DefaultResolver", aiohttp.resolver.DefaultResolver)
    # JupyterHub requires aiodns, so without the switch aiohttp would use c-ares.
    assert resolver_of_a_new_connector() is aiohttp.resolver.AsyncResolver
    system_dns.use_system_resolver()
    assert resolver_of_a_new_connector() is aiohttp.resolver.ThreadedResolver
