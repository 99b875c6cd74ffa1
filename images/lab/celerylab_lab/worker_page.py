"""The "Celery worker" launcher page: status, the last log lines, and a restart button.

Uses the same functions as the `celerylab-worker` command.
"""

import html
import subprocess

from celerylab_lab import paths
from celerylab_lab.cli import read_status
from celerylab_lab.pages import PageHandler, page, serve

BODY = """<h1>Your Celery worker</h1><p>{summary}</p>{error}
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
        body = BODY.format(summary=summary, error=error, log=html.escape(tail()))
        self.send(200, page("Celery worker", body))

    def do_POST(self):
        if self.cross_site():
            self.send(403, "cross-site request refused")
            return
        subprocess.run(["celerylab-worker", "restart", "--wait", "30"], capture_output=True)
        self.send_response(303)
        self.send_header("Location", "./")
        self.end_headers()


if __name__ == "__main__":
    serve(Handler)
