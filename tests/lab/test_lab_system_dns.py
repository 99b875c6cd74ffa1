"""The lab's Jupyter server looks names up through getaddrinfo, not c-ares (which kept a
recreated hub's old address for Docker's 600 s TTL): a server extension switches it."""

import asyncio

import aiohttp
import aiohttp.connector
import aiohttp.resolver
import celerylab_lab
from celerylab_lab import system_dns


def resolver_of_a_new_connector():
    async def make():
        connector = aiohttp.TCPConnector()
        try:
            return type(connector._resolver)
        finally:
            await connector.close()

    return asyncio.run(make())


def test_the_extension_switches_to_the_system_resolver(monkeypatch):
    monkeypatch.setattr(aiohttp.connector, "DefaultResolver", aiohttp.resolver.DefaultResolver)
    assert resolver_of_a_new_connector() is aiohttp.resolver.AsyncResolver
    system_dns._load_jupyter_server_extension(server_app=None)
    assert resolver_of_a_new_connector() is aiohttp.resolver.ThreadedResolver


def test_it_loads_first():
    points = [p["module"] for p in celerylab_lab._jupyter_server_extension_points()]
    assert points[0] == "celerylab_lab.system_dns"
