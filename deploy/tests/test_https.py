"""The deployed platform through HTTPS: redirects, security headers, a student's whole path,
every lab and course service on its own origin (<user>.<domain>) under the same certificate."""

import subprocess
from urllib.parse import urlsplit

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
from hubclient import origin

#: student1's lab's origin, e.g. https://student1.celerylab.localhost:18443
LAB = origin(URL, STUDENT)


def test_http_redirects_to_https():
    r = requests.get(f"{HTTP_URL}/hub/login?next=%2Fhub%2F", allow_redirects=False, timeout=30)
    assert r.status_code in (301, 308)
    assert r.headers["Location"] == f"{URL}/hub/login?next=%2Fhub%2F"
    # A lab's own name too, to the same name over HTTPS.
    plain_lab = f"{origin(HTTP_URL, STUDENT)}/user/{STUDENT}/"
    r = requests.get(plain_lab, allow_redirects=False, timeout=30)
    assert r.status_code in (301, 308)
    assert r.headers["Location"] == f"{LAB}/user/{STUDENT}/"


def test_certificate_is_verified_against_the_deployment_ca():
    # requests uses CA only (REQUESTS_CA_BUNDLE); the system store does not know it. A lab's
    # name is not in the certificate by itself: *.<domain> covers it.
    assert requests.get(f"{URL}/hub/health", verify=CA, timeout=30).status_code == 200
    lab = requests.get(f"{LAB}/user/{STUDENT}/", verify=CA, allow_redirects=False, timeout=30)
    assert lab.status_code < 500, lab.status_code  # the handshake with the lab's name held
    for url in (f"{URL}/hub/health", f"{LAB}/user/{STUDENT}/"):
        try:
            requests.get(url, verify="/etc/ssl/certs/ca-certificates.crt", timeout=30)
        except requests.exceptions.SSLError:
            pass
        else:
            raise AssertionError(f"{url}: the self-signed certificate was trusted without its CA")


def test_security_headers_on_the_hub_and_on_a_lab_origin():
    for url in (f"{URL}/hub/login", f"{LAB}/user/{STUDENT}/"):
        h = requests.get(url, allow_redirects=False, timeout=30).headers
        assert h["Strict-Transport-Security"].startswith("max-age="), url
        assert h["X-Content-Type-Options"] == "nosniff", url
        assert h["X-Frame-Options"] == "SAMEORIGIN", url
        assert "Referrer-Policy" in h, url
        assert "Server" not in h, url


def test_login_cookies_are_secure_and_httponly():
    password = initial_passwords()["student2"]
    session = login("student2", password)
    cookies = {c.name: c for c in session.cookies}
    # The login cookie is a __Host- cookie: the hub's name only, which no lab's origin can set.
    login_cookie = cookies["__Host-jupyterhub-hub-login"]
    assert login_cookie.path == "/" and not login_cookie.domain_specified
    for name in ("__Host-jupyterhub-hub-login", "jupyterhub-session-id"):
        assert cookies[name].secure, f"{name} is sent over plain HTTP too"
        assert cookies[name].has_nonstandard_attr("HttpOnly"), f"{name} is readable by scripts"


def test_student_logs_in_gets_a_lab_and_runs_a_task(student):
    student.start(STUDENT, timeout=120)
    lab = student.lab(STUDENT)
    assert lab.base == f"{LAB}/user/{STUDENT}"  # its own origin, not the hub's
    try:
        out = lab.run("from tasks import add\nprint(add.delay(2, 3).get(timeout=30))", timeout=90)
        assert out.strip() == "5"
    finally:
        lab.close()


def test_flower_is_served_to_the_student_through_https(student):
    student.start(STUDENT, timeout=120)
    r = student.lab(STUDENT).get("flower/", timeout=60)
    assert r.status_code == 200, r.text[:300]


def test_the_logged_in_student_reaches_their_lab_on_its_origin_through_oauth(student):
    """Like a browser: the hub's login cookie, then the lab's OAuth dance across the two
    origins, all over HTTPS; the lab's own cookie stays on the lab's name."""
    student.start(STUDENT, timeout=120)
    session = login(STUDENT, initial_passwords()[STUDENT])
    page = session.get(f"{LAB}/user/{STUDENT}/lab", timeout=60)
    hops = [urlsplit(h.url).netloc for h in page.history]
    assert page.status_code == 200, (page.status_code, page.url, page.text[:300], hops)
    assert urlsplit(page.url).netloc == urlsplit(LAB).netloc, page.url
    assert urlsplit(URL).netloc in hops, f"the lab did not ask the hub: {hops}"
    r = session.get(f"{LAB}/user/{STUDENT}/api/status", timeout=60)
    assert r.status_code == 200 and "started" in r.json(), (r.status_code, r.text[:300])
    # The lab's own login cookie (OAuth client jupyterhub-user-<name>, __Host- prefixed): on
    # the lab's name only, never sent to the hub or a classmate's lab.
    client = f"jupyterhub-user-{STUDENT}"
    (cookie,) = [c for c in session.cookies if c.name.removeprefix("__Host-") == client]
    assert cookie.domain == urlsplit(LAB).hostname and not cookie.domain_specified, cookie
    assert cookie.secure, cookie


def test_course_services_have_their_own_origins(ops):
    """Every service with a URL is routed on <service>--service.<domain>; each course's
    formgrader answers there through HTTPS, sending a visitor to log in at the hub."""
    routes = ops.api("GET", "/proxy").json()
    services = [s["name"] for s in ops.api("GET", "/services").json().values() if s.get("url")]
    for name in services:
        # The hub's API names a host route <host>/<path> (the proxy's own key has a "/" first).
        key = f"{urlsplit(origin(URL, name, 'service')).hostname}/services/{name}/"
        assert key in routes, f"{name} is not routed at its own origin: {sorted(routes)}"
    graders = [name for name in services if name.startswith("formgrader-")]
    assert graders, f"no course's formgrader is routed (celerylab courses sync): {services}"
    for name in graders:
        here = origin(URL, name, "service")
        # The service first redirects within its own origin, then to the hub's OAuth and login.
        r = requests.get(f"{here}/services/{name}/", timeout=30)
        hops = [h.url for h in r.history]
        assert hops and hops[0].startswith(f"{here}/services/{name}/"), hops
        assert r.url.startswith(f"{URL}/hub/"), (r.url, hops)


def test_grafana_is_not_served_on_a_lab_origin():
    # Grafana's login must never share an origin with a student's lab: there the path goes to
    # the hub (a redirect to /hub/... or a 404), never to Grafana (here, with no Grafana image,
    # its route would answer 502; test_grafana_is_routed_under_its_path checks that route).
    r = requests.get(f"{LAB}/grafana/api/health", allow_redirects=False, timeout=30)
    assert r.status_code in (302, 404), f"{LAB}/grafana/: {r.status_code} {r.text[:200]}"
    assert "database" not in r.text


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
