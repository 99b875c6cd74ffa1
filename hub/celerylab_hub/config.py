"""Turn the environment into JupyterHub configuration (called by jupyterhub_config.py).

`apply` only *sets* values: it reads CELERYLAB_* variables through the settings table, picks the
authenticator, and wires secrets, services and roles. Invalid settings stop the hub with a
message naming each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from celerylab_hub import courses, secrets
from celerylab_hub.coursecontainers import service_origin
from celerylab_hub.options import CeleryLabOptions
from celerylab_hub.services import (
    EXCHANGE,
    EXCHANGE_URL,
    SERVER_TOKEN_SCOPES,
    course_groups,
    course_link_routes,
    course_roles,
    course_services,
    monitoring_roles,
    monitoring_services,
    roles,
    services,
    staff_formgraders,
)
from celerylab_hub.settings import ConfigError, load_env, public_url
from celerylab_hub.spawner import CeleryLabSpawner

#: The product's name on the hub's pages.
PRODUCT = "celerylab"
AUTHENTICATORS = {
    "native": "celerylab_hub.auth.RosterAuthenticator",
    "lti13": "ltiauthenticator.lti13.auth.LTI13Authenticator",
    "oauth": "oauthenticator.generic.GenericOAuthenticator",
}
#: Settings without which a login provider cannot work.
REQUIRED = {
    "lti13": (
        "CELERYLAB_LTI13_CLIENT_ID",
        "CELERYLAB_LTI13_ISSUER",
        "CELERYLAB_LTI13_AUTHORIZE_URL",
        "CELERYLAB_LTI13_JWKS_URL",
    ),
    "oauth": (
        "CELERYLAB_OAUTH_CLIENT_ID",
        "CELERYLAB_OAUTH_CLIENT_SECRET",
        "CELERYLAB_OAUTH_CALLBACK_URL",
        "CELERYLAB_OAUTH_AUTHORIZE_URL",
        "CELERYLAB_OAUTH_TOKEN_URL",
        "CELERYLAB_OAUTH_USERDATA_URL",
    ),
}


def hub_csp(hub_url: str) -> str:
    """The hub's Content-Security-Policy: its pages load only from itself, cannot be framed,
    and its forms (login, OAuth consent) may lead only to the hub and its labs' subdomains.
    Inline scripts stay allowed: JupyterHub's own templates carry them (they render no
    student-written HTML; everything else a student writes is served from their own origin)."""
    scheme, _, host = hub_url.partition("://")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {scheme}://*.{host}",
            "frame-ancestors 'none'",
        ]
    )


def apply(c, environ: Mapping[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    try:
        load_env(c, environ)
        options = CeleryLabOptions(config=c)
        missing = [name for name in REQUIRED.get(options.auth, ()) if not environ.get(name)]
        if missing:
            raise ConfigError(f"CELERYLAB_AUTH={options.auth} needs: {', '.join(missing)}")
        declared = (
            courses.load_all(options.courses_dir) if Path(options.courses_dir).is_dir() else []
        )
        ops_token = secrets.read(options.secrets_dir, "ops_api_token")
        exchange_token = secrets.read(options.secrets_dir, "exchange_api_token")
        proxy_token = secrets.read(options.secrets_dir, "proxy_auth_token")
        prometheus_token = secrets.read(options.secrets_dir, "prometheus_hub_token")
        metrics_root = secrets.read(options.secrets_dir, "metrics_scrape_token")
    except (ConfigError, courses.CourseError, FileNotFoundError) as e:
        details = "\n".join(f"  - {line}" for line in str(e).splitlines())
        raise SystemExit(
            f"celerylab: invalid configuration; the hub will not start:\n{details}"
        ) from e

    # Every lab and course service on its own origin (<name>.<host>): never one shared with the
    # hub or with another student (docs/architecture.md, "Threat model").
    c.JupyterHub.subdomain_host = hub_url = public_url(environ)
    c.JupyterHub.tornado_settings = {
        "headers": {"Content-Security-Policy": hub_csp(hub_url)},
        # Every cookie Secure, the labs' too (JupyterHub passes these to them): __Host- cookies
        # need it, and JupyterHub marks them so only over https (*.localhost is plain http).
        "cookie_options": {"secure": True},
    }
    c.JupyterHub.authenticator_class = AUTHENTICATORS[options.auth]
    # The hub's pages name the product and its courses, offer "Change password" where the hub
    # keeps passwords, and show courses by title (celerylab_hub/templates).
    c.JupyterHub.template_paths = [str(Path(__file__).parent / "templates")]
    c.JupyterHub.template_vars = {
        "celerylab_product": PRODUCT,
        "celerylab_courses": [d.title for d in declared],
        "celerylab_passwords": options.auth == "native",
        # Each course service's full address: JupyterHub's own link (`//<domain><prefix>`)
        # drops the public port, so on :8000 its Services menu led nowhere.
        "celerylab_course_urls": {
            d.formgrader_service: f"{service_origin(hub_url, d.formgrader_service)}"
            f"/services/{d.formgrader_service}/"
            for d in declared
        },
    }
    c.JupyterHub.cookie_secret_file = os.path.join(options.secrets_dir, "cookie_secret")
    c.ConfigurableHTTPProxy.auth_token = proxy_token
    c.RosterAuthenticator.initial_admin_password_file = os.path.join(
        options.secrets_dir, "admin_password"
    )
    instance = c.CeleryLabSpawner.get("instance", CeleryLabSpawner.instance.default_value)
    c.JupyterHub.services = (
        services(options, ops_token, exchange_token, instance)
        + course_services(
            declared, instance, lambda cid: secrets.course_token(options.secrets_dir, cid)
        )
        + monitoring_services(
            prometheus_token,
            os.path.join(options.secrets_dir, "metrics_scrape_token"),
            instance,
            [d.id for d in declared],
        )
    )
    # formgrader's file links land in its course's JupyterLab, on the course's own origin.
    c.Proxy.extra_routes = course_link_routes(declared, hub_url, instance)
    c.CeleryLabSpawner.formgraders = staff_formgraders(declared, hub_url)
    c.JupyterHub.load_roles = roles(options) + course_roles(declared) + monitoring_roles()
    c.CeleryLabSpawner.metrics_token_root = metrics_root
    c.JupyterHub.load_groups = course_groups(declared)
    c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
    c.CeleryLabSpawner.exchange_url = f"{EXCHANGE_URL}/services/{EXCHANGE}/"
