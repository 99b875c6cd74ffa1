"""Environment -> traits, by table.

Every deploy-time setting is a `CELERYLAB_*` environment variable (from .env via
docker-compose.yml), mapped here to one trait. Values are checked when the hub loads its config,
so a bad value stops the hub with a message that names the variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """One or more settings are invalid; the message names each of them."""


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("must be a number such as 1 or 0.5") from None
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _bytes(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*[KMGT]?", value.strip(), re.IGNORECASE):
        raise ValueError("must be a size such as 512M or 1G")
    return value.strip().upper()


def _redis_bytes(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*(kb|mb|gb)", value.strip(), re.IGNORECASE):
        raise ValueError("must be a Redis size such as 64mb")
    return value.strip().lower()


def _autoscale(value: str) -> str:
    if value.strip().lower() == "none":
        return ""
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError("must be 'max,min' such as 4,0, or none")
    high, low = (int(p) for p in parts)
    if not 0 <= low <= high <= 16 or high == 0:
        raise ValueError("needs 0 <= min <= max <= 16 and max >= 1")
    return f"{high},{low}"


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip().lower() not in choices:
            raise ValueError(f"must be one of: {', '.join(choices)}")
        return value.strip().lower()

    return parse


#: Where labs run: the spawner class each CELERYLAB_SPAWNER value selects.
SPAWNERS = {
    "docker": "celerylab",  # CeleryLabSpawner (entry point): a container on the hub's host
    "swarm": "celerylab_hub.swarmspawner.CeleryLabSwarmSpawner",  # a service on a lab node
}


def _spawner(value: str) -> str:
    return SPAWNERS[_choice(*SPAWNERS)(value)]


def _docker_name(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_./:-]*", value):
        raise ValueError("must be a Docker name (letters, digits, _ . / : -)")
    return value


def _user_set(value: str) -> set[str]:
    names = {n.strip().lower() for n in value.split(",") if n.strip()}
    if not names:
        raise ValueError("must name at least one user (comma-separated)")
    bad = sorted(n for n in names if not USERNAME.fullmatch(n))
    if bad:
        raise ValueError(f"invalid user names {bad}; {USERNAME_RULE}")
    return names


def _host_list(value: str) -> list[str]:
    hosts = [h.strip() for h in value.split(",") if h.strip()]
    bad = [h for h in hosts if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.:_-]*", h)]
    if not hosts or bad:
        raise ValueError("must be comma-separated host names or addresses, such as proxy,tls")
    return hosts


def _db_url(value: str) -> str:
    if not re.match(r"(sqlite|postgresql(\+\w+)?)://", value):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return value


def _public_url(value: str) -> str:
    """Where people reach the hub; every user and service gets a subdomain of its host."""
    from urllib.parse import urlparse

    url = urlparse(value.strip())
    host = url.hostname or ""
    if url.scheme not in ("http", "https") or not host:
        raise ValueError("must be http(s)://<host>[:port], such as https://lab.example.org")
    if url.path not in ("", "/") or url.query or url.fragment or url.username:
        raise ValueError("must have no path, query or user (the hub is served at its root)")
    if url.scheme == "http" and not host.endswith(".localhost"):
        raise ValueError(
            "must be https:// (the hub's cookies are Secure __Host- cookies); plain http:// "
            "works only for *.localhost names, which browsers treat as secure"
        )
    if "." not in host or not re.fullmatch(r"[a-z0-9.-]+", host) or host[0].isdigit():
        raise ValueError(
            "needs a DNS name with a dot, such as lab.example.org or celerylab.localhost, "
            "whose subdomains reach this host (labs are served at <user>.<host>)"
        )
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "")


def _egress(value: str) -> str:
    """Destinations labs may reach (celerylab_lab.firewall checks the same when a lab starts)."""
    entries = value.replace(",", " ").split()
    for entry in entries:
        host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        if host.startswith("169.254.") or host == "metadata.google.internal":
            raise ValueError(f"{entry!r}: the link-local range (cloud metadata) is never allowed")
    return ",".join(entries)


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _text_set(value: str) -> set[str]:
    return {_text(x) for x in value.split(",")}


def _string_map(value: str) -> dict[str, str]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ValueError('must be a JSON object of strings, such as {"type": "nfs"}')
    return parsed


#: User names work as hub names, Unix account names (nbgrader uses the latter) and volume names.
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
USERNAME_RULE = "user names are 1-32 characters: a-z first, then a-z, 0-9, _ or -"


@dataclass(frozen=True)
class Setting:
    env: str
    section: str
    trait: str
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CELERYLAB_PUBLIC_URL",
        "JupyterHub",
        "subdomain_host",
        _public_url,
        "the hub's address; each lab and course service is served on its own subdomain of it",
    ),
    Setting(
        "CELERYLAB_AUTH",
        "CeleryLabOptions",
        "auth",
        _choice("native", "lti13", "oauth"),
        "how people log in: native (roster passwords), lti13 or oauth",
    ),
    Setting(
        "CELERYLAB_ADMIN_USERS",
        "Authenticator",
        "admin_users",
        _user_set,
        "comma-separated hub admins (the first gets the one-time password)",
    ),
    Setting(
        "CELERYLAB_LOGIN_ATTEMPTS",
        "NativeAuthenticator",
        "allowed_failed_logins",
        _int_between(1, 100),
        "failed logins for one name from one address before that name is locked there",
    ),
    Setting(
        "CELERYLAB_SOURCE_LOGIN_ATTEMPTS",
        "RosterAuthenticator",
        "source_failed_logins",
        _int_between(1, 10000),
        "failed logins from one address, any names, before the address is locked",
    ),
    Setting(
        "CELERYLAB_TRUSTED_PROXIES",
        "RosterAuthenticator",
        "trusted_proxies",
        _host_list,
        "comma-separated proxies whose X-Forwarded-For gives the client's address",
    ),
    Setting(
        "CELERYLAB_LOCKOUT_SECONDS",
        "NativeAuthenticator",
        "seconds_before_next_try",
        _int_between(1, 86400),
        "how long a lockout lasts after the last failure",
    ),
    Setting(
        "CELERYLAB_DB_URL",
        "JupyterHub",
        "db_url",
        _db_url,
        "hub database: SQLite on the hub-data volume by default, or postgresql://...",
    ),
    Setting(
        "CELERYLAB_SPAWNER",
        "JupyterHub",
        "spawner_class",
        _spawner,
        "where labs run: docker (a container on the hub's host) or swarm (a Docker Swarm "
        "service on a lab node; docs/deploy.md)",
    ),
    Setting(
        "CELERYLAB_HOME_VOLUME_DRIVER",
        "CeleryLabSwarmSpawner",
        "volume_driver",
        _docker_name,
        "swarm: volume driver of students' homes, for shared storage across lab nodes "
        "(e.g. local, with NFS options)",
    ),
    Setting(
        "CELERYLAB_HOME_VOLUME_OPTIONS",
        "CeleryLabSwarmSpawner",
        "volume_driver_options",
        _string_map,
        "swarm: that driver's options as JSON; {username} is replaced by the student's name",
    ),
    Setting(
        "CELERYLAB_INSTANCE",
        "CeleryLabSpawner",
        "instance",
        _docker_name,
        "installation name prefixing lab containers and volumes (the compose project)",
    ),
    Setting("CELERYLAB_LAB_IMAGE", "CeleryLabSpawner", "image", _docker_name, "student lab image"),
    Setting(
        "CELERYLAB_NETWORK",
        "CeleryLabSpawner",
        "network_name",
        _docker_name,
        "Docker network of the labs, shared only with the proxy, hub, exchange and Prometheus",
    ),
    Setting(
        "CELERYLAB_LAB_EGRESS",
        "CeleryLabSpawner",
        "egress",
        _egress,
        "destinations labs may reach beyond the platform (default none)",
    ),
    Setting(
        "CELERYLAB_LAB_MEM_LIMIT", "CeleryLabSpawner", "mem_limit", _bytes, "memory limit per lab"
    ),
    Setting(
        "CELERYLAB_LAB_CPU_LIMIT",
        "CeleryLabSpawner",
        "cpu_limit",
        _positive_float,
        "CPU limit per lab (cores)",
    ),
    Setting(
        "CELERYLAB_LAB_PIDS_LIMIT",
        "CeleryLabSpawner",
        "pids_limit",
        _int_between(64, 100_000),
        "process limit per lab",
    ),
    Setting(
        "CELERYLAB_UID_BASE",
        "CeleryLabSpawner",
        "uid_base",
        _int_between(1000, 2_000_000_000),
        "lab UID = this + hub user id",
    ),
    Setting(
        "CELERYLAB_WORKER_POOL",
        "CeleryLabSpawner",
        "worker_pool",
        _choice("prefork", "threads", "solo"),
        "default Celery pool in labs",
    ),
    Setting(
        "CELERYLAB_WORKER_CONCURRENCY",
        "CeleryLabSpawner",
        "worker_concurrency",
        _int_between(1, 16),
        "default worker concurrency in labs",
    ),
    Setting(
        "CELERYLAB_WORKER_AUTOSCALE",
        "CeleryLabSpawner",
        "worker_autoscale",
        _autoscale,
        "default prefork autoscaling 'max,min' in labs ('none': a fixed pool)",
    ),
    Setting(
        "CELERYLAB_REDIS_MAXMEMORY",
        "CeleryLabSpawner",
        "redis_maxmemory",
        _redis_bytes,
        "maxmemory of each lab's Redis",
    ),
    Setting(
        "CELERYLAB_ACTIVITY_INTERVAL",
        "CeleryLabSpawner",
        "activity_interval",
        _int_between(5, 3600),
        "seconds between a lab's activity reports",
    ),
    Setting(
        "CELERYLAB_START_TIMEOUT",
        "CeleryLabSpawner",
        "start_timeout",
        _int_between(5, 3600),
        "seconds a lab may take to start, its wait in the start queue included (a backstop)",
    ),
    Setting(
        "CELERYLAB_START_SLOTS",
        "CeleryLabSpawner",
        "start_slots",
        _int_between(1, 256),
        "labs that may boot at once; later starts queue (default: the host's CPU count)",
    ),
    Setting(
        "CELERYLAB_STALL_TIMEOUT",
        "CeleryLabSpawner",
        "stall_timeout",
        _int_between(5, 600),
        "seconds a booting lab may go without progress (CPU time) before it fails",
    ),
    Setting(
        "CELERYLAB_HTTP_TIMEOUT",
        "CeleryLabSpawner",
        "http_timeout",
        _int_between(5, 600),
        "seconds a started lab may take to answer",
    ),
    Setting(
        "CELERYLAB_CULL_TIMEOUT",
        "CeleryLabOptions",
        "cull_timeout",
        _int_between(30, 30 * 86400),
        "stop labs idle this many seconds",
    ),
    Setting(
        "CELERYLAB_CULL_EVERY",
        "CeleryLabOptions",
        "cull_every",
        _int_between(0, 86400),
        "seconds between idle checks (0: no culling)",
    ),
    Setting(
        "CELERYLAB_LAB_MAX_AGE",
        "CeleryLabOptions",
        "lab_max_age",
        _int_between(0, 30 * 86400),
        "stop every lab this many seconds after it started, busy or not (0: no limit)",
    ),
    Setting(
        "CELERYLAB_PRESTART_MINUTES",
        "CeleryLabOptions",
        "prestart_minutes",
        _int_between(0, 1440),
        "start the roster's labs this long before each course session (0: never)",
    ),
    Setting(
        "CELERYLAB_SECRETS_DIR",
        "CeleryLabOptions",
        "secrets_dir",
        _text,
        "where generated secrets live",
    ),
    Setting(
        "CELERYLAB_COURSES_DIR",
        "CeleryLabOptions",
        "courses_dir",
        _text,
        "folder of course declarations inside the hub",
    ),
    # LTI 1.3 (CELERYLAB_AUTH=lti13): values from the LMS's tool registration.
    Setting(
        "CELERYLAB_LTI13_CLIENT_ID",
        "LTI13Authenticator",
        "client_id",
        _text_set,
        "LTI 1.3 client id(s), comma-separated",
    ),
    Setting("CELERYLAB_LTI13_ISSUER", "LTI13Authenticator", "issuer", _text, "LMS issuer URL"),
    Setting(
        "CELERYLAB_LTI13_AUTHORIZE_URL",
        "LTI13Authenticator",
        "authorize_url",
        _text,
        "LMS OIDC authorization URL",
    ),
    Setting(
        "CELERYLAB_LTI13_JWKS_URL",
        "LTI13Authenticator",
        "jwks_endpoint",
        _text,
        "LMS public key set URL",
    ),
    # OAuth2 / OIDC (CELERYLAB_AUTH=oauth), GenericOAuthenticator.
    Setting(
        "CELERYLAB_OAUTH_CLIENT_ID", "GenericOAuthenticator", "client_id", _text, "OAuth client id"
    ),
    Setting(
        "CELERYLAB_OAUTH_CLIENT_SECRET",
        "GenericOAuthenticator",
        "client_secret",
        _text,
        "OAuth client secret",
    ),
    Setting(
        "CELERYLAB_OAUTH_CALLBACK_URL",
        "GenericOAuthenticator",
        "oauth_callback_url",
        _text,
        "https://<hub>/hub/oauth_callback",
    ),
    Setting(
        "CELERYLAB_OAUTH_AUTHORIZE_URL",
        "GenericOAuthenticator",
        "authorize_url",
        _text,
        "provider authorization URL",
    ),
    Setting(
        "CELERYLAB_OAUTH_TOKEN_URL",
        "GenericOAuthenticator",
        "token_url",
        _text,
        "provider token URL",
    ),
    Setting(
        "CELERYLAB_OAUTH_USERDATA_URL",
        "GenericOAuthenticator",
        "userdata_url",
        _text,
        "provider user-info URL",
    ),
    Setting(
        "CELERYLAB_OAUTH_USERNAME_CLAIM",
        "GenericOAuthenticator",
        "username_claim",
        _text,
        "user-info field used as the hub user name",
    ),
)


#: Where the hub is served when CELERYLAB_PUBLIC_URL is unset: browsers resolve *.localhost
#: names to this machine by themselves, so every lab gets its own origin with no DNS set-up.
DEFAULT_PUBLIC_HOST = "celerylab.localhost"


def public_url(environ: Mapping[str, str]) -> str:
    """The hub's public address: CELERYLAB_PUBLIC_URL, or celerylab.localhost on the port."""
    configured = environ.get("CELERYLAB_PUBLIC_URL")
    if configured:
        return _public_url(configured)
    return f"http://{DEFAULT_PUBLIC_HOST}:{environ.get('CELERYLAB_HTTP_PORT') or '8000'}"


def load_env(config, environ: Mapping[str, str]) -> None:
    """Set every trait whose variable is present; raise ConfigError naming each bad one."""
    errors = []
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            continue
        try:
            value = setting.parse(raw)
        except ValueError as e:
            errors.append(f"{setting.env}={raw!r}: {e} ({setting.help})")
            continue
        config[setting.section][setting.trait] = value
    unknown = sorted(k for k in environ if k.startswith("CELERYLAB_") and k not in KNOWN)
    errors += [f"{k}: unknown setting (known: see docs/configuration.md)" for k in unknown]
    if errors:
        raise ConfigError("\n".join(errors))


#: Variables that are read elsewhere (compose, scripts) and are legitimately set in the hub.
OTHER_VARIABLES = {"CELERYLAB_API_TOKEN", "CELERYLAB_BIND", "CELERYLAB_HTTP_PORT"}
KNOWN = {s.env for s in SETTINGS} | OTHER_VARIABLES
