"""The "Celery worker" launcher page: status, the last log lines, and a restart button.

Uses the same functions as the `celerylab-worker` command.
"""

import html
import subprocess
from urllib.parse import parse_qs, urlsplit

from celerylab_lab import paths
from celerylab_lab.cli import read_status
from celerylab_lab.pages import PageHandler, page, serve

#: What the page says after a restart (the button said "Restarting…" while it ran).
RESTARTED = {
    "ok": "<p class=ok>Worker restarted: it is ready with your current code.</p>",
    "failed": "<p class=err>The worker was restarted but is not ready (see below and the log).</p>",
}
BODY = """<h1>Your Celery worker</h1>{restarted}<p>{summary}</p>{error}
<form method="post" action="restart"><button data-busy="Restarting…">Restart worker</button>
<small> (after you edit task code; in a terminal: <code>celerylab-worker restart</code>)</small>
</form><h2>Log</h2><pre>{log}</pre>"""


def tail(lines: int = 40) -> str:
    try:
        return "\n".join(paths.WORKER_LOG.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log yet)"


class Handler(PageHandler):
    def do_GET(self):
        s = read_status()
        summary = (
            f"App <code>{html.escape(s['app'])}</code> "
            f"from <code>{html.escape(s['workdir'])}</code>, "
            f"pool {html.escape(s['pool'])}, concurrency {html.escape(str(s['concurrency']))}: "
            f"<b>{'ready' if s.get('ready') else 'starting'}</b>"
            if s
            else "The worker has not started yet."
        )
        error = (
            f"<p class=err>Your app did not import; the worker runs an empty app:</p>"
            f"<pre class=err>{html.escape(s['import_error'])}</pre>"
            if s.get("import_error")
            else ""
        )
        outcome = parse_qs(urlsplit(self.path).query).get("restarted", [""])[0]
        body = BODY.format(
            restarted=RESTARTED.get(outcome, ""),
            summary=summary,
            error=error,
            log=html.escape(tail()),
        )
        self.send(200, page("Celery worker", body))

    def do_POST(self):
        if self.cross_site():
            self.send(403, "cross-site request refused")
            return
        done = subprocess.run(["celerylab-worker", "restart", "--wait", "30"], capture_output=True)
        self.send_response(303)
        self.send_header("Location", f"./?restarted={'ok' if done.returncode == 0 else 'failed'}")
        self.end_headers()


if __name__ == "__main__":
    serve(Handler)
