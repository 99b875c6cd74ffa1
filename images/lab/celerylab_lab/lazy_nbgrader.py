"""Load nbgrader's student server extensions on first use instead of at start.

Importing them costs ~31 MB in every lab's Jupyter server, paid even by labs whose student never
opens the Assignments tab. This extension claims their URLs; the first request loads the real
extensions, removes this claim from the router, and answers 307 so the browser repeats the same
request (same method and body) against nbgrader's own handlers.
"""

from importlib import import_module

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

EXTENSIONS = (
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.course_list",
)
#: Not /formgraders: celerylab_lab.course_links answers it (nbgrader's answer finds none of ours).
ROUTES = (r"/assignments.*", r"/courses", r"/nbgrader_version")


class LazyNbgraderHandler(JupyterHandler):
    loaded = False

    @web.authenticated
    def load_and_repeat(self, *args, **kwargs):
        if not LazyNbgraderHandler.loaded:
            server_app = self.settings["celerylab_server_app"]
            for name in EXTENSIONS:
                import_module(name).load_jupyter_server_extension(server_app)
            _drop_own_rules(self.application)
            LazyNbgraderHandler.loaded = True
        self.redirect(self.request.uri, status=307)

    get = post = put = patch = delete = load_and_repeat


def _drop_own_rules(app) -> None:
    for router in (app.default_router, app.wildcard_router):
        router.rules[:] = [r for r in router.rules if not _claims(r)]


def _claims(rule) -> bool:
    inner = getattr(rule.target, "rules", [])
    return bool(inner) and all(getattr(r, "target", None) is LazyNbgraderHandler for r in inner)


def _load_jupyter_server_extension(server_app):
    web_app = server_app.web_app
    web_app.settings["celerylab_server_app"] = server_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [(url_path_join(base_url, p), LazyNbgraderHandler) for p in ROUTES])
