"""Issue 33 ("also check"): on a mounted bucket the runs live there, but the locks and the SQLite registry (which
need a local filesystem: flock, WAL shared memory) live on local disk, and a new machine rebuilds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.runs import state_root as state_module
from trainer.runs.state_root import mount_of, on_remote_mount

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

MOUNTS = """overlay / overlay rw 0 0
tmpfs /tmp tmpfs rw 0 0
hf-mount /data fuse.hf-mount rw,nosuid 0 0
server:/export /mnt/nfs nfs4 rw 0 0
/dev/sda1 /data2 ext4 rw 0 0
"""


def test_the_mount_of_a_path_and_whether_it_is_remote(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert mount_of(tmp_path.parent / "x", MOUNTS)[0] in ("/", "/tmp")
    assert mount_of(Path("/data/classitune/runs"), MOUNTS) == ("/data", "fuse.hf-mount")
    assert mount_of(Path("/data2/classitune"), MOUNTS) == ("/data2", "ext4")  # not /data
    for path, remote in (("/data/classitune", True), ("/mnt/nfs/runs", True), ("/data2/runs", False),
                         ("/tmp/runs", False), ("/home/user/runs", False)):
        assert on_remote_mount(Path(path), str(mounts)) is remote, path


def test_runs_on_a_bucket_keep_locks_and_registry_on_local_disk_and_a_new_machine_rebuilds_them(tmp_path,
                                                                                              monkeypatch):
    from trainer.runs.store import RunStore

    bucket = (tmp_path / "bucket").resolve()
    bucket.mkdir()
    monkeypatch.setattr(state_module, "on_remote_mount", lambda path, *_: str(path).startswith(str(bucket)))
    monkeypatch.setenv("CLASSITUNE_STATE_ROOT", str(tmp_path / "machine-1"))
    state_module.state_root.cache_clear()
    store = RunStore(bucket)
    run = store.create("hf:alice", "data.csv", {"model": "default", "method": "full"})
    run.update_status(state="running", progress=0.5)
    assert str(store.db_path).startswith(str(tmp_path / "machine-1")) and str(run.lock_path).startswith(
        str(tmp_path / "machine-1"))
    assert not list(bucket.rglob("*.lock")) and not list(bucket.rglob("registry.sqlite*"))
    assert [r["id"] for r in store.list("hf:alice")] == [run.id]
    # The Space restarts on a new machine: its local disk is empty, the bucket is as it was.
    monkeypatch.setenv("CLASSITUNE_STATE_ROOT", str(tmp_path / "machine-2"))
    state_module.state_root.cache_clear()
    again = RunStore(bucket)
    assert [r["id"] for r in again.list("hf:alice")] == [run.id] and again.list("hf:bob") == []
    assert again.get(run.id).status()["progress"] == 0.5
    state_module.state_root.cache_clear()
