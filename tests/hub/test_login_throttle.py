"""Login throttling by source: a stranger's wrong passwords lock the stranger, not the user.

The authenticator runs for real (NativeAuthenticator's password table on an in-memory
database, bcrypt); the request is a real tornado request whose connection has a peer address,
as JupyterHub's server would hand it over. The live check, through the real proxy, is
integration-tests/test_auth.py.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from celerylab_hub.auth import RosterAuthenticator
from celerylab_hub.login_throttle import (
    LOGIN_FAILURES,
    LOGIN_LOCKOUTS,
    LoginThrottle,
    client_address,
)
from jupyterhub import orm
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

PROXY = "172.30.0.2"
TLS = "172.30.0.3"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_client_address_is_the_peer_unless_the_peer_is_our_proxy():
    assert client_address("203.0.113.9", "198.51.100.1", {PROXY}) == "203.0.113.9"
    assert client_address(PROXY, "198.51.100.1", {PROXY}) == "198.51.100.1"
    assert client_address(PROXY, None, {PROXY}) == PROXY


def test_a_client_cannot_choose_its_address_through_our_proxy():
    # The client sent "X-Forwarded-For: 10.9.9.9"; our proxy appended what it saw.
    assert client_address(PROXY, "10.9.9.9, 198.51.100.1", {PROXY}) == "198.51.100.1"
    # Behind the TLS proxy too: both our hops are skipped, never the client's own entry.
    assert client_address(PROXY, "10.9.9.9, 198.51.100.1, " + TLS, {PROXY, TLS}) == "198.51.100.1"
    assert client_address(PROXY, "garbage, not-an-ip", {PROXY}) == PROXY


def test_failures_lock_the_name_at_that_source_only():
    clock = Clock()
    throttle = LoginThrottle(per_name=3, per_source=50, window=600, clock=clock)
    for _ in range(3):
        assert throttle.seconds_left("stranger", "admin") == 0
        throttle.failed("stranger", "admin")
    assert throttle.seconds_left("stranger", "admin") == 600
    assert throttle.seconds_left("office", "admin") == 0, "the admin's own address stays open"
    assert throttle.seconds_left("stranger", "ivan") == 0, "below the source's budget"
    clock.now += 601
    assert throttle.seconds_left("stranger", "admin") == 0, "the lock ends with its window"


def test_spraying_names_from_one_source_locks_the_source():
    throttle = LoginThrottle(per_name=5, per_source=10, window=600, clock=Clock())
    for i in range(10):
        throttle.failed("sprayer", f"user{i}")
    assert throttle.seconds_left("sprayer", "someone-else") == 600
    assert throttle.seconds_left("classroom", "someone-else") == 0


def test_a_valid_login_does_not_reset_the_sources_budget():
    throttle = LoginThrottle(per_name=5, per_source=4, window=600, clock=Clock())
    for _ in range(3):
        throttle.failed("attacker", "victim")
    throttle.succeeded("attacker", "attackers-own-account")
    throttle.failed("attacker", "victim")
    assert throttle.seconds_left("attacker", "victim") > 0


def test_memory_stays_bounded_against_many_sources():
    clock = Clock()
    throttle = LoginThrottle(max_entries=100, clock=clock)
    for i in range(1000):
        clock.now += 0.01
        throttle.failed(f"2001:db8::{i:x}", "admin")
    assert len(throttle._pairs) <= 100 and len(throttle._sources) <= 100
    assert throttle.seconds_left("2001:db8::3e7", "admin") == 0  # newest kept, below the limit


# --- the authenticator, end to end through authenticate() --------------------------------


@pytest.fixture
def authenticator():
    auth = RosterAuthenticator(
        db=orm.new_session_factory("sqlite://")(),
        allowed_failed_logins=3,
        source_failed_logins=20,
        trusted_proxies=[PROXY],
        allowed_users={"admin"},  # on the roster (the hub adds its users at start)
    )
    auth.set_password("admin", "correct horse battery")
    return auth


def handler(peer: str, forwarded: str | None = None, real_ip: str | None = None):
    headers = HTTPHeaders({"Host": "celerylab.localhost"})
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    if real_ip:
        headers["X-Real-Ip"] = real_ip
    connection = SimpleNamespace(context=SimpleNamespace(address=(peer, 40000)))
    start = RequestStartLine("POST", "/hub/login", "HTTP/1.1")
    request = HTTPServerRequest(start_line=start, headers=headers, connection=connection)
    return SimpleNamespace(request=request)


def login(auth, name, password, **where):
    data = {"username": name, "password": password}
    return asyncio.run(auth.get_authenticated_user(handler(**where), data))


def test_a_stranger_cannot_lock_the_admin_out(authenticator):
    failures = LOGIN_FAILURES._value.get()
    lockouts = LOGIN_LOCKOUTS.labels(scope="name_at_source")._value.get()
    stranger = {"peer": PROXY, "forwarded": "198.51.100.66"}
    for _ in range(3):
        assert login(authenticator, "admin", "wrong password!", **stranger) is None
    assert LOGIN_FAILURES._value.get() == failures + 3
    assert LOGIN_LOCKOUTS.labels(scope="name_at_source")._value.get() == lockouts + 1
    # The stranger is locked out even with the right password...
    assert login(authenticator, "admin", "correct horse battery", **stranger) is None
    # ...the admin, from anywhere else, is not.
    admin = {"peer": PROXY, "forwarded": "192.0.2.10"}
    assert login(authenticator, "admin", "correct horse battery", **admin)["name"] == "admin"


def test_spoofed_forwarding_headers_do_not_dodge_the_lock(authenticator):
    for i in range(3):
        fake = f"10.0.0.{i}"
        where = {"peer": PROXY, "forwarded": f"{fake}, 198.51.100.77", "real_ip": fake}
        login(authenticator, "admin", "wrong password!", **where)
    where = {"peer": PROXY, "forwarded": "10.0.0.99, 198.51.100.77", "real_ip": "10.0.0.99"}
    assert login(authenticator, "admin", "correct horse battery", **where) is None


def test_a_direct_caller_is_judged_by_its_own_address(authenticator):
    # From a container that reaches the hub directly (not through the proxy), its headers
    # are not believed: its failures are its own, whatever address it claims.
    for i in range(3):
        where = {"peer": "172.30.0.50", "forwarded": f"192.0.2.{i}"}
        login(authenticator, "admin", "wrong password!", **where)
    assert login(authenticator, "admin", "correct horse battery", peer="172.30.0.50") is None
    admin = {"peer": PROXY, "forwarded": "192.0.2.10"}
    assert login(authenticator, "admin", "correct horse battery", **admin)["name"] == "admin"


def test_unknown_names_count_against_the_source(authenticator):
    where = {"peer": "203.0.113.5"}
    for i in range(20):
        login(authenticator, f"nobody{i}", "whatever-password", **where)
    assert login(authenticator, "admin", "correct horse battery", **where) is None
