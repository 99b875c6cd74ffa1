"""The small HTML pages a lab serves through jupyter-server-proxy (worker, courses).

Each listens on 127.0.0.1 only, started on first use by jupyter-server-proxy, so only the lab's
owner (through the hub's authentication) ever reaches it.
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}"
    "pre{background:#f4f4f4;padding:1em;overflow:auto;max-height:30em}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .8em;"
    "text-align:left}.err{color:#a00}.late{color:#a00}.ok{color:#080}"
)


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
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
