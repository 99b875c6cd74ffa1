"""The example applications under course/examples/: each has a Usage docstring, and works as
its docstring says against a real Redis and worker."""

import ast
from pathlib import Path

import pytest
from celerylab_course import labkit

EXAMPLES = Path(__file__).resolve().parents[2] / "course" / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_has_usage_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Usage:" in doc, f"{path.name} needs a Usage section naming the exact commands"


@pytest.fixture
def lab(request):
    lab = labkit.Lab(request.param, EXAMPLES)
    yield lab
    lab.close()


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f02_calculator"], indirect=True)
def test_f02_calculator(lab, capsys):
    calc = lab.module
    assert calc.main(["7", "/", "2"]) == 0
    assert capsys.readouterr().out.strip() == "3.5"
    assert calc.main(["1", "/", "0"]) == 1
    assert "FAILURE: ZeroDivisionError" in capsys.readouterr().out
    with pytest.raises(TypeError):
        calc.add.delay(True, 1).get(timeout=10)


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f01_healthcheck"], indirect=True)
def test_f01_healthcheck(lab, capsys):
    hc = lab.module
    flower = labkit.Flower("f01_healthcheck", lab.broker_url, lab.backend_url, EXAMPLES).start()
    try:
        assert hc.main(["--broker", lab.broker_url, "--flower", flower.url]) == 0
    finally:
        flower.stop()
    out = capsys.readouterr().out
    assert "ok   redis" in out and "ok   worker" in out and "ok   flower" in out
    closed = f"redis://127.0.0.1:{labkit.free_port()}/0"
    assert hc.main(["--broker", closed]) == 1
    assert "FAIL redis" in capsys.readouterr().out


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f03_robust_tasks"], indirect=True)
def test_f03_robust_tasks(lab, capsys):
    ex = lab.module
    assert ex.main(['{"id": "A-1", "items": [{"qty": 3, "price": "0.10"}]}']) == 0
    assert capsys.readouterr().out.strip() == '{"id": "A-1", "total": "0.30"}'
    assert ex.main(['{"id": "A-2", "items": [{"qty": 0, "price": "1"}]}']) == 1
    assert "FAILURE: ValueError" in capsys.readouterr().out
    sent = ex.notify.delay("ada@example.com", fail_times=1).get(timeout=20)
    assert sent == {"sent_to": "ada@example.com", "attempts": 2}


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f04_progress"], indirect=True)
def test_f04_progress(lab, capsys):
    assert lab.module.main(["4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].endswith("4/4") and "####" in lines[-1]
    assert any(line.endswith(("1/4", "2/4", "3/4")) for line in lines), lines


@pytest.mark.redis
def test_f05_routing_each_queue_reaches_its_worker():
    lab = labkit.Lab("f05_routing", EXAMPLES, queues=["email"])
    try:
        ex = lab.module
        assert ex.where(ex.send_email) == "email" and ex.where(ex.resize_thumbnail) == "images"
        assert ex.send_email.delay("ada@example.com").get(timeout=10) == "mailed ada@example.com"
        general = labkit.Worker(
            "f05_routing", lab.broker_url, lab.backend_url, EXAMPLES, queues=["celery", "images"]
        ).start()
        try:
            assert ex.main([]) == 0
        finally:
            general.close()
    finally:
        lab.close()


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f06_wordcount"], indirect=True)
def test_f06_wordcount(lab, capsys):
    assert lab.module.main(["to be or not", "to be is to do"]) == 0
    assert capsys.readouterr().out.strip() == '[["to", 3], ["be", 2], ["do", 1]]'


@pytest.mark.redis
def test_f07_scheduled_beat_fires_and_crontab_is_weekly(tmp_path):
    lab = labkit.Lab(
        "f07_scheduled",
        EXAMPLES,
        extra_args=("--beat", f"--schedule={tmp_path}/beat"),
        env={"SCHEDULED_REFRESH_SECONDS": "0.5"},
    )
    try:
        counter = lab.redis.client(0)
        labkit.wait_for(
            lambda: int(counter.get("f07_scheduled:refreshes") or 0) >= 2,
            15,
            what="two refreshes from beat",
        )
        weekly = lab.module.app.conf.beat_schedule["weekly-summary"]["schedule"]
        assert (weekly.hour, weekly.minute, weekly.day_of_week) == ({6}, {0}, {1})
        waits = lab.module.next_runs()
        assert all(0 <= w.total_seconds() <= 7 * 86400 for w in waits.values()), waits
    finally:
        lab.close()


@pytest.mark.redis
@pytest.mark.parametrize("lab", ["f08_inventory"], indirect=True)
def test_f08_inventory(lab, capsys):
    inv = lab.module
    assert inv.main(["add", "pen", "5"]) == 0
    assert inv.main(["remove", "pen", "7"]) == 1
    assert "FAILURE: only 5 of pen in stock" in capsys.readouterr().out
    # idempotent under redelivery: the same request id applied twice changes stock once
    assert inv._apply("req-1", "cup", 2) == 2
    assert inv._apply("req-1", "cup", 2) == 2
