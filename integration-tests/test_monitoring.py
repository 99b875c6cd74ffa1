"""Monitoring on the live stack: Prometheus finds the hub, every running lab, the course container
and the host; every dashboard panel's query returns data; students cannot read each other's
metrics; a lab that stops leaves the targets."""

from __future__ import annotations

import hashlib
import hmac
import math
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from live import TEST_STACK, compose

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "monitoring"))
import dashboards  # monitoring/dashboards.py: the dashboards' queries

pytestmark = pytest.mark.docker

STUDENTS = ("amy", "ben")  # the test course c101's roster
TASKS = """from celery import Celery

app = Celery()


@app.task
def add(x, y):
    return x + y


@app.task
def boom():
    raise ValueError("a failing task, on purpose")
"""


class Prometheus:
    def __init__(self):
        self.url = f"http://127.0.0.1:{TEST_STACK.prometheus_port}"
        self.auth = ("celerylab", TEST_STACK.read_token("CELERYLAB_PROMETHEUS_PASSWORD"))

    def get(self, path: str, **params) -> dict:
        r = requests.get(f"{self.url}{path}", params=params, auth=self.auth, timeout=30)
        r.raise_for_status()
        return r.json()["data"]

    def query(self, expr: str) -> list[dict]:
        return self.get("/api/v1/query", query=expr)["result"]

    def targets(self) -> list[dict]:
        return self.get("/api/v1/targets", state="active")["activeTargets"]

    def up(self, job: str) -> dict[str, dict]:
        """{instance: target} of a job's targets that are up."""
        return {
            t["labels"]["instance"]: t
            for t in self.targets()
            if t["labels"]["job"] == job and t["health"] == "up"
        }


def wait_for(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(1)


@pytest.fixture(scope="module")
def prometheus(stack) -> Prometheus:
    prom = Prometheus()
    wait_for("Prometheus answers", lambda: _answers(prom), 60)
    return prom


def _answers(prom: Prometheus) -> bool:
    try:
        prom.targets()
        return True
    except (requests.RequestException, KeyError):
        return False


def work(lab, succeed: int, fail: int) -> None:
    lab.run(
        "from tasks import add, boom\n"
        f"assert [add.delay(i, i).get(timeout=30) for i in range({succeed})]\n"
        f"for f in [boom.delay() for _ in range({fail})]:\n"
        "    try:\n"
        "        f.get(timeout=30)\n"
        "    except ValueError:\n"
        "        pass\n",
        timeout=120,
    )


def task_counts(prometheus: Prometheus) -> dict[tuple[str, str, str], int]:
    """{(student, task, state): count} as Prometheus last scraped it."""
    return {
        (r["metric"]["student"], r["metric"]["task"], r["metric"]["state"]): int(
            float(r["value"][1])
        )
        for r in prometheus.query("celerylab_tasks_total")
    }


@pytest.fixture(scope="module")
def class_working(stack, prometheus):
    """Both students of c101 in their labs, running tasks that succeed and fail."""
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    labs = {}
    for name in STUDENTS:
        stack.start(name)
        labs[name] = stack.lab(name, stack.token_for(name))
    wait_for("both labs scraped", lambda: set(STUDENTS) <= set(prometheus.up("labs")))
    for lab in labs.values():
        lab.write_file("tasks.py", TASKS)
        lab.run("import subprocess; subprocess.run(['celerylab-worker', 'restart'], check=True)")
    # Twice, a scrape apart: a task's series appears at its first run, and rates (the runtime
    # panel's quantiles) need an increase between two samples, as in any class. Earlier tests
    # may have run tasks in these labs: counts are compared with what was there before.
    before = task_counts(prometheus)
    expected = dict(before)
    for batch in (1, 2):
        for n, (name, lab) in enumerate(labs.items()):
            work(lab, succeed=3 + n, fail=1 + n)
            for task, state, k in (("add", "success", 3 + n), ("boom", "failure", 1 + n)):
                key = (name, f"tasks.{task}", state)
                expected[key] = expected.get(key, 0) + k
        wanted = dict(expected)
        wait_for(f"batch {batch} scraped", lambda w=wanted: task_counts(prometheus) == w)
    time.sleep(11)  # one more scrape, so the newest samples of every series are in
    yield labs, before
    for lab in labs.values():
        lab.close()


def test_prometheus_shows_hub_labs_course_and_host_up(class_working, prometheus):
    assert "hub:8081" in prometheus.up("hub")
    labs = prometheus.up("labs")
    for name in STUDENTS:
        assert labs[name]["labels"]["student"] == name
        assert labs[name]["labels"]["course"] == "c101"
        # on the compose network, not through the proxy (that would count as activity)
        url, _, query = labs[name]["scrapeUrl"].partition("?")
        assert url == f"http://{TEST_STACK.project}-lab-{name}:9100/metrics"
        assert query.startswith("token=")  # the lab's own token, from discovery
    wait_for("the course container scraped", lambda: "c101" in prometheus.up("courses"))
    assert "docker-host" in prometheus.up("node")


def test_task_counts_by_student_state_and_name(class_working, prometheus):
    _, before = class_working
    now = task_counts(prometheus)

    def added(student: str, task: str, state: str) -> int:
        key = (student, task, state)
        return now.get(key, 0) - before.get(key, 0)

    assert added("amy", "tasks.add", "success") == 2 * 3
    assert added("amy", "tasks.boom", "failure") == 2 * 1
    assert added("ben", "tasks.add", "success") == 2 * 4
    assert added("ben", "tasks.boom", "failure") == 2 * 2
    up = prometheus.query('celerylab_worker_up{course="c101"}')
    assert {r["metric"]["student"]: r["value"][1] for r in up} == {"amy": "1", "ben": "1"}
    queue = prometheus.query('celerylab_queue_length{student="amy", queue="celery"}')
    assert queue and queue[0]["value"][1] == "0"


def test_every_dashboard_panel_query_returns_data(class_working, prometheus):
    wait_for("the course container scraped", lambda: "c101" in prometheus.up("courses"))
    empty, only_nan = [], []
    for where, expr in dashboards.queries():
        result = prometheus.query(expr)
        values = [float(r["value"][1]) for r in result]
        if not result:
            empty.append(f"{where}: {expr}")
        elif all(math.isnan(v) for v in values):
            only_nan.append(f"{where}: {expr}")
    assert not empty, "panels without data:\n" + "\n".join(empty)
    assert not only_nan, "panels with only NaN:\n" + "\n".join(only_nan)


def test_a_student_cannot_read_other_students_metrics(class_working):
    amy = class_working[0]["amy"]
    project = TEST_STACK.project
    out = amy.run(
        "import os, urllib.request, urllib.error\n"
        "def status(url, token=None):\n"
        "    request = urllib.request.Request(url)\n"
        "    if token:\n"
        "        request.add_header('Authorization', f'Bearer {token}')\n"
        "    try:\n"
        "        return urllib.request.urlopen(request, timeout=10).status\n"
        "    except urllib.error.HTTPError as e:\n"
        "        return e.code\n"
        "    except OSError:\n"
        "        return 'unreachable'\n"
        "own_hash = os.environ['CELERYLAB_METRICS_TOKEN_SHA256']\n"
        "hub_token = os.environ['JUPYTERHUB_API_TOKEN']\n"
        f"print(status('http://{project}-lab-ben:9100/metrics'))\n"
        f"print(status('http://{project}-lab-ben:9100/metrics', own_hash))\n"
        "print(status('http://127.0.0.1:9100/metrics', own_hash))\n"
        "print(status('http://hub:9095/targets/labs', own_hash))\n"
        "print(status('http://prometheus:9090/api/v1/query?query=up'))\n"
        "print(status('http://hub:8081/hub/metrics', hub_token))\n"
        "print(status('http://node-exporter:9100/metrics'))\n"
    )
    ben_plain, ben_hash, own, discovery, prom, hub_metrics, node = out.split()
    assert own == "401"
    # Closed to labs altogether by their network fence (test_network_isolation), which only
    # Prometheus's password and the tokens stood behind before.
    assert (ben_plain, ben_hash, discovery) == ("unreachable",) * 3
    assert (prom, hub_metrics) == ("unreachable", "unreachable")
    assert node == "unreachable"  # the node exporter is only on the monitoring network


def test_a_captured_scrape_token_opens_only_the_students_own_metrics(class_working):
    """What Prometheus sends amy's lab (the student controls the process that receives it) is
    amy's own token: it opens neither ben's lab nor the discovery of who is online."""
    amy = class_working[0]["amy"]
    project = TEST_STACK.project
    root = compose("exec", "-T", "hub", "cat", "/srv/celerylab/secrets/metrics_scrape_token")
    captured = hmac.new(root.stdout.strip().encode(), b"lab:amy", hashlib.sha256).hexdigest()
    out = amy.run(
        "import urllib.request, urllib.error\n"
        "def status(url):\n"
        "    try:\n"
        "        return urllib.request.urlopen(url, timeout=10).status\n"
        "    except urllib.error.HTTPError as e:\n"
        "        return e.code\n"
        "    except OSError:\n"
        "        return 'unreachable'\n"
        f"print(status('http://127.0.0.1:9100/metrics?token={captured}'))\n"
        f"print(status('http://{project}-lab-ben:9100/metrics?token={captured}'))\n"
        f"print(status('http://hub:9095/targets/labs?token={captured}'))\n"
    )
    own, ben, discovery = out.split()
    assert (own, ben, discovery) == ("200", "unreachable", "unreachable")


def test_made_up_series_from_a_lab_are_capped(class_working, prometheus):
    """A lab's metrics endpoint is the student's own process: 5,000 invented series fail that
    lab's scrape (sample_limit) and none of them is stored."""
    ben = class_working[0]["ben"]
    invent = (
        "from prometheus_client import Counter\n"
        "c = Counter('made_up', 'x', ['n'])\n"
        "for i in range(5000):\n"
        "    c.labels(str(i)).inc()\n"
    )
    out = ben.run(
        "import os, subprocess, sys\n"
        "env = {**os.environ, 'PROMETHEUS_MULTIPROC_DIR': '/run/celerylab/metrics'}\n"
        f"p = subprocess.run([sys.executable, '-c', {invent!r}], env=env, check=True)\n"
        "print(sorted(os.listdir('/run/celerylab/metrics')))\n"
    )
    assert "counter_" in out, out
    try:
        wait_for(
            "ben's scrape refused for its sample count",
            lambda: any(
                t["labels"].get("instance") == "ben" and "sample limit" in t.get("lastError", "")
                for t in prometheus.targets()
            ),
            60,
        )
        assert prometheus.query("count(made_up_total)") == []
    finally:  # only the invented series' file: ben's worker keeps its counters
        ben.run(
            "import os\n"
            "for f in os.listdir('/run/celerylab/metrics'):\n"
            "    path = os.path.join('/run/celerylab/metrics', f)\n"
            "    if b'made_up' in open(path, 'rb').read():\n"
            "        os.remove(path)\n"
        )


def test_a_hung_lab_fails_only_its_own_scrape_and_a_stopped_lab_leaves(stack, prometheus):
    name = "monitor-carol"
    container = f"{TEST_STACK.project}-lab-monitor-2dcarol"  # DockerSpawner escapes '-'
    stack.ensure_user(name)
    stack.start(name)
    wait_for("the new lab scraped", lambda: name in prometheus.up("labs"), 45)
    # Frozen: its endpoint takes connections but never answers, the slowest exporter there is.
    subprocess.run(["docker", "pause", container], check=True, capture_output=True)
    try:
        wait_for(
            "the frozen lab's scrape failing",
            lambda: any(
                t["labels"].get("instance") == name and t["health"] == "down"
                for t in prometheus.targets()
            ),
            45,
        )
        paused_at = time.time()
        scraped = wait_for(
            "the other labs scraped since",
            lambda: (
                (labs := prometheus.up("labs"))
                and all(_scraped_after(labs.get(s), paused_at) for s in STUDENTS)
                and labs
            ),
            30,
        )
        assert set(STUDENTS) <= set(scraped)
    finally:
        subprocess.run(["docker", "unpause", container], capture_output=True)
    stack.stop(name)
    wait_for(
        "the stopped lab gone from the targets",
        lambda: name not in {t["labels"].get("instance") for t in prometheus.targets()},
        45,
    )


def _scraped_after(target: dict | None, when: float) -> bool:
    if not target:
        return False
    base, _, fraction = target["lastScrape"].rstrip("Z").partition(".")  # nanoseconds: cut
    last = datetime.fromisoformat(base).replace(tzinfo=UTC).timestamp() + float(
        f"0.{fraction or 0}"
    )
    return last > when
