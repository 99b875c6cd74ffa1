"""The hub process: JupyterHub, serving its own pages only on its own host.

With `subdomain_host`, JupyterHub is the proxy's default route for every host, so that it can
answer `/user/<name>/` for a lab that is not running. That also means it answers `/hub/login`
on `alice.<domain>`: a link to `https://alice.<domain>/hub/home` shows the real login form on a
student's origin, and a victim who logs in there gets a hub session that the student's own pages
on that origin can use (read the xsrf token from /hub/home, create an API token). Tried live
and it worked, so the hub now refuses its pages on any other subdomain: a GET is redirected to
the same path on the hub's host, anything else gets 403. Requests from inside (labs and
services calling the hub API at http://hub:8081) carry another host and are not affected.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from jupyterhub.app import JupyterHub
from tornado import web


class HubHostOnly(web.RequestHandler):
    """Answers /hub/* on a user's or service's subdomain."""

    def initialize(self, hub_url: str) -> None:
        self.hub_url = hub_url

    def get(self, *_args) -> None:
        self.redirect(self.hub_url + self.request.uri)

    head = get

    def prepare(self) -> None:
        if self.request.method not in ("GET", "HEAD"):
            raise web.HTTPError(403, f"the hub answers only at {self.hub_url}")


def subdomain_pattern(hub_host: str) -> str:
    """Hosts strictly below the hub's (tornado matches it against the host without port)."""
    return rf".+\.{re.escape(hub_host)}"


class CeleryLabHub(JupyterHub):
    def init_tornado_application(self) -> None:
        super().init_tornado_application()
        if not self.subdomain_host:
            return
        hub_url = self.subdomain_host.rstrip("/")
        # Host rules are tried before the application's wildcard ones (tornado's add_handlers).
        self.tornado_application.add_handlers(
            subdomain_pattern(urlparse(hub_url).hostname),
            [(rf"{re.escape(self.hub_prefix)}.*", HubHostOnly, {"hub_url": hub_url})],
        )


main = CeleryLabHub.launch_instance

if __name__ == "__main__":
    main()
