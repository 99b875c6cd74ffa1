import io
import tarfile
import time
from datetime import UTC, datetime

import pytest
from celerylab_hub.exchange_store import (
    ExchangeError,
    Limits,
    feedback_hash,
    limits_from_env,
    receive_submission,
    remove_partial,
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


def submit(root, student, files=None, limits=None, **kw):
    files = files or {"ps1.ipynb": b"{}", "submission_secret.txt": student.encode() * 4}
    limits = limits or Limits()
    return receive_submission(root, "c101", "ps1", student, archive(files), limits, **kw)


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


def many_empty_members(count: int) -> bytes:
    """The issue's stall: 60,000 empty members are ~134 KB of gzip."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for i in range(count):
            tar.addfile(tarfile.TarInfo(f"f{i}"), io.BytesIO(b""))
    return buffer.getvalue()


def gzip_bomb(megabytes: int) -> bytes:
    """One notebook of zeros: a few hundred KB that unpack to `megabytes` MB."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("ps1.ipynb")
        info.size = megabytes * 1024 * 1024
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    return buffer.getvalue()


def leftovers(root) -> list[str]:
    inbound = root / "c101" / "inbound"
    return [p.name for p in inbound.iterdir() if p.name.startswith(".")] if inbound.is_dir() else []


def test_many_members_stop_at_the_limit_while_streaming(root):
    hostile = many_empty_members(60_000)
    started = time.perf_counter()
    with pytest.raises(ExchangeError, match="more than 200 files"):
        receive_submission(root, "c101", "ps1", "alice", hostile, Limits())
    took = time.perf_counter() - started
    # Listing all 60,000 members first took ~3 s (issue 19); stopping at member 201 takes ms.
    assert took < 0.5, f"{took:.2f} s"
    assert not leftovers(root) and not submissions_of(root, "c101", "alice")


def test_a_gzip_bomb_is_stopped_at_the_decompressed_cap(root):
    bomb = gzip_bomb(200)
    assert len(bomb) < 400_000
    started = time.perf_counter()
    with pytest.raises(ExchangeError, match="the limit is") as e:
        receive_submission(root, "c101", "ps1", "alice", bomb, Limits(max_bytes=2 * 1024 * 1024))
    assert e.value.status == 413
    assert time.perf_counter() - started < 1.0
    assert not leftovers(root) and not submissions_of(root, "c101", "alice")


def test_a_submission_that_fails_half_way_leaves_nothing_behind(root):
    bad = archive({"ps1.ipynb": b"{}", "data.csv": b"1,2"}, symlink="zz-link")
    with pytest.raises(ExchangeError, match="only plain files"):
        receive_submission(root, "c101", "ps1", "alice", bad, Limits())
    assert not leftovers(root) and not submissions_of(root, "c101", "alice")


def test_incomplete_submissions_are_removed_at_start(root):
    left = root / "c101" / "inbound" / ".alice+ps1+2027-01-10 12:00:00.000000 UTC+ab.partial"
    left.mkdir(parents=True)
    (left / "ps1.ipynb").write_text("{}")
    assert remove_partial(root) == [left]
    assert not left.exists()


def test_the_last_n_submissions_are_kept_and_the_newest_always(root):
    limits = Limits(keep=3)
    stamps = [
        receive_submission(
            root, "c101", "ps1", "alice", archive({"ps1.ipynb": str(i).encode()}), limits,
            now=datetime(2027, 1, 10, 12, i, tzinfo=UTC),
        )
        for i in range(6)
    ]  # fmt: skip
    kept = submissions_of(root, "c101", "alice")
    assert [(p / "timestamp.txt").read_text() for p in kept] == stamps[-3:]
    assert (kept[-1] / "ps1.ipynb").read_text() == "5"
    submit(root, "bob", now=NOW)  # other students are not counted
    assert len(submissions_of(root, "c101", "alice")) == 3


def test_a_student_over_the_hourly_count_is_refused_clearly(root):
    limits = Limits(per_hour=2)
    for minute in (0, 10):
        submit(root, "alice", now=datetime(2027, 1, 10, 12, minute, tzinfo=UTC), limits=limits)
    with pytest.raises(ExchangeError, match="2 times in the last hour") as e:
        submit(root, "alice", now=datetime(2027, 1, 10, 12, 30, tzinfo=UTC), limits=limits)
    assert e.value.status == 429 and "try again in 30 minutes" in str(e.value)
    assert len(submissions_of(root, "c101", "alice")) == 2  # nothing accepted was lost
    submit(root, "bob", now=datetime(2027, 1, 10, 12, 30, tzinfo=UTC), limits=limits)
    submit(root, "alice", now=datetime(2027, 1, 10, 13, 1, tzinfo=UTC), limits=limits)


def test_student_and_assignment_byte_quotas(root):
    notebook = {"ps1.ipynb": b"x" * 40_000}
    limits = Limits(student_bytes=100_000, assignment_bytes=1_000_000, keep=5)
    for minute in (0, 1):
        submit(root, "alice", notebook, now=datetime(2027, 1, 10, 12, minute, tzinfo=UTC),
               limits=limits)  # fmt: skip
    with pytest.raises(ExchangeError, match="over your quota for ps1") as e:
        submit(root, "alice", notebook, now=NOW, limits=limits)
    assert e.value.status == 413
    assert len(submissions_of(root, "c101", "alice")) == 2 and not leftovers(root)
    # With keep=2 the oldest would go: only the last one and the new one count.
    submit(root, "alice", notebook, now=NOW, limits=Limits(student_bytes=100_000, keep=2))
    full = Limits(assignment_bytes=100_000)
    with pytest.raises(ExchangeError, match="space for ps1 is full") as e:
        submit(root, "bob", notebook, now=NOW, limits=full)
    assert e.value.status == 507 and not submissions_of(root, "c101", "bob")


def test_limits_come_from_the_environment():
    limits = limits_from_env(
        {"CELERYLAB_SUBMISSION_MAX_MB": "1.5", "CELERYLAB_SUBMISSION_KEEP": "2",
         "CELERYLAB_SUBMISSIONS_PER_HOUR": "", "CELERYLAB_STUDENT_QUOTA_MB": "10"}
    )  # fmt: skip
    assert (limits.max_bytes, limits.keep, limits.per_hour) == (1572864, 2, 20)
    assert limits.student_bytes == 10 * 1024 * 1024
    with pytest.raises(SystemExit, match="CELERYLAB_SUBMISSION_KEEP"):
        limits_from_env({"CELERYLAB_SUBMISSION_KEEP": "0"})
    assert Limits.class_traits()["keep"].help  # documented where it is configured
