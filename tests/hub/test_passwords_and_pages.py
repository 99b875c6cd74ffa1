"""Issued passwords must be changed at first login, and the hub's pages name the product, the
courses (by title) and "Change password" (issue 17 items 5 and 6). Real RosterAuthenticator on
a real JupyterHub database; pages rendered by JupyterHub's own templates with ours first, the
way the hub loads them."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from celerylab_hub import config
from celerylab_hub.auth import RosterAuthenticator
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyterhub.app import JupyterHub
from traitlets.config import Config


@pytest.fixture
def auth(db):
    return RosterAuthenticator(db=db)


def test_an_issued_password_must_be_changed_once(auth):
    auth.set_password("amy", "handed-out-1")
    assert auth.must_change_password("amy")
    assert not auth.change_password("amy", "handed-out-1"), "keeping the issued one is refused"
    assert auth.must_change_password("amy")
    assert auth.change_password("amy", "amy's own passphrase")
    assert not auth.must_change_password("amy")
    assert auth.has_password("amy", "amy's own passphrase")
    auth.set_password("amy", "reset-by-admin-2")  # a reset is issued again
    assert auth.must_change_password("amy")


def test_a_user_without_an_issued_password_is_not_asked(auth):
    assert not auth.must_change_password("nobody")


@pytest.fixture
def hub_config(secrets_dir, tmp_path) -> Config:
    """The hub's configuration with one declared course."""
    courses = tmp_path / "courses"
    courses.mkdir()
    (courses / "c1.yaml").write_text("id: c1\ntitle: Celery Foundations\ninstructors: [ida]\n")
    c = Config()
    config.apply(
        c, {"CELERYLAB_SECRETS_DIR": str(secrets_dir), "CELERYLAB_COURSES_DIR": str(courses)}
    )
    return c


@pytest.fixture
def render(hub_config):
    """Render a page with JupyterHub's loader (JupyterHub.init_tornado_settings): our
    template_paths first, then JupyterHub's own, which ours extend as templates/<name>."""
    base = JupyterHub()._template_paths_default()[0]
    loader = ChoiceLoader(
        [
            PrefixLoader({"templates": FileSystemLoader([base])}, "/"),
            FileSystemLoader([*hub_config.JupyterHub.template_paths, base]),
        ]
    )
    jinja = Environment(loader=loader, autoescape=True)
    common = {
        "base_url": "/hub/",
        "static_url": lambda p, **k: f"/hub/static/{p}",
        "logo_url": "",
        "xsrf": "x",
        "services": [],
        "parsed_scopes": {},
        "version_hash": "",
        "no_spawner_check": True,
        "authenticator_login_url": "/hub/login",
        "login_service": None,
        "user": None,
        "authenticator": SimpleNamespace(request_otp=False),
        **hub_config.JupyterHub.template_vars,
    }
    return lambda name, **ns: jinja.get_template(name).render(**{**common, **ns})


def test_the_login_page_names_the_product_and_courses(render):
    html = render("login.html")
    assert "<h1>celerylab</h1>" in html
    assert "Celery Foundations" in html
    assert "<title>celerylab</title>" in html.replace("\n", "")


def test_the_navigation_offers_change_password_and_course_titles(render, hub_config):
    service = SimpleNamespace(
        name="formgrader-c1",
        href="/services/formgrader-c1/",
        info=next(s for s in hub_config.JupyterHub.services if s["name"] == "formgrader-c1")[
            "info"
        ],
    )
    user = SimpleNamespace(name="ida", admin=False, running=False, spawners={})
    html = render("page.html", user=user, services=[service])
    assert 'href="/hub/change-password">Change password</a>' in html
    assert "Celery Foundations: grading" in html
    # The service's own origin with the public port (JupyterHub's //<domain><prefix> drops it).
    own = "http://formgrader-c1--service.celerylab.localhost:8000/services/formgrader-c1/"
    assert f'href="{own}">Celery Foundations: grading' in html
    assert f'href="{own}grade-all/">Celery Foundations: grade all' in html
    assert ">formgrader-c1<" not in html


def test_change_password_says_why_and_offers_a_way_on(render):
    asked = render("change-password.html", user_name="amy", must_change=True, next_url="/hub/")
    assert 'id="must-change"' in asked and 'id="continue"' not in asked
    done = render(
        "change-password.html",
        user_name="amy",
        alert="alert-success",
        result_message="Your password has been changed successfully!",
        next_url="/hub/spawn",
    )
    assert '<a id="continue" class="btn btn-jupyter" href="/hub/spawn">Continue</a>' in done


def test_templates_ship_with_the_package():
    folder = Path(config.__file__).parent / "templates"
    assert {p.name for p in folder.glob("*.html")} == {
        "page.html",
        "login.html",
        "change-password.html",
    }


def test_an_issued_password_bars_the_hubs_pages_and_labs_not_the_way_to_change_it(auth):
    from celerylab_hub.auth import OwnPasswordFirst

    routes = {pattern: handler for pattern, handler, *_ in auth.get_handlers(None)}
    guarded = {p for p, h in routes.items() if issubclass(h, OwnPasswordFirst)}
    assert {
        r"/home",
        r"/spawn",
        r"/user/(?P<user_name>[^/]+)(?P<user_path>/.*)?",
        r"/user-redirect/(.*)?",
        r"/api/oauth2/authorize",
        r"/admin",
    } <= guarded
    assert not guarded & {r"/login", r"/logout", r"/change-password"}, guarded
