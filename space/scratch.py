"""Short-lived files the app writes for a visitor (downloads, Hub datasets, fixed files), pruned by age and size.

Every request that writes one first removes folders older than ``CLASSITUNE_SCRATCH_HOURS`` (default 3), then
the oldest ones while all of them hold more than ``CLASSITUNE_SCRATCH_MB`` (default 2,000), so a long-running
Space does not fill its disk however often visitors click; Gradio's own upload cache is pruned on the same schedule
(``delete_cache`` in ui.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path


def max_age_seconds() -> float:
    return float(os.environ.get("CLASSITUNE_SCRATCH_HOURS", "3")) * 3600


def root() -> Path:
    path = Path(tempfile.gettempdir()) / f"classitune-scratch-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def max_bytes() -> float:
    return float(os.environ.get("CLASSITUNE_SCRATCH_MB", "2000")) * 1024 * 1024


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def prune(now: float | None = None) -> int:
    """Remove scratch folders older than the age limit, then the oldest while the rest pass the size limit;
    return how many went."""
    limit, removed, kept = (now or time.time()) - max_age_seconds(), 0, []
    for folder in root().iterdir():
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            else:
                kept.append((folder.stat().st_mtime, _size(folder), folder))
        except FileNotFoundError:  # another request pruned it first
            continue
    total = sum(size for _, size, _ in kept)
    for _, size, folder in sorted(kept, key=lambda k: k[0]):
        if total <= max_bytes():
            break
        shutil.rmtree(folder, ignore_errors=True)
        total, removed = total - size, removed + 1
    return removed


def new_folder(prefix: str) -> Path:
    """A fresh private folder for one request's files, after pruning the old ones."""
    prune()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root()))


def copy_out(path: Path) -> str:
    """A scratch copy of a file from the data root, for a download (Gradio serves files from its temp folder; the
    data root may be a mounted bucket, and it holds other users' files)."""
    target = new_folder("download") / path.name
    shutil.copyfile(path, target)
    return str(target)
