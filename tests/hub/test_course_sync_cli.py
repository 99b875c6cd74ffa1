"""`celerylab courses sync` never loses handed-out passwords and never claims a course works
before the hub has loaded it."""

import csv
import stat

import pytest
from celerylab_hub import cli, coursesync
from celerylab_hub.courses import Course


def test_credentials_go_to_a_new_private_file(tmp_path):
    out = tmp_path / "initial-passwords.csv"
    cli._write_credentials({"bob": "pw-b", "amy": "pw-a"}, str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert list(csv.reader(out.open())) == [
        ["username", "initial_password"],
        ["amy", "pw-a"],
        ["bob", "pw-b"],
    ]


def test_handed_out_passwords_are_never_overwritten(tmp_path):
    out = tmp_path / "credentials.csv"
    cli._write_credentials({"amy": "first"}, str(out))
    before = out.read_bytes()
    with pytest.raises(OSError, match="never overwritten"):
        cli._write_credentials({}, str(out))
    assert out.read_bytes() == before


def answers(services: dict):
    """The hub's answer to GET /services (a dict keyed by service name, as JupyterHub's API)."""

    def request(method, path, body=None):
        assert (method, path) == ("GET", "/services")
        return 200, services

    return request


def course(cid: str) -> Course:
    return Course(id=cid, title=cid.upper(), instructors=("ida",))


def test_a_course_the_hub_has_not_loaded_is_named():
    hub = answers({"formgrader-c101": {}, "celerylab-exchange": {}})
    assert [c.id for c in coursesync.unloaded(hub, [course("c101"), course("new")])] == ["new"]
    assert coursesync.unloaded(hub, [course("c101")]) == []


def test_a_hub_that_cannot_list_services_is_an_error():
    with pytest.raises(coursesync.SyncError, match="listing services failed"):
        coursesync.unloaded(lambda *a, **k: (403, {"message": "no"}), [course("c101")])


def test_not_ready_message_names_the_course_and_the_next_step(capsys):
    cli._report_unloaded([course("uxcourse")])
    err = capsys.readouterr().err
    assert "course uxcourse: NOT READY" in err
    assert "docker compose restart hub" in err
    assert "scripts/courses-sync.sh" in err


def test_a_hub_too_busy_to_answer_gets_a_message_saying_what_to_do(monkeypatch):
    """A real HTTP server that answers too late (as a hub hashing a class's passwords on a
    loaded host did in a live run: the CLI printed only 'timed out')."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            time.sleep(2)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(cli, "HUB_API", f"http://127.0.0.1:{server.server_address[1]}/hub/api")
    monkeypatch.setattr(cli, "HUB_TIMEOUT", 0.5)
    try:
        with pytest.raises(
            cli.HubError, match=r"did not answer POST /celerylab/passwords.*--reset"
        ):
            cli.hub_request("token", "POST", "/celerylab/passwords", {"usernames": ["amy"]})
    finally:
        server.shutdown()
