"""The backup's archive helper against a hostile home: an unreadable file and a WAL-mode SQLite
database on a read-only folder must not abort the snapshot, and what is archived restores.

The helper runs as `nobody` (setpriv), as backups of NFS homes with root squashed do, so the
unreadable file is really unreadable to it; no part is simulated.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HELPER = (
    Path(__file__).resolve().parents[1] / "deploy/roles/celerylab_backup/files/celerylab_volume.py"
)


def as_nobody(*args: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        if os.environ.get("CI") == "true":
            pytest.fail("these tests need root and setpriv, to run the helper as nobody")
        pytest.skip("needs root and setpriv")
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*command, "/usr/bin/python3", str(HELPER), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def shared_tmp():
    """A folder `nobody` can reach (pytest's own tmp_path sits in a 0700 folder of root's)."""
    path = Path(tempfile.mkdtemp(prefix="celerylab-backup-test-"))
    path.chmod(0o755)
    yield path
    subprocess.run(["chmod", "-R", "u+rwX", str(path)], check=False)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def hostile_home(shared_tmp):
    tmp_path = shared_tmp
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("my notes\n")
    (home / "secret.txt").write_text("nobody may read this\n")
    (home / "secret.txt").chmod(0o000)
    # A database left by a process that died mid-write: its WAL holds the rows, no -shm.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    db = sqlite3.connect(scratch / "results.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # keep the rows in the WAL
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    db.commit()
    for name in ("results.sqlite", "results.sqlite-wal"):
        shutil.copy(scratch / name, home / name)
    db.close()
    assert (home / "results.sqlite-wal").stat().st_size > 0
    for path in home.iterdir():
        if path.name != "secret.txt":
            path.chmod(0o444)
    home.chmod(0o555)  # read-only, like the :ro mount: SQLite cannot make its -shm there
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    return home, out


def test_a_hostile_home_is_archived_with_warnings_not_aborted(hostile_home, tmp_path):
    # (as_nobody runs the helper with the system's python3: nobody cannot enter the venv)
    home, out = hostile_home
    r = as_nobody("backup", str(home), str(out / "home.tar.gz"))
    assert r.returncode == 0, r.stderr
    assert "left out secret.txt" in r.stderr
    assert "results.sqlite: online backup failed" in r.stderr
    assert not list(out.glob("*.partial"))

    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(
        [sys.executable, str(HELPER), "restore", str(out / "home.tar.gz"), str(restored)],
        check=True,
        timeout=60,
    )
    assert (restored / "notes.txt").read_text() == "my notes\n"
    assert not (restored / "secret.txt").exists()
    copy = sqlite3.connect(restored / "results.sqlite")
    assert copy.execute("SELECT count(*) FROM t").fetchone() == (100,), "WAL rows kept"
    copy.close()


def test_a_readable_database_still_gets_a_consistent_copy(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "jupyterhub.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    out = tmp_path / "hub.tar.gz"
    r = subprocess.run(
        [sys.executable, str(HELPER), "backup", str(home), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    db.close()
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run([sys.executable, str(HELPER), "restore", str(out), str(restored)], check=True)
    assert not (restored / "jupyterhub.sqlite-wal").exists(), "folded into one consistent file"
    copy = sqlite3.connect(restored / "jupyterhub.sqlite")
    assert copy.execute("SELECT x FROM t").fetchall() == [(1,)]
    copy.close()
