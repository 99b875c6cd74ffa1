"""The lab's network fence (celerylab_lab.firewall): the rules it writes for nft.

Live, from inside a real lab: integration-tests/test_network_isolation.py."""

import os
import shutil
import subprocess

import pytest
from celerylab_lab.firewall import FirewallError, gateways, local_networks, ruleset

ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0
"""
ENV = {"CELERYLAB_LAB_PEER_PORTS": "8000 8765", "CELERYLAB_LAB_SERVE_PORTS": "8888 9100"}


def no_dns(host):
    raise OSError(f"no DNS for {host} in this test")


def test_attached_networks_come_from_the_route_table():
    assert local_networks(ROUTES) == ["172.18.0.0/16", "192.168.0.0/20"]


def test_route_gateways_are_host_addresses():
    assert gateways(ROUTES) == ["172.18.0.1"]


def test_the_host_is_dropped_before_the_peers_and_the_egress():
    """The host answers at its networks' gateways on every port it serves, the peer ports too."""
    env = {
        **ENV,
        "CELERYLAB_LAB_HOST_ADDRESSES": "172.18.0.1 172.17.0.1 fd00::1",
        "CELERYLAB_LAB_EGRESS": "10.9.0.0/16",
    }
    rules = ruleset(env, ["172.18.0.0/16"], no_dns, ["192.168.0.1"])
    drop = "ip daddr { 172.17.0.1/32, 172.18.0.1/32, 192.168.0.1/32 } drop"
    assert drop in rules
    assert rules.index(drop) < rules.index("tcp dport { 8000, 8765 } accept")
    assert rules.index(drop) < rules.index("ip daddr 10.9.0.0/16 accept")
    with pytest.raises(FirewallError):
        ruleset({**ENV, "CELERYLAB_LAB_HOST_ADDRESSES": "gateway"}, [], no_dns)


def test_default_fence_opens_only_the_peers_out_and_the_served_ports_in():
    rules = ruleset(ENV, ["172.18.0.0/16"], no_dns)
    output = rules.split("chain output")[1].split("chain input")[0]
    inbound = rules.split("chain input")[1]
    assert "policy drop;" in output and "policy drop;" in inbound
    assert "ip daddr { 172.18.0.0/16 } tcp dport { 8000, 8765 } accept" in output
    assert "ip daddr 169.254.0.0/16 drop" in output
    assert output.index("169.254.0.0/16 drop") < output.index("tcp dport { 8000")
    assert "th dport 53" not in output  # no egress: no DNS to the outside either
    assert "tcp dport { 8888, 9100 } accept" in inbound
    # Replaces an earlier table (a restarted container) instead of adding to it.
    assert rules.startswith("table inet celerylab_lab\ndelete table inet celerylab_lab\n")


def test_egress_allow_list_resolves_names_and_keeps_ports():
    env = {**ENV, "CELERYLAB_LAB_EGRESS": "pypi.org:443, 10.9.0.0/16"}
    rules = ruleset(env, ["172.18.0.0/16"], lambda host: ["151.101.0.223", "151.101.64.223"])
    assert "ip daddr 151.101.0.223/32 tcp dport 443 accept" in rules
    assert "ip daddr 151.101.64.223/32 tcp dport 443 accept" in rules
    assert "ip daddr 10.9.0.0/16 accept" in rules
    assert "meta l4proto { tcp, udp } th dport 53 accept" in rules
    assert rules.index("169.254.0.0/16 drop") < rules.index("151.101.0.223")


@pytest.mark.parametrize(
    "egress",
    ["169.254.169.254", "169.254.169.254:80", "169.254.0.0/16", "0.0.0.0/0", "metadata:80"],
)
def test_metadata_address_is_never_allowed(egress):
    resolve = lambda host: ["169.254.169.254"]  # noqa: E731 - a name that points at metadata
    with pytest.raises(FirewallError, match="link-local"):
        ruleset({**ENV, "CELERYLAB_LAB_EGRESS": egress}, [], resolve)


@pytest.mark.parametrize(
    "env", [{"CELERYLAB_LAB_PEER_PORTS": "80x"}, {"CELERYLAB_LAB_SERVE_PORTS": "0"}]
)
def test_bad_ports_stop_the_lab(env):
    with pytest.raises(FirewallError):
        ruleset(env, [], no_dns)


def test_unresolvable_egress_name_stops_the_lab():
    with pytest.raises(FirewallError, match="cannot resolve"):
        ruleset({**ENV, "CELERYLAB_LAB_EGRESS": "nowhere.invalid:443"}, [], no_dns)


def test_real_nft_accepts_the_rules():
    """nft itself checks the ruleset, in a network namespace of its own (nothing is applied)."""
    if not (shutil.which("nft") and shutil.which("unshare") and os.geteuid() == 0):
        if os.environ.get("CI") == "true":
            pytest.fail("nft, unshare and root are needed (CI=true)")
        pytest.skip("needs nft, unshare and root")
    env = {
        **ENV,
        "CELERYLAB_LAB_EGRESS": "10.9.0.0/16:443",
        "CELERYLAB_LAB_HOST_ADDRESSES": "172.18.0.1 172.17.0.1",
    }
    rules = ruleset(env, ["172.18.0.0/16", "192.168.0.0/20"], no_dns, ["192.168.0.1"])
    for text in (rules, rules.replace("169.254.0.0/16", "169.254.0.0/33")):
        check = subprocess.run(
            ["unshare", "--net", "nft", "-c", "-f", "-"], input=text, capture_output=True, text=True
        )
        assert (check.returncode == 0) == (text == rules), check.stderr
