"""Fixtures shared by the lab-side tests."""

import os
import shutil

import pytest


@pytest.fixture
def redis_server_installed() -> None:
    """These tests run a real redis-server: skip without one, but fail under CI."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is needed (CI=true)")
        pytest.skip("redis-server is not installed")
