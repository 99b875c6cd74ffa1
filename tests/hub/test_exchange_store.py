import io
import tarfile
from datetime import UTC, datetime

import pytest
from celerylab_hub.exchange_store import (
    ExchangeError,
    Limits,
    feedback_hash,
    receive_submission,
    student_view,
    submissions_of,
)

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def archive(files: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def root(tmp_path):
    (tmp_path / "c101" / "outbound" / "ps1").mkdir(parents=True)
    (tmp_path / "c101" / "outbound" / "ps1" / "ps1.ipynb").write_text("{}")
    return tmp_path


def submit(root, student, files=None, **kw):
    files = files or {"ps1.ipynb": b"{}", "submission_secret.txt": student.encode() * 4}
    return receive_submission(root, "c101", "ps1", student, archive(files), Limits(), **kw)


def test_submission_gets_the_students_name_and_the_exchanges_clock(root):
    files = {"ps1.ipynb": b"{}", "timestamp.txt": b"1999-01-01 00:00:00.000000 UTC"}
    stamp = submit(root, "alice", files, now=NOW)
    assert stamp == "2027-01-10 12:00:00.000000 UTC"
    (submission,) = submissions_of(root, "c101", "alice")
    assert submission.name.startswith("alice+ps1+2027-01-10 12:00:00.000000 UTC+")
    assert (submission / "timestamp.txt").read_text() == stamp
    assert (submission / "ps1.ipynb").stat().st_mode & 0o777 == 0o644


def test_earlier_submissions_are_kept(root):
    submit(root, "alice", now=NOW)
    submit(root, "alice", now=datetime(2027, 1, 11, tzinfo=UTC))
    assert len(submissions_of(root, "c101", "alice")) == 2


def test_view_has_released_work_and_only_the_students_own_feedback(root):
    submit(root, "alice")
    submit(root, "bob")
    feedback = root / "c101" / "feedback"
    feedback.mkdir()
    for student in ("alice", "bob"):
        (feedback / f"{feedback_hash(student * 4, 'ps1')}.html").write_text(f"for {student}")
    with tarfile.open(fileobj=io.BytesIO(student_view(root, "c101", "alice"))) as tar:
        names = tar.getnames()
        own = [n for n in names if n.startswith("feedback/")]
        assert "outbound/ps1/ps1.ipynb" in names
        assert len(own) == 1 and tar.extractfile(own[0]).read() == b"for alice"
    assert not any("inbound" in n for n in names), "a view never holds submissions"


@pytest.mark.parametrize(
    ("files", "kw", "message"),
    [
        ({"../escape.ipynb": b"{}"}, {}, "only plain files"),
        ({"/abs.ipynb": b"{}"}, {}, "only plain files"),
        ({"ps1.ipynb": b"{}"}, {"symlink": "link"}, "only plain files"),
        ({"notes.txt": b"hi"}, {}, "no notebook"),
    ],
)
def test_unsafe_or_empty_submissions_are_refused(root, files, kw, message):
    with pytest.raises(ExchangeError, match=message):
        receive_submission(root, "c101", "ps1", "alice", archive(files, **kw), Limits())
    assert not submissions_of(root, "c101", "alice")


def test_size_and_file_limits(root):
    big = archive({"ps1.ipynb": b"x" * 2048})
    with pytest.raises(ExchangeError, match="limit is") as e:
        receive_submission(root, "c101", "ps1", "alice", big, Limits(max_bytes=1024))
    assert e.value.status == 413
    many = archive({f"f{i}.ipynb": b"{}" for i in range(5)})
    with pytest.raises(ExchangeError, match="at most 3"):
        receive_submission(root, "c101", "ps1", "alice", many, Limits(max_files=3))


def test_unreleased_assignment_and_garbage_are_refused(root):
    with pytest.raises(ExchangeError, match="not released") as e:
        receive_submission(root, "c101", "ps9", "alice", archive({"a.ipynb": b"{}"}), Limits())
    assert e.value.status == 404
    with pytest.raises(ExchangeError, match="not a gzip"):
        receive_submission(root, "c101", "ps1", "alice", b"garbage", Limits())


def test_names_cannot_walk_out_of_the_exchange(root):
    with pytest.raises(ExchangeError, match="invalid course"):
        student_view(root, "../etc", "alice")
    with pytest.raises(ExchangeError, match="invalid student"):
        submissions_of(root, "c101", "*")
