"""scripts/base-image.sh: where no registry answers, the base image is built from the Debian
mirror in the host's own apt sources, and the tag it makes works as a base for a build."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "base-image.sh"


def mirror_for(apt_etc: Path) -> str:
    env = {**os.environ, "CELERYLAB_APT_ETC": str(apt_etc)}
    env.pop("CELERYLAB_DEBIAN_MIRROR", None)
    out = subprocess.run([SCRIPT, "--mirror"], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_mirror_comes_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb deb-src\nURIs: http://campus.example/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    assert mirror_for(tmp_path) == "http://campus.example/debian"


def test_the_mirror_comes_from_one_line_sources_with_options(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# a comment\ndeb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://proxy.example:3142/debian bookworm main\n"
    )
    assert mirror_for(tmp_path) == "http://proxy.example:3142/debian"


def test_no_debian_source_gives_a_clear_error(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu noble main\n")
    env = {**os.environ, "CELERYLAB_APT_ETC": str(tmp_path), "CELERYLAB_PULL_TIMEOUT": "10"}
    env.pop("CELERYLAB_DEBIAN_MIRROR", None)
    absent = f"localhost:9/celerylab-base-missing:{uuid.uuid4().hex[:8]}"
    out = subprocess.run([SCRIPT, absent], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert "set CELERYLAB_DEBIAN_MIRROR" in out.stderr


@pytest.mark.docker
def test_an_absent_tag_with_no_registry_is_built_locally_and_works_as_a_base(tmp_path):
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"a Docker engine is needed (CI=true): {error}")
        pytest.skip("no Docker engine")
    # A registry on localhost:9 never answers, wherever this runs.
    tag = f"localhost:9/celerylab-base-test:{uuid.uuid4().hex[:8]}"
    derived = f"celerylab-base-test-derived:{uuid.uuid4().hex[:8]}"
    try:
        out = subprocess.run([SCRIPT, tag], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        assert f"{tag} cannot be pulled; building it locally from" in out.stdout
        (tmp_path / "Dockerfile").write_text(
            f"FROM {tag}\nRUN grep -q '^12' /etc/debian_version && apt-get --version >/dev/null\n"
        )
        build = subprocess.run(
            ["docker", "build", "-q", "-t", derived, str(tmp_path)],
            env={**os.environ, "DOCKER_BUILDKIT": "0"},  # the engine's builder: no buildx needed
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert build.returncode == 0, build.stderr
        # Present now: a second run leaves it alone and says nothing.
        again = subprocess.run([SCRIPT, tag], capture_output=True, text=True, timeout=60)
        assert (again.returncode, again.stdout) == (0, "")
    finally:
        subprocess.run(["docker", "rmi", "-f", derived, tag], capture_output=True)
