"""The Professional, Expert and Track A example applications work as their Usage docstrings say,
against a real Redis and worker (the Usage-docstring check itself is in test_course_examples)."""

import json
from pathlib import Path

import pytest
from celerylab_course import labkit

EXAMPLES = Path(__file__).resolve().parents[2] / "course" / "examples"

pytestmark = pytest.mark.redis


@pytest.fixture
def lab(request):
    lab = labkit.Lab(request.param, EXAMPLES)
    yield lab
    lab.close()


@pytest.mark.parametrize("lab", ["p09_etl"], indirect=True)
def test_p09_etl(lab, tmp_path, capsys):
    sales = tmp_path / "sales.csv"
    sales.write_text("id,name,amount\n1,Ada,10\n2,,5\n3,Bob,2.5\n4,Cy,-1\n")
    assert lab.module.main([str(sales), "--batch-size", "2"]) == 0
    report, stages = capsys.readouterr().out.splitlines()
    got = json.loads(report)
    assert got.pop("run_id")
    assert got == {"loaded": 2, "rejected": ["2", "4"], "total": 12.5}
    assert stages == "stages: extract -> fan_out -> load"
    sales.write_text("id,name\n1,Ada\n")
    assert lab.module.main([str(sales)]) == 1
    assert "FAILURE: missing columns: amount" in capsys.readouterr().out


@pytest.mark.parametrize("lab", ["p10_exporter"], indirect=True)
def test_p10_exporter_serves_counts_from_live_events(lab):
    import threading
    import urllib.request

    ex, port, stop = lab.module, labkit.free_port(), threading.Event()
    runner = threading.Thread(target=ex.serve, args=(port,), kwargs={"stop": stop}, daemon=True)
    runner.start()

    def scrape():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            return r.read().decode()

    def counted(state):
        return f'celery_tasks_total{{name="p10_exporter.work",state="{state}"}}' in scrape()

    try:
        # the event receiver subscribes a moment after /metrics answers: send until counted
        labkit.wait_for(
            lambda: ex.work.delay(1).get(timeout=10) and counted("succeeded"),
            20,
            interval=0.3,
            what="a succeeded work task in the exporter's metrics",
        )
        ex.work.delay(-1).get(timeout=10, propagate=False)
        labkit.wait_for(lambda: counted("failed"), 10, what="the failed work task")
        assert 'celery_task_runtime_seconds_count{name="p10_exporter.work"}' in scrape()
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


@pytest.mark.parametrize("lab", ["p12_payments"], indirect=True)
def test_p12_payments_once_per_id_and_dead_letters(lab, capsys):
    ex = lab.module
    assert ex.main(["pay-1", "alice", "500"]) == 0
    assert ex.main(["pay-1", "alice", "500"]) == 0
    assert capsys.readouterr().out.split() == ["500", "500"]
    assert ex.main(["pay-2", "alice", "-5"]) == 1
    out = capsys.readouterr().out
    assert "FAILURE: cents must be a positive int" in out
    assert '"payment_id": "pay-2", "error": "ValueError"' in out


@pytest.mark.parametrize("lab", ["p13_hardened"], indirect=True)
def test_p13_hardened_refuses_pickle_and_redacts(lab, capsys):
    assert lab.module.main([]) == 0
    out = capsys.readouterr().out
    assert "recorded: ['json']" in out
    assert lab.redis.password not in out and ":***@" in out


def test_p11_tuning_limits_hold(capsys):
    lab = labkit.Lab("p11_tuning", EXAMPLES, queues=["io", "cpu"], concurrency=2)
    try:
        assert lab.module.main(["6"]) == 0
    finally:
        lab.close()
    calls, runaway = capsys.readouterr().out.splitlines()
    assert float(calls.split(" in ")[1].rstrip(" s")) >= 0.9, calls  # 6 calls at 5 per second
    assert runaway == "runaway: stopped at the soft time limit"


@pytest.mark.parametrize("lab", ["p14_autoscaler"], indirect=True)
def test_p14_autoscaler_decides_from_the_backlog(lab, capsys):
    assert lab.module.main(["--queue", "reports", "--fill", "45"]) == 0
    assert capsys.readouterr().out.strip() == "reports: 45 waiting -> 5 workers"
    assert lab.module.decide(0, current=5) == 4


def test_a1_django_orders_process_after_commit(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("A1_DB", str(tmp_path / "orders.sqlite3"))
    lab = labkit.Lab("a1_django_orders", EXAMPLES, concurrency=1)
    try:
        ex = lab.module
        assert ex.main(["setup"]) == 0
        assert ex.main(["order", "ada", "pen", "2"]) == 0
        assert ex.main(["order", "bob", "pen", "99"]) == 1
        assert capsys.readouterr().out.split() == ["ready", "confirmed", "rejected"]
        assert ex.Product.objects.get(sku="pen").stock == 8
    finally:
        lab.close()
