"""CELERYLAB_LAB_EGRESS, live: a lab reaches a listed destination and nothing else, never the
metadata range. The destination is a stand-in on the test host (integration-tests/outside.py),
so the test needs no internet: without egress the lab cannot reach it (the control), with it
listed the student can, on that port and that address only."""

from __future__ import annotations

import json
import subprocess

import pytest
from live import TEST_STACK, lab_container, restart_hub
from outside import PROBE, gateway_of, host_address, listeners

pytestmark = pytest.mark.docker

USER = "egon"
METADATA = ("169.254.169.254", 80)


def from_the_students_kernel(stack, targets: list[tuple[str, int]]) -> dict[str, str]:
    lab = stack.lab(USER)
    try:
        code = f"import sys; sys.argv = ['probe', {json.dumps(targets)!r}]\n{PROBE}"
        return json.loads(lab.run(code, timeout=120))
    finally:
        lab.close()


def test_egress_lets_a_listed_destination_through_and_nothing_else(stack):
    stack.ensure_user(USER)
    with listeners(2) as (listed, unlisted):
        host = host_address()
        targets = [(host, listed), (host, unlisted), METADATA]
        stack.start(USER)
        before = from_the_students_kernel(stack, targets)
        stack.stop(USER)
        assert before[f"{host}:{listed}"] != "open", f"reachable without egress: {before}"

        restart_hub(stack, CELERYLAB_LAB_EGRESS=f"{host}:{listed}")
        try:
            stack.start(USER)
            egress = f"{TEST_STACK.project}-egress"
            other_address = gateway_of(egress)  # the host too, but not the listed address
            found = from_the_students_kernel(stack, [*targets, (other_address, listed)])
            ruleset = subprocess.run(
                ["docker", "exec", "-u", "0", lab_container(USER), "nft", "list", "ruleset"],
                capture_output=True,
                text=True,
            ).stdout
            stack.stop(USER)
        finally:
            restart_hub(stack)
            subprocess.run(["docker", "network", "rm", egress], capture_output=True)
    print(f"without egress: {before}\nwith {host}:{listed} listed: {found}")
    assert found[f"{host}:{listed}"] == "open", found
    assert found[f"{host}:{unlisted}"] != "open", found
    assert found[f"{other_address}:{listed}"] != "open", found
    assert found["169.254.169.254:80"] != "open", found
    # Nothing listens on the metadata address here, so its probe alone proves little: the
    # fence that the lab runs with drops the link-local range before any egress rule.
    allow = f"ip daddr {host} tcp dport {listed} accept"
    assert "ip daddr 169.254.0.0/16 drop" in ruleset and allow in ruleset, ruleset
    assert ruleset.index("ip daddr 169.254.0.0/16 drop") < ruleset.index(allow), ruleset
