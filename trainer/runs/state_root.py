"""Where the locks and the run registry live: beside the runs, unless the runs are on a mounted object store.

Everything that keeps runs consistent across processes (``status.json`` changed under a
``flock``, the dispatch and per-user locks, the training slots, the SQLite registry in WAL
mode) needs a local filesystem: a FUSE or network mount of a Storage Bucket or an S3-style
store often lacks ``flock`` (or makes it local to one client) and the shared memory WAL
needs. So when the data root is on such a mount, those files go to a local folder instead
(``CLASSITUNE_STATE_ROOT``, else one under the temporary folder, keyed by the data root), and
only the run folders live on the bucket. That is safe because both are rebuilt on start: the
registry from the run folders, the locks as they are taken (a lock held by a process that is
gone is free). One app machine per data root, as before.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

# Filesystems whose locking and shared memory cannot be trusted to be the kernel's own, local ones.
REMOTE_TYPES = ("fuse", "nfs", "cifs", "smb", "9p", "ceph", "gluster", "lustre", "s3", "gcsfuse", "afs", "sshfs")


def mount_of(path: Path, mounts: str) -> tuple[str, str]:
    """(mount point, filesystem type) of the mount holding ``path``, from a ``/proc/mounts`` text."""
    best = ("/", "")
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[0]):
            best = (point, fields[2])
    return best


def on_remote_mount(path: Path, mounts_file: str = "/proc/mounts") -> bool:
    try:
        mounts = Path(mounts_file).read_text()
    except OSError:  # not Linux: assume a local disk, as before
        return False
    kind = mount_of(Path(path).resolve(), mounts)[1].lower()
    return any(kind == remote or kind.startswith(remote + ".") or kind.startswith(remote) for remote in REMOTE_TYPES)


@lru_cache(maxsize=32)
def state_root(data_root: Path) -> Path:
    """The folder for locks and the registry of ``data_root`` (see the module docstring)."""
    configured = os.environ.get("CLASSITUNE_STATE_ROOT")
    if configured:
        folder = Path(configured) / hashlib.sha256(str(data_root).encode()).hexdigest()[:16]
    elif on_remote_mount(data_root):
        folder = (Path(tempfile.gettempdir()) / f"classitune-state-{os.getuid()}"
                  / hashlib.sha256(str(data_root).encode()).hexdigest()[:16])
    else:
        return data_root
    folder.mkdir(parents=True, exist_ok=True)
    return folder
