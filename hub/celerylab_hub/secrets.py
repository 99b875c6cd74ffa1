"""Secrets generated once, at first start, and kept on the secrets volume.

`celerylab setup` (the compose `setup` service) creates whatever is missing and never replaces
what exists, so restarts and upgrades keep sessions, tokens and the admin's password valid.
The ops token is also written to the project's .env as CELERYLAB_API_TOKEN for scripts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets as random
from pathlib import Path

#: file name -> generator
SECRETS = {
    "cookie_secret": lambda: random.token_hex(32),  # JupyterHub wants hex
    "proxy_auth_token": lambda: random.token_hex(32),
    "ops_api_token": lambda: random.token_hex(32),
    "exchange_api_token": lambda: random.token_hex(32),
    # Each course's formgrader service token is derived from this key (course_token), so the
    # hub's config and the course container agree without a file per course.
    "course_token_key": lambda: random.token_hex(32),
    # ...and each course's grading key from this one (course_grading_key): grader workers, on
    # other hosts too, hold it and their own broker user's password, never anything that makes
    # hub tokens.
    "grading_key_root": lambda: random.token_hex(32),
    "admin_password": lambda: random.token_urlsafe(12),
    # Prometheus: read:metrics on the hub, and the token labs, course containers and the
    # discovery service want (they hold only its SHA-256).
    "prometheus_hub_token": lambda: random.token_hex(32),
    "metrics_scrape_token": lambda: random.token_hex(32),
    # Prometheus's web UI and API (basic auth, user PROMETHEUS_USER): labs share its network.
    "prometheus_password": lambda: random.token_urlsafe(18),
    "grafana_admin_password": lambda: random.token_urlsafe(18),
    # The grading fleet's own Redis (never a student's). This one is its admin's (the `default`
    # ACL user): only the hub (which gives each course its own user) and the broker hold it.
    "grading_broker_password": lambda: random.token_hex(24),
    # The broker's users for the platform's own processes (BROKER_USERS), one password each.
    "grading_worker_password": lambda: random.token_hex(24),
    "grading_exporter_password": lambda: random.token_hex(24),
}
PROMETHEUS_USER = "celerylab"
#: Prometheus's --web.config.file, derived from prometheus_password (bcrypt, as it wants).
PROMETHEUS_WEB_CONFIG = "prometheus_web.yml"
#: The exchange service and the course containers run as this user (never a student's UID).
EXCHANGE_UID = 2000
#: The grading broker: it reads its ACL file and its admin password, nothing else.
GRADING_UID = 2001
#: The proxy: it reads its API token and nothing else.
PROXY_UID = 2002
#: The grading exporter: it reads its own (read-only) broker user's password, nothing else.
EXPORTER_UID = 2003
#: The hub and the grading workers: unprivileged users with only the Docker socket's group
#: (compose `group_add`, CELERYLAB_DOCKER_GID); the socket is their one power over the host.
HUB_UID = 2004
GRADER_UID = 2005
#: Prometheus runs as nobody and Grafana as 472, like their official images.
PROMETHEUS_UID = 65534
GRAFANA_UID = 472
#: Secrets read by a service that does not run as root.
#: The grading broker's ACL file for the platform's own users, rewritten by `ensure`; the broker
#: adds the course users that `celerylab courses sync` made (grading_acl.ensure_course_users).
BROKER_ACL = "grading_broker_users.acl"
OWNERS = {
    "exchange_api_token": EXCHANGE_UID,
    "grading_worker_password": GRADER_UID,
    "grading_key_root": GRADER_UID,
    "grading_broker_password": GRADING_UID,  # the broker's health check
    BROKER_ACL: GRADING_UID,
    "grading_exporter_password": EXPORTER_UID,
    "proxy_auth_token": PROXY_UID,
    "prometheus_hub_token": PROMETHEUS_UID,
    "metrics_scrape_token": PROMETHEUS_UID,
    PROMETHEUS_WEB_CONFIG: PROMETHEUS_UID,
    "prometheus_password": GRAFANA_UID,  # Grafana's datasource logs in with it
    "grafana_admin_password": GRAFANA_UID,
}
#: Secrets of other services that the hub reads too: their owner's, in the hub's group (0640).
#: Every secret not in OWNERS is the hub's alone (0600).
HUB_READS = {
    "exchange_api_token",  # the exchange is a hub service
    "grading_worker_password",
    "grading_key_root",  # each course's grading key (courses sync)
    "grading_broker_password",  # makes each course's broker user
    "proxy_auth_token",
    "prometheus_hub_token",
    "metrics_scrape_token",  # each lab's and course's scrape token derives from it
}
ENV_TOKEN = "CELERYLAB_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
#: Also copied to .env for the admin: variable -> (secret, comment)
ENV_COPIES = {
    "CELERYLAB_GRAFANA_ADMIN_PASSWORD": (
        "grafana_admin_password",
        "Grafana's admin password (http://127.0.0.1:3000, user admin).",
    ),
    "CELERYLAB_PROMETHEUS_PASSWORD": (
        "prometheus_password",
        f"Prometheus's password (http://127.0.0.1:9090, user {PROMETHEUS_USER}).",
    ),
}


def read(secrets_dir: str | Path, name: str) -> str:
    path = Path(secrets_dir) / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"secret {path} is missing: run `celerylab setup` (the compose setup service) first"
        ) from None


def course_token(secrets_dir: str | Path, course_id: str) -> str:
    key = read(secrets_dir, "course_token_key").encode()
    return hmac.new(key, f"formgrader:{course_id}".encode(), hashlib.sha256).hexdigest()


def course_grading_key(secrets_dir: str | Path, course_id: str) -> str:
    """The Fernet key that seals a course's grading tasks and their results on the shared broker,
    so other courses read neither (each is also its own broker user: grading_acl)."""
    key = read(secrets_dir, "grading_key_root").encode()
    digest = hmac.new(key, f"grading:{course_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


#: The grading broker's users for the platform's processes -> (password secret, ACL rules). The
#: admin (`default`) only creates course users; graders may do anything but administer it;
#: the exporter only reads the queue's length and the counts.
BROKER_USERS = {
    "default": ("grading_broker_password", "~* &* +@all"),
    "grader": ("grading_worker_password", "~* &* +@all -@admin -@dangerous"),
    "exporter": (
        "grading_exporter_password",
        "resetchannels -@all +hello +ping +llen +hvals +hgetall ~grading ~celerylab:grading:*",
    ),
}


def grading_broker_url(
    secrets_dir: str | Path, user: str = "grader", host: str = "grading-broker"
) -> str:
    """The grading fleet's broker (and result store) as one of the platform's own users."""
    password = read(secrets_dir, BROKER_USERS[user][0])
    return f"redis://{user}:{password}@{host}:6379/0"


def course_broker_password(secrets_dir: str | Path, course_id: str) -> str:
    """A course's own password on the grading broker (user course-<id>), derived from the
    broker's admin password, which course containers never hold."""
    key = read(secrets_dir, "grading_broker_password").encode()
    return hmac.new(key, f"broker:{course_id}".encode(), hashlib.sha256).hexdigest()


def broker_acl(secrets_dir: str | Path) -> str:
    """The broker's ACL file lines for the platform's users (passwords stored as SHA-256)."""
    lines = []
    for user, (secret, rules) in BROKER_USERS.items():
        digest = hashlib.sha256(read(secrets_dir, secret).encode()).hexdigest()
        lines.append(f"user {user} on #{digest} {rules}")
    return "\n".join(lines) + "\n"


def metrics_token_sha256(secrets_dir: str | Path) -> str:
    """What the discovery service holds to check Prometheus's own (root) scrape token."""
    return hashlib.sha256(read(secrets_dir, "metrics_scrape_token").encode()).hexdigest()


def scrape_token(root: str, kind: str, name: str) -> str:
    """The token Prometheus presents to one target (kind "lab" or "course"), derived from the
    root scrape token. A lab's own Jupyter process, which the student controls, sees only its own
    token: it opens that lab's metrics and nothing else (not other labs, not discovery)."""
    return hmac.new(root.encode(), f"{kind}:{name}".encode(), hashlib.sha256).hexdigest()


def scrape_token_sha256(root: str, kind: str, name: str) -> str:
    """What a target holds to check its token (never the token itself)."""
    return hashlib.sha256(scrape_token(root, kind, name).encode()).hexdigest()


def prometheus_web_config(password: str) -> str:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    return f"basic_auth_users:\n  {PROMETHEUS_USER}: '{hashed}'\n"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def ensure(secrets_dir: str | Path, env_file: str | Path | None = None) -> list[str]:
    """Create missing secrets; return the names created. Keep .env's ops token in step."""
    secrets_dir = Path(secrets_dir)
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    env_file = Path(env_file) if env_file else None
    env_token = _env_value(env_file, ENV_TOKEN) if env_file else None
    created = []
    for name, generate in SECRETS.items():
        path = secrets_dir / name
        if path.exists():
            continue
        # A token already handed to ops scripts (in .env) survives the loss of the volume.
        value = env_token if name == "ops_api_token" and env_token else generate()
        _write_private(path, value + "\n")
        created.append(name)
    web_config = secrets_dir / PROMETHEUS_WEB_CONFIG
    if not web_config.exists():
        _write_private(web_config, prometheus_web_config(read(secrets_dir, "prometheus_password")))
    # Derived from the passwords above: rewritten every time, so it always matches them.
    _write_private(secrets_dir / BROKER_ACL, broker_acl(secrets_dir))
    if env_file:
        _set_env_value(env_file, ENV_TOKEN, read(secrets_dir, "ops_api_token"))
        for key, (name, comment) in ENV_COPIES.items():
            _set_env_value(env_file, key, read(secrets_dir, name), comment)
    if os.geteuid() == 0:  # as the setup service: give service secrets to their readers
        for path in secrets_dir.iterdir():
            uid, gid, mode = owner(path.name)
            os.chown(path, uid, gid)
            path.chmod(mode)
    return created


def owner(name: str) -> tuple[int, int, int]:
    """(uid, gid, mode) of one secret file: its service reads it, and the hub if it must."""
    uid = OWNERS.get(name, HUB_UID)
    gid = HUB_UID if name in HUB_READS else uid
    return uid, gid, 0o640 if gid != uid else 0o600


def prepare_exchange(exchange_dir: str | Path) -> None:
    """The exchange volume belongs to the exchange's user; students never mount it."""
    path = Path(exchange_dir)
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and path.stat().st_uid != EXCHANGE_UID:
        os.chown(path, EXCHANGE_UID, EXCHANGE_UID)
    path.chmod(0o755)


def prepare_broker_data(data_dir: str | Path) -> None:
    """The grading broker's volume belongs to its unprivileged user (an install from before it
    ran as that user has root's files there: they are handed over too)."""
    _hand_over(Path(data_dir), GRADING_UID)


def prepare_hub_data(data_dir: str | Path) -> None:
    """The hub's database volume belongs to the hub's user (an install from before the hub ran
    unprivileged has root's files there: they are handed over too)."""
    _hand_over(Path(data_dir), HUB_UID)


def _hand_over(path: Path, uid: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return
    for item in [path, *path.rglob("*")]:
        if item.lstat().st_uid != uid:
            os.lchown(item, uid, uid)
    path.chmod(0o700)


def _env_value(env_file: Path, key: str) -> str | None:
    if not env_file.exists():
        return None
    for line in env_file.read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].strip() or None
    return None


def _set_env_value(
    env_file: Path,
    key: str,
    value: str,
    comment: str = "the ops API token (admin role). Keep it secret.",
) -> None:
    """Set key=value in a .env file, keeping every other line as it was."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    new = f"{key}={value}"
    if new in lines:
        return
    kept = [line for line in lines if not line.startswith(f"{key}=")]
    if len(kept) == len(lines):
        kept.append(f"# Generated by celerylab setup: {comment}")
    kept.append(new)
    _write_private(env_file, "\n".join(kept) + "\n")
