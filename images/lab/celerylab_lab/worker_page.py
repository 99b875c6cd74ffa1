"""The "Celery worker" launcher page: status, the last log lines, and a restart button.

Served on 127.0.0.1 behind jupyter-server-proxy (so only the lab's owner reaches it), using the
same functions as the `celerylab-worker` command.
"""

import argparse
import html
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celerylab_lab import paths
from celerylab_lab.cli import read_status

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Celery worker</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}pre{{background:#f4f4f4;
padding:1em;overflow:auto;max-height:30em}}.err{{color:#a00}}</style></head><body>
<h1>Your Celery worker</h1><p>{summary}</p>{error}
<form method="post" action="restart"><button>Restart worker</button>
<small> (after you edit task code; in a terminal: <code>celerylab-worker restart</code>)</small>
</form><h2>Log</h2><pre>{log}</pre></body></html>"""


def tail(lines: int = 40) -> str:
    try:
        return "\n".join(paths.WORKER_LOG.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log yet)"


class Handler(BaseHTTPRequestHandler):
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
        self._send(200, PAGE.format(summary=summary, error=error, log=html.escape(tail())))

    def do_POST(self):
        # Refuse form posts from other sites (browsers mark them; proxies may rewrite Host).
        if self.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            self._send(403, "cross-origin request refused")
            return
        subprocess.run(["celerylab-worker", "restart", "--wait", "30"], capture_output=True)
        self.send_response(303)
        self.send_header("Location", "./")
        self.end_headers()

    def _send(self, code: int, body: str):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
