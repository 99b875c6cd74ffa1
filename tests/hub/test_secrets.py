import os
import stat

import pytest
from celerylab_hub import secrets


def test_generates_private_secrets_once(tmp_path):
    created = secrets.ensure(tmp_path / "s")
    assert set(created) == set(secrets.SECRETS)
    values = {n: (tmp_path / "s" / n).read_text() for n in created}
    for name in created:
        # 0640 as root: the hub's group reads the ones it shares (secrets.owner)
        mode = secrets.owner(name)[2] if os.geteuid() == 0 else 0o600
        assert stat.S_IMODE((tmp_path / "s" / name).stat().st_mode) == mode
    assert secrets.ensure(tmp_path / "s") == []
    assert values == {n: (tmp_path / "s" / n).read_text() for n in created}


def test_ops_token_goes_into_env_file_keeping_other_lines(tmp_path):
    env = tmp_path / ".env"
    env.write_text("CELERYLAB_LAB_MEM_LIMIT=2G\n# mine\n")
    secrets.ensure(tmp_path / "s", env)
    token = (tmp_path / "s" / "ops_api_token").read_text().strip()
    lines = env.read_text().splitlines()
    assert lines[:2] == ["CELERYLAB_LAB_MEM_LIMIT=2G", "# mine"]
    assert f"CELERYLAB_API_TOKEN={token}" in lines
    secrets.ensure(tmp_path / "s", env)
    assert env.read_text().count("CELERYLAB_API_TOKEN=") == 1


def test_token_in_env_file_survives_a_lost_volume(tmp_path):
    env = tmp_path / ".env"
    env.write_text("CELERYLAB_API_TOKEN=abc123\n")
    secrets.ensure(tmp_path / "new-volume", env)
    assert (tmp_path / "new-volume" / "ops_api_token").read_text().strip() == "abc123"


def test_broker_data_is_handed_to_the_brokers_own_user(tmp_path):
    """An install from before the broker ran unprivileged has root's files in its volume."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root (the setup service runs as root)")
    data = tmp_path / "grading-broker"
    (data / "appendonlydir").mkdir(parents=True)
    (data / "appendonlydir" / "appendonly.aof.1.base.rdb").write_bytes(b"REDIS")
    secrets.prepare_broker_data(data)
    for item in [data, *data.rglob("*")]:
        assert item.stat().st_uid == secrets.GRADING_UID, item
    assert data.stat().st_mode & 0o777 == 0o700


def test_each_unprivileged_service_owns_only_its_own_secrets():
    owners = secrets.OWNERS
    assert owners["grading_broker_password"] == secrets.GRADING_UID
    assert owners["proxy_auth_token"] == secrets.PROXY_UID
    assert owners["exchange_api_token"] == secrets.EXCHANGE_UID
    for name in ("cookie_secret", "ops_api_token", "admin_password", "course_token_key"):
        assert name not in owners  # the hub's only
    uids = {
        secrets.GRADING_UID,
        secrets.PROXY_UID,
        secrets.EXCHANGE_UID,
        secrets.EXPORTER_UID,
        secrets.HUB_UID,
        secrets.GRADER_UID,
    }
    assert len(uids) == 6 and 0 not in uids


def test_setup_gives_each_secret_to_its_readers_and_the_hub_its_share(tmp_path):
    """As the setup service (root): the hub's own secrets are its alone (0600); of another
    service's, the hub reads only those it needs, through its group (0640); none stays root's."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root (the setup service runs as root)")
    secrets.ensure(tmp_path / "s")
    files = {p.name: p.stat() for p in (tmp_path / "s").iterdir()}
    assert len(files) > 10
    for name, st in files.items():
        mode = stat.S_IMODE(st.st_mode)
        assert st.st_uid != 0, name
        if name in secrets.OWNERS and name in secrets.HUB_READS:
            assert (st.st_uid, st.st_gid, mode) == (
                secrets.OWNERS[name],
                secrets.HUB_UID,
                0o640,
            ), name
        else:
            assert st.st_gid == st.st_uid and mode == 0o600, name
    assert files["cookie_secret"].st_uid == secrets.HUB_UID
    assert files["grading_key_root"].st_uid == secrets.GRADER_UID
    assert files["grading_exporter_password"].st_gid == secrets.EXPORTER_UID  # not the hub's


def test_hub_data_is_handed_to_the_hubs_own_user(tmp_path):
    """An install from before the hub ran unprivileged has root's database in its volume."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root (the setup service runs as root)")
    data = tmp_path / "hub-data"
    data.mkdir()
    (data / "jupyterhub.sqlite").write_bytes(b"SQLite format 3")
    secrets.prepare_hub_data(data)
    for item in [data, *data.rglob("*")]:
        assert item.stat().st_uid == secrets.HUB_UID, item
    assert data.stat().st_mode & 0o777 == 0o700
