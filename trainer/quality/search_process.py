"""Label-error searches for the app, each in its own process, a bounded number at a time.

A search embeds every row of a file with the frozen encoder: minutes of CPU for a few megabytes. In the web
process it would slow every other visitor's request and keep its memory; here it runs as
``python -m trainer label-errors --app-limits`` (the app's upload limits), at most
``CLASSITUNE_MAX_LABEL_SEARCHES`` (default 1) at once, each stopped after ``CLASSITUNE_LABEL_SEARCH_SECONDS``
(default 600). A caller waits for a free place for at most as long.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from trainer.errors import UserError
from trainer.intake.label_sets import LabelOptions
from trainer.quality.label_errors import LabelErrors

ROOT = Path(__file__).resolve().parent.parent.parent
_places: threading.BoundedSemaphore | None = None
_lock = threading.Lock()


def _searches() -> threading.BoundedSemaphore:
    global _places
    with _lock:
        if _places is None:
            _places = threading.BoundedSemaphore(max(1, int(os.environ.get("CLASSITUNE_MAX_LABEL_SEARCHES", "1"))))
        return _places


def _seconds() -> float:
    return float(os.environ.get("CLASSITUNE_LABEL_SEARCH_SECONDS", "600"))


def command(path: str, output: str, text_column: str | None, label_column: str | None, model: str | None,
            labels: LabelOptions | None) -> list[str]:
    labels = labels or LabelOptions()
    args = [sys.executable, "-m", "trainer", "label-errors", str(path), "--app-limits", "--top", "0",
            "--format", "json", "--output", output, "--task", labels.task]
    for flag, value in (("--text-column", text_column), ("--label-column", label_column), ("--model", model),
                        ("--label-delimiter", labels.delimiter),
                        ("--label-columns", ",".join(labels.columns) if labels.columns else None)):
        if value:
            args += [flag, value]
    return args


def label_errors_in_process(path: str, text_column: str | None = None, label_column: str | None = None,
                            model: str | None = None, labels: LabelOptions | None = None) -> LabelErrors:
    """The search of ``label_errors_in_file``, run in a separate process; a user error comes back as one."""
    if not _searches().acquire(timeout=_seconds()):
        raise UserError("Other label-error searches are running and none finished in time; try again in a few "
                        "minutes.")
    try:
        with tempfile.TemporaryDirectory(prefix="classitune-search-") as folder:
            output = str(Path(folder) / "result.json")
            try:
                done = subprocess.run(command(path, output, text_column, label_column, model or "default", labels),
                                      capture_output=True, text=True, cwd=ROOT, timeout=_seconds())
            except subprocess.TimeoutExpired:
                raise UserError(f"The label-error search took longer than {_seconds():.0f} s and was stopped; try a "
                                f"smaller file (or a sample of it).") from None
            if done.returncode == 2:  # the CLI's exit code for a user error, its message on stderr
                message = done.stderr.rpartition("error: ")[2].strip() or "The file was refused."
                raise UserError(message)
            if done.returncode:
                raise RuntimeError(f"label-error search failed ({done.returncode}): {done.stderr[-500:]}")
            return LabelErrors(**json.loads(Path(output).read_text()))
    finally:
        _searches().release()
