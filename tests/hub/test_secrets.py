import stat

from celerylab_hub import secrets


def test_generates_private_secrets_once(tmp_path):
    created = secrets.ensure(tmp_path / "s")
    assert set(created) == set(secrets.SECRETS)
    values = {n: (tmp_path / "s" / n).read_text() for n in created}
    for name in created:
        assert stat.S_IMODE((tmp_path / "s" / name).stat().st_mode) == 0o600
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
