"""Archive one Docker volume, or fill one from an archive (run by celerylab-backup in a container).

Usage (inside a container with the volume at /data and the snapshot folder at /backup):
    python3 celerylab_volume.py backup /data /backup/volumes/hub-data.tar.gz
    python3 celerylab_volume.py restore /backup/volumes/hub-data.tar.gz /data

SQLite databases (the hub's state, nbgrader's gradebook) are copied with SQLite's online backup
API, so a snapshot taken while the hub writes is consistent. Owners and modes are kept (student
homes belong to each student's UID).

A student's home is theirs to fill with anything: a file that cannot be read, or a database the
online backup cannot open (a WAL-mode SQLite file whose -shm cannot be made on the read-only
mount), is never a reason to lose everyone else's snapshot. Such a database is archived as its
raw files (SQLite replays the WAL when it is next opened); an unreadable file is left out with a
warning on stderr. The run ends with a count of what was left out.
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


def warn(message: str) -> None:
    print(f"celerylab_volume: warning: {message}", file=sys.stderr, flush=True)


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


def add_plain(tar: tarfile.TarFile, path: str, arcname: str) -> bool:
    """Archive one file as it is; False (with a warning) when it cannot be read."""
    try:
        info = tar.gettarinfo(path, arcname=arcname)
        if info is None:
            warn(f"left out {arcname}: not a file type an archive can hold (socket)")
            return False
        if info.isreg():
            with open(path, "rb") as f:
                tar.addfile(info, f)
        else:
            tar.addfile(info)
    except OSError as e:
        warn(f"left out {arcname}: {e.strerror or e}")
        return False
    return True


def add_database(tar: tarfile.TarFile, path: str, arcname: str) -> bool:
    try:
        add_sqlite(tar, path, arcname)
        return True
    except (sqlite3.Error, OSError) as e:
        # Raw files instead: SQLite recovers a database from them (WAL replayed on next open).
        warn(f"{arcname}: online backup failed ({e}); archived its raw files instead")
        ok = add_plain(tar, path, arcname)
        for side in SIDE_FILES:
            if os.path.exists(path + side):
                ok = add_plain(tar, path + side, arcname + side) and ok
        return ok


def backup(src: str, out: str) -> int:
    """Archive `src` into `out`; returns how many entries had to be left out."""
    partial = out + ".partial"
    skipped = 0
    with tarfile.open(partial, "w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(src, onerror=lambda e: warn(str(e))):
            dirnames.sort()
            rel = os.path.relpath(dirpath, src)
            skipped += not add_plain(tar, dirpath, rel)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                arcname = os.path.normpath(os.path.join(rel, name))
                base = next((path[: -len(s)] for s in SIDE_FILES if name.endswith(s)), None)
                if base and is_sqlite(base):
                    continue  # folded into the database's copy
                if os.path.isfile(path) and not os.path.islink(path) and is_sqlite(path):
                    skipped += not add_database(tar, path, arcname)
                else:
                    skipped += not add_plain(tar, path, arcname)
    os.replace(partial, out)
    if skipped:
        warn(f"{skipped} entries of {src} left out of {os.path.basename(out)} (see above)")
    return skipped


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
