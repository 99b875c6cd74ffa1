"""Links into the course tools that go somewhere.

- nbgrader's Course List asks the lab's `/formgraders`. nbgrader's own answer looks for a hub
  service named after each course and found none (ours are formgrader-<course>), so it said there
  were no formgraders. Here the lab answers with the formgraders the hub gave this user
  (CELERYLAB_FORMGRADERS, from the course declarations); a course container answers with its own.
- The formgrader, in its own browser tab, links a course's files to `/tree/<path>` at the root
  of its origin. On a course container's origin the proxy sends those paths here
  (celerylab_hub.services.course_link_routes), and they are redirected into the course's
  JupyterLab on the same origin.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

#: nbgrader's formgrader link kinds (its utils.js `linkTo`), all opened in JupyterLab.
FILE_LINKS = r"/(?:tree|notebooks|edit)/(.*)"


def formgraders(environ=os.environ) -> list[dict]:
    """What nbgrader's Course List shows: course_id (our course's title), url and kind."""
    course = environ.get("CELERYLAB_COURSE")
    public = environ.get("JUPYTERHUB_PUBLIC_URL")
    if course and public:  # a course container: its own formgrader
        title = json.loads(course)["title"]
        return [{"course_id": title, "url": f"{public}formgrader", "kind": "formgrader"}]
    return json.loads(environ.get("CELERYLAB_FORMGRADERS") or "[]")


class FormgradersHandler(JupyterHandler):
    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"success": True, "value": formgraders()}))


class FileLinkHandler(JupyterHandler):
    """`/tree/<path>` at the origin's root → this server's JupyterLab, opened at <path>."""

    @allow_unauthenticated  # only a redirect: its target asks for the login
    def get(self, path: str):
        target = url_path_join(self.base_url, "lab/tree", quote(path.strip("/")))
        self.redirect(target)


def _load_jupyter_server_extension(server_app):
    web_app = server_app.web_app
    base_url = web_app.settings["base_url"]
    handlers = [(url_path_join(base_url, "formgraders"), FormgradersHandler)]
    if os.environ.get("CELERYLAB_COURSE"):
        # Not under base_url: the proxy routes only these paths of the course's own origin here.
        handlers.append((FILE_LINKS, FileLinkHandler))
    web_app.add_handlers(".*$", handlers)
