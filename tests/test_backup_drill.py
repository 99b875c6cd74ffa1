"""Restore drill of the compose install's backup (scripts/backup.sh, the deployment's own script)
on real Docker volumes: a compose-labelled volume (the hub's state) and a student's home holding a
hostile WAL-mode database. The snapshot is taken, a killed run's leftovers are pruned, the
volumes are wiped, and the restore brings every byte back.

Needs Docker and the hub image (python3 for the helper); under CI a missing one fails.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("CELERYLAB_HUB_IMAGE", "celerylab/hub:latest")

# A database in WAL mode whose rows sit in the WAL, with no -shm: what a student's process
# that died mid-write leaves. Made inside the volume by a throwaway container.
SEED = """
import os, shutil, sqlite3
os.makedirs('/scratch', exist_ok=True)
db = sqlite3.connect('/scratch/results.sqlite')
db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0')
db.execute('CREATE TABLE t (x)')
db.executemany('INSERT INTO t VALUES (?)', [(i,) for i in range(100)])
db.commit()
for n in ('results.sqlite', 'results.sqlite-wal'):
    shutil.copy('/scratch/' + n, '/data/' + n)
open('/data/notes.txt', 'w').write('my notes')
"""
CHECK = """
import sqlite3
db = sqlite3.connect('/data/results.sqlite')
print(open('/data/notes.txt').read(), db.execute('SELECT count(*) FROM t').fetchone()[0])
"""


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=check
    )


@pytest.fixture
def project(tmp_path):
    try:
        ok = docker("image", "inspect", IMAGE, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the backup drill needs Docker and {IMAGE}")
        pytest.skip(f"needs Docker and {IMAGE}")
    name = f"clab-bk{uuid.uuid4().hex[:6]}"
    hub = f"{name}_hub-data"
    docker("volume", "create", "--label", f"com.docker.compose.project={name}",
           "--label", "com.docker.compose.volume=hub-data", hub)  # fmt: skip
    docker("volume", "create", f"{name}-home-ivan")
    yield name
    for volume in (hub, f"{name}-home-ivan"):
        docker("volume", "rm", "-f", volume, check=False)


def in_volume(volume: str, script: str) -> str:
    r = docker("run", "--rm", "--network", "none", "--entrypoint", "python3",
               "-v", f"{volume}:/data", IMAGE, "-c", script)  # fmt: skip
    return r.stdout.strip()


def backup(project: str, backups: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": project,
        "CELERYLAB_BACKUP_DIR": str(backups),
        "CELERYLAB_BACKUP_RUNNER_IMAGE": IMAGE,
        "CELERYLAB_BACKUP_CONFIG_PATHS": str(backups.parent / "dot-env"),
        "CELERYLAB_BACKUP_KEEP": "2",
    }
    return subprocess.run(
        [str(ROOT / "scripts" / "backup.sh"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_backup_survives_a_hostile_home_and_restores(project, tmp_path):
    backups = tmp_path / "backups"
    (tmp_path / "dot-env").write_text("CELERYLAB_HTTP_PORT=8000\n")
    in_volume(f"{project}_hub-data", "open('/data/jupyterhub.sqlite-like', 'w').write('hub state')")
    in_volume(f"{project}-home-ivan", SEED)
    (backups / "20200101T000000Z.partial").mkdir(parents=True)  # a run that was killed

    r = backup(project, backups, "run")
    assert r.returncode == 0, r.stderr
    assert "removing the unfinished snapshot 20200101T000000Z.partial" in r.stderr
    assert "online backup failed" in r.stderr, "the hostile database is reported..."
    snaps = backup(project, backups, "list").stdout.split()
    assert len(snaps) == 1 and not list(backups.glob("*.partial")), "...and the snapshot made"
    volumes = (backups / snaps[0] / "volumes.tsv").read_text()
    assert "hub-data\tcompose" in volumes and "home-ivan\tplain" in volumes

    # Disaster: both volumes gone.
    docker("volume", "rm", "-f", f"{project}_hub-data", f"{project}-home-ivan")
    r = backup(project, backups, "restore")
    assert r.returncode == 0, r.stderr
    assert in_volume(f"{project}-home-ivan", CHECK) == "my notes 100", "WAL rows came back"
    hub = in_volume(f"{project}_hub-data", "print(open('/data/jupyterhub.sqlite-like').read())")
    assert hub == "hub state"
    labels = docker("volume", "inspect", "-f", "{{json .Labels}}", f"{project}_hub-data").stdout
    assert f'"com.docker.compose.project":"{project}"' in labels, "compose adopts it again"
