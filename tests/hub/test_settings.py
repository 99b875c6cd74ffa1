from pathlib import Path

import pytest
import yaml
from celerylab_hub.settings import SETTINGS, ConfigError, load_env
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[2]


def test_each_setting_reaches_its_trait():
    c = Config()
    load_env(
        c,
        {
            "CELERYLAB_LAB_MEM_LIMIT": "768m",
            "CELERYLAB_LAB_CPU_LIMIT": "0.5",
            "CELERYLAB_LAB_PIDS_LIMIT": "256",
            "CELERYLAB_ADMIN_USERS": "Ada, grace",
            "CELERYLAB_WORKER_POOL": "Threads",
            "CELERYLAB_REDIS_MAXMEMORY": "32MB",
            "CELERYLAB_CULL_TIMEOUT": "600",
            "CELERYLAB_WORKER_AUTOSCALE": "8,0",
        },
    )
    assert c.CeleryLabSpawner.mem_limit == "768M"
    assert c.CeleryLabSpawner.cpu_limit == 0.5
    assert c.CeleryLabSpawner.pids_limit == 256
    assert c.Authenticator.admin_users == {"ada", "grace"}
    assert c.CeleryLabSpawner.worker_pool == "threads"
    assert c.CeleryLabSpawner.redis_maxmemory == "32mb"
    assert c.CeleryLabOptions.cull_timeout == 600
    assert c.CeleryLabSpawner.worker_autoscale == "8,0"
    c = Config()
    load_env(c, {"CELERYLAB_WORKER_AUTOSCALE": "none"})
    assert c.CeleryLabSpawner.worker_autoscale == ""


def test_empty_means_default():
    c = Config()
    load_env(c, {"CELERYLAB_LAB_MEM_LIMIT": ""})
    assert "mem_limit" not in c.CeleryLabSpawner


@pytest.mark.parametrize(
    ("env", "value", "reason"),
    [
        ("CELERYLAB_LAB_MEM_LIMIT", "lots", "size such as 512M"),
        ("CELERYLAB_LAB_CPU_LIMIT", "-1", "greater than 0"),
        ("CELERYLAB_LAB_PIDS_LIMIT", "ten", "whole number"),
        ("CELERYLAB_WORKER_CONCURRENCY", "99", "between 1 and 16"),
        ("CELERYLAB_AUTH", "ldap", "one of: native, lti13, oauth"),
        ("CELERYLAB_ADMIN_USERS", "Bad Name", "invalid user names"),
        ("CELERYLAB_DB_URL", "mysql://x", "sqlite:/// or postgresql://"),
        ("CELERYLAB_REDIS_MAXMEMORY", "64", "Redis size"),
        ("CELERYLAB_WORKER_AUTOSCALE", "4", "'max,min'"),
    ],
)
def test_bad_value_names_the_setting_and_the_reason(env, value, reason):
    with pytest.raises(ConfigError) as e:
        load_env(Config(), {env: value})
    assert f"{env}={value!r}" in str(e.value)
    assert reason in str(e.value)


def test_every_bad_setting_is_reported_at_once():
    with pytest.raises(ConfigError) as e:
        load_env(Config(), {"CELERYLAB_LAB_MEM_LIMIT": "x", "CELERYLAB_CULL_EVERY": "y"})
    assert "CELERYLAB_LAB_MEM_LIMIT" in str(e.value) and "CELERYLAB_CULL_EVERY" in str(e.value)


def test_misspelt_setting_is_refused():
    with pytest.raises(ConfigError, match="CELERYLAB_LAB_MEMORY_LIMIT: unknown setting"):
        load_env(Config(), {"CELERYLAB_LAB_MEMORY_LIMIT": "1G"})


def test_compose_passes_every_setting_to_the_hub():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    passed = {k for k in compose["services"]["hub"]["environment"] if k.startswith("CELERYLAB_")}
    fixed_by_compose = {"CELERYLAB_SECRETS_DIR", "CELERYLAB_COURSES_DIR"}  # mount points
    assert passed == {s.env for s in SETTINGS} - fixed_by_compose


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in doc]
    assert not missing, f"docs/configuration.md lacks {missing}"
