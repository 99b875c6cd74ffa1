"""Archive one Docker volume, or fill one from an archive (run by celerylab-backup in a container).

Usage (inside a container with the volume at /data and the snapshot folder at /backup):
    python3 celerylab_volume.py backup /data /backup/volumes/hub-data.tar.gz
    python3 celerylab_volume.py restore /backup/volumes/hub-data.tar.gz /data

SQLite databases (the hub's state, nbgrader's gradebook) are copied with SQLite's online backup
API, so a snapshot taken while the hub writes is consistent. Owners and modes are kept (student
homes belong to each student's UID).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tarfile
import tempfile

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-journal", "-wal", "-shm")


def is_sqlite(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def add_sqlite(tar: tarfile.TarFile, path: str, arcname: str) -> None:
    info = tar.gettarinfo(path, arcname=arcname)
    with tempfile.NamedTemporaryFile(dir="/tmp") as copy:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(copy.name)
        with target:
            source.backup(target)
        source.close()
        target.close()
        info.size = os.path.getsize(copy.name)
        with open(copy.name, "rb") as f:
            tar.addfile(info, f)


def backup(src: str, out: str) -> None:
    partial = out + ".partial"
    with tarfile.open(partial, "w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel = os.path.relpath(dirpath, src)
            tar.add(dirpath, arcname=rel, recursive=False)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                arcname = os.path.normpath(os.path.join(rel, name))
                base = next((path[: -len(s)] for s in SIDE_FILES if name.endswith(s)), None)
                if base and is_sqlite(base):
                    continue  # folded into the database's consistent copy
                if os.path.isfile(path) and not os.path.islink(path) and is_sqlite(path):
                    add_sqlite(tar, path, arcname)
                else:
                    tar.add(path, arcname=arcname, recursive=False)
    os.replace(partial, out)


def restore(archive: str, dest: str) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        # Our own archives: keep owners, modes and links exactly as they were.
        extra = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
        tar.extractall(dest, numeric_owner=True, **extra)  # noqa: S202 - archives we made


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("backup", "restore"):
        print(__doc__, file=sys.stderr)
        return 2
    action, a, b = argv
    (backup if action == "backup" else restore)(a, b)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
