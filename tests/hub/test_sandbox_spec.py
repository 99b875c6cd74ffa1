"""The grading sandbox's container spec and the grading task's input checks (no Docker).

The live behaviour (limits hit, reasons recorded, escapes closed) is integration-tests/test_sandbox.
"""

import io
import tarfile

import pytest
from celerylab_hub import grading, sandbox


def targz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_the_sandbox_has_no_network_no_root_filesystem_and_limits():
    limits = sandbox.Limits(memory="300m", cpus=0.5, pids=50)
    spec = sandbox.container_options("lab:1", limits, {"org.celerylab.course": "c1"})
    assert spec["network_mode"] == "none"
    assert spec["read_only"] is True
    assert spec["cap_drop"] == ["ALL"] and set(spec["cap_add"]) == {"SETUID", "SETGID", "KILL"}
    assert "no-new-privileges" in spec["security_opt"]
    assert (spec["mem_limit"], spec["memswap_limit"]) == ("300m", "300m")  # no swap to hide in
    assert spec["nano_cpus"] == 500_000_000 and spec["pids_limit"] == 50
    assert set(spec["tmpfs"]) == {"/workspace", "/tmp"}
    assert "size=" in spec["tmpfs"]["/workspace"]
    assert spec["labels"][sandbox.LABEL] == "1" and spec["labels"]["org.celerylab.course"] == "c1"
    assert not any("docker.sock" in str(m) for m in spec["mounts"])


def test_workspace_paths_stay_inside_and_size_is_limited():
    tar = sandbox.workspace_archive({"ps1.ipynb": b"{}", "data/x.csv": b"1"}, sandbox.Limits())
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        assert sorted(t.getnames()) == ["in/data/x.csv", "in/ps1.ipynb"]
    with pytest.raises(ValueError, match="unsafe path"):
        sandbox.workspace_archive({"../escape": b""}, sandbox.Limits())
    with pytest.raises(sandbox.InputTooLarge, match="grading limit is 1 MiB"):
        sandbox.workspace_archive({"big": b"x" * (2 * 2**20)}, sandbox.Limits(input_mib=1))


def test_a_refused_workspace_still_disposes_of_the_spare_it_was_given():
    spare, disposed = object(), []
    with pytest.raises(sandbox.InputTooLarge):
        sandbox.run(
            None, "lab:1", {"big": b"x" * (2 * 2**20)}, "big", sandbox.Limits(input_mib=1),
            warm=spare, dispose=disposed.append,
        )  # fmt: skip
    assert disposed == [spare]  # not left idling until it expires


def test_the_service_accepts_only_a_clean_gzip_tar():
    limits = sandbox.Limits(input_mib=1)
    assert sandbox.unpack(targz({"./ps1.ipynb": b"{}"}), limits) == {"ps1.ipynb": b"{}"}
    with pytest.raises(ValueError, match="not a gzip-compressed tar"):
        sandbox.unpack(b"not an archive", limits)
    with pytest.raises(ValueError, match="unsafe path"):
        sandbox.unpack(targz({"a/../../etc/passwd": b""}), limits)
    with pytest.raises(sandbox.InputTooLarge):
        sandbox.unpack(targz({"big": b"x" * (2 * 2**20)}), limits)


def test_limits_come_from_the_environment_and_bad_values_stop_the_service():
    limits = grading.limits_from_env(
        {"CELERYLAB_SANDBOX_MEMORY": "1g", "CELERYLAB_SANDBOX_PIDS": "99", "OTHER": "x"}
    )
    assert (limits.memory, limits.pids, limits.wall_seconds) == ("1g", 99, 300)
    with pytest.raises(SystemExit, match="CELERYLAB_SANDBOX_CPUS='lots': expected a float"):
        grading.limits_from_env({"CELERYLAB_SANDBOX_CPUS": "lots"})


def test_a_warm_sandbox_is_the_same_sandbox_started_ahead():
    limits = sandbox.Limits(cell_timeout=7, output_kib=3)
    cold = sandbox.container_options("lab:1", limits, {})
    warm = sandbox.container_options("lab:1", limits, {}, warm=True)
    assert warm["command"] == ["--warm"] and cold["command"] == []
    assert {k: v for k, v in warm.items() if k != "command"} == {
        k: v for k, v in cold.items() if k != "command"
    }
    # Everything the runner needs before a submission exists comes from the limits.
    settings = sandbox.job_settings(limits)
    assert settings["cell_timeout"] == 7 and settings["output_limit"] == 3 * 1024
    assert "notebook" not in settings and settings["idle_seconds"] > 0


def test_docker_timestamps_with_nanoseconds_parse():
    stamp = grading._docker_time("2026-11-24T23:10:11.123456789Z")
    assert (stamp.second, stamp.microsecond, stamp.utcoffset().total_seconds()) == (11, 123456, 0)
    assert grading._docker_time("2026-11-24T23:10:11Z").microsecond == 0
