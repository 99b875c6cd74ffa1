"""A multi-tenant app built by a factory from layered, validated configuration; each tenant's
tasks go to its own queue (E15 example).

Usage:
    cd course/examples
    celery -A e15_multitenant worker -Q tenant.acme -n acme@%h      # terminal 1
    celery -A e15_multitenant worker -Q tenant.globex -n globex@%h  # terminal 2
    E15_ENV=production python -m e15_multitenant acme globex        # terminal 3

Prints the configuration each tenant resolves to and which worker ran its task; a bad
configuration stops with every problem listed.
"""

import json
import os
import re
import sys

from celery import Celery

DEFAULTS = {"rate_limit": "100/s", "queue_prefix": "tenant", "features": {"audit": False}}
ENVIRONMENTS = {
    "development": {},
    "production": {"rate_limit": "50/s", "features": {"audit": True}},
}
TENANTS = {"acme": {"rate_limit": "10/s"}, "globex": {"features": {"exports": False}}}


class ConfigError(ValueError):
    pass


def merge(base, override):
    out = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merge(out[key], value) if nested else value
    return out


def load(env, tenant=None, overrides=None):
    if env not in ENVIRONMENTS or (tenant and tenant not in TENANTS):
        raise ConfigError(f"unknown environment or tenant: {env!r}, {tenant!r}")
    config = merge(merge(DEFAULTS, ENVIRONMENTS[env]), TENANTS.get(tenant, {}))
    config = merge(config, overrides or {})
    problems = []
    if not re.fullmatch(r"\d+/[smh]", str(config["rate_limit"])):
        problems.append(f"rate_limit: {config['rate_limit']!r}")
    if not config.get("queue_prefix"):
        problems.append("queue_prefix: empty")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def create_app(env):
    config = load(env)

    def route(name, args, kwargs, options, task=None, **kw):
        tenant = (kwargs or {}).get("tenant")
        return {"queue": f"{config['queue_prefix']}.{tenant}"} if tenant else None

    app = Celery("e15_multitenant")
    app.conf.update(task_default_rate_limit=config["rate_limit"], task_routes=(route,))

    @app.task(bind=True, name="e15_multitenant.process")
    def process(self, payload, tenant):
        return {"tenant": tenant, "items": len(payload), "worker": self.request.hostname}

    return app


app = create_app(os.environ.get("E15_ENV", "development"))
process = app.tasks["e15_multitenant.process"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ.get("E15_ENV", "development")
    for tenant in argv:
        try:
            config = load(env, tenant)
        except ConfigError as e:
            print(f"FAILURE: {e}")
            return 1
        ran = process.apply_async(([1, 2],), {"tenant": tenant}).get(timeout=20)
        print(json.dumps({"config": config, "ran": ran}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
