"""The small HTML pages a lab serves through jupyter-server-proxy (worker, courses).

Each listens on 127.0.0.1 only, started on first use by jupyter-server-proxy, so only the lab's
owner (through the hub's authentication) ever reaches it.
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: JupyterLab's light theme (its fonts, colours, buttons): the pages open as lab tabs.
STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
    "font-size:13px;color:rgba(0,0,0,.87);margin:1.5em;max-width:60em}"
    "h1{font-size:1.6em;font-weight:500}h2{font-size:1.3em;font-weight:500}"
    "a{color:#1976d2}pre{background:#f5f5f5;border:1px solid #e0e0e0;padding:1em;overflow:auto;"
    "max-height:30em}button{font:inherit;background:#1976d2;color:#fff;border:0;border-radius:2px;"
    "padding:.35em .9em;cursor:pointer}button:disabled{background:#bdbdbd;cursor:default}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #e0e0e0;padding:.3em .8em;"
    "text-align:left}.err{color:#d32f2f}.late{color:#d32f2f}.ok{color:#388e3c}"
    "nav{margin-bottom:1em;color:#616161}"
)
#: Every action may take seconds (restarting a worker, starting a grading run): its button says
#: so at once and cannot be pressed twice.
BUSY = (
    "<script>document.addEventListener('submit',e=>{for(const b of "
    "e.target.querySelectorAll('button')){b.disabled=true;"
    "b.textContent=b.dataset.busy||'Working…'}});</script>"
)


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{body}{BUSY}</body></html>"
    )


class PageHandler(BaseHTTPRequestHandler):
    def send(self, code: int, body: str, content_type: str = "text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def cross_site(self) -> bool:
        """Form posts from other sites are refused (browsers mark them; proxies may rewrite
        Host, so Origin cannot be compared)."""
        return self.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")

    def log_message(self, *args):
        pass


def serve(handler: type[PageHandler]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), handler).serve_forever()
