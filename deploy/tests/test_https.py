"""The deployed platform through HTTPS: redirects, security headers, a student's whole path."""

import subprocess

import requests
from conftest import (
    CA,
    HTTP_URL,
    PROMETHEUS_URL,
    STUDENT,
    URL,
    initial_passwords,
    login,
    ops_env,
)


def test_http_redirects_to_https():
    r = requests.get(f"{HTTP_URL}/hub/login?next=%2Fhub%2F", allow_redirects=False, timeout=30)
    assert r.status_code in (301, 308)
    assert r.headers["Location"] == f"{URL}/hub/login?next=%2Fhub%2F"


def test_certificate_is_verified_against_the_deployment_ca():
    # requests uses CA only (REQUESTS_CA_BUNDLE); the system store does not know it.
    assert requests.get(f"{URL}/hub/health", verify=CA, timeout=30).status_code == 200
    try:
        requests.get(f"{URL}/hub/health", verify="/etc/ssl/certs/ca-certificates.crt", timeout=30)
    except requests.exceptions.SSLError:
        pass
    else:
        raise AssertionError("the self-signed certificate was trusted without its CA")


def test_security_headers():
    h = requests.get(f"{URL}/hub/login", timeout=30).headers
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "SAMEORIGIN"
    assert "Referrer-Policy" in h
    assert "Server" not in h


def test_login_cookies_are_secure_and_httponly():
    password = initial_passwords()["student2"]
    session = login("student2", password)
    cookies = {c.name: c for c in session.cookies}
    for name in ("jupyterhub-hub-login", "jupyterhub-session-id"):
        assert cookies[name].secure, f"{name} is sent over plain HTTP too"
        assert cookies[name].has_nonstandard_attr("HttpOnly"), f"{name} is readable by scripts"


def test_student_logs_in_gets_a_lab_and_runs_a_task(student):
    student.start(STUDENT, timeout=120)
    lab = student.lab(STUDENT)
    try:
        out = lab.run("from tasks import add\nprint(add.delay(2, 3).get(timeout=30))", timeout=90)
        assert out.strip() == "5"
    finally:
        lab.close()


def test_flower_is_served_to_the_student_through_https(student):
    student.start(STUDENT, timeout=120)
    r = student.lab(STUDENT).get("flower/", timeout=60)
    assert r.status_code == 200, r.text[:300]


def test_prometheus_is_private_and_scrapes_the_hub():
    """Prometheus: on 127.0.0.1 only (the firewall test covers the outside), with its own
    password; never served by the TLS proxy."""
    query = f"{PROMETHEUS_URL}/api/v1/query"
    assert requests.get(query, params={"query": "up"}, timeout=30).status_code == 401
    password = ops_env("CELERYLAB_PROMETHEUS_PASSWORD")
    r = requests.get(
        query, params={"query": 'up{job="hub"}'}, auth=("celerylab", password), timeout=30
    )
    r.raise_for_status()
    (hub,) = r.json()["data"]["result"]
    assert hub["value"][1] == "1", "Prometheus cannot scrape the hub's metrics"
    r = requests.get(f"{URL}/prometheus/api/v1/query", params={"query": "up"}, timeout=30)
    assert "resultType" not in r.text, "Prometheus is served through HTTPS"


def test_grafana_is_routed_under_its_path():
    r = requests.get(f"{URL}/grafana/api/health", timeout=30)
    grafana = subprocess.run(
        ["docker", "ps", "-q", "--filter", "label=com.docker.compose.service=grafana"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if grafana:
        assert r.status_code == 200 and r.json()["database"] == "ok", r.text[:300]
    else:  # no Grafana image where no registry is reachable: the route is there, Grafana not
        assert r.status_code == 502, f"/grafana/ is not routed to Grafana: {r.status_code}"
