"""Short-lived files the app writes for a visitor (downloads, Hub datasets), pruned by age.

Every request that writes one first removes folders older than ``CLASSITUNE_SCRATCH_HOURS`` (default 3), so a
long-running Space does not fill its disk; Gradio's own upload cache is pruned on the same schedule
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


def prune(now: float | None = None) -> int:
    """Remove scratch folders older than the limit; return how many went."""
    limit, removed = (now or time.time()) - max_age_seconds(), 0
    for folder in root().iterdir():
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # another request pruned it first
            continue
    return removed


def new_folder(prefix: str) -> Path:
    """A fresh private folder for one request's files, after pruning the old ones."""
    prune()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root()))
