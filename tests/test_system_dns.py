"""Every process of both images looks names up through getaddrinfo, not c-ares (which keeps an
answer for Docker's 600 s TTL, past a recreated container's change of address): the hub package
switches it where its processes start, the lab's Jupyter server by a server extension."""

import asyncio

import aiohttp
import aiohttp.connector
import aiohttp.resolver
import celerylab_hub.system_dns
import celerylab_lab
import celerylab_lab.system_dns
import pytest


def resolver_of_a_new_connector():
    async def make():
        connector = aiohttp.TCPConnector()
        try:
            return type(connector._resolver)
        finally:
            await connector.close()

    return asyncio.run(make())


@pytest.mark.parametrize(
    "switch",
    [
        celerylab_hub.system_dns.use_system_resolver,
        lambda: celerylab_lab.system_dns._load_jupyter_server_extension(server_app=None),
    ],
    ids=["hub", "lab extension"],
)
def test_connectors_use_the_system_resolver(monkeypatch, switch):
    monkeypatch.setattr(aiohttp.connector, "DefaultResolver", aiohttp.resolver.DefaultResolver)
    # JupyterHub requires aiodns, so without the switch aiohttp would use c-ares.
    assert resolver_of_a_new_connector() is aiohttp.resolver.AsyncResolver
    switch()
    assert resolver_of_a_new_connector() is aiohttp.resolver.ThreadedResolver


def test_the_lab_switches_before_its_other_extensions():
    points = [p["module"] for p in celerylab_lab._jupyter_server_extension_points()]
    assert points[0] == "celerylab_lab.system_dns"
