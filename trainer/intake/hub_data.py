"""Datasets from the Hugging Face Hub, for the Data tab: the id is checked to be a Hub id and nothing else.

``datasets.load_dataset`` resolves local folders, files and packaged builders (``csv``,
``parquet`` ...) as readily as Hub ids, so a visitor's string must never reach it
unchecked: a run folder typed as an "id" would hand over another user's data. The
split is streamed and stops at the row limit, so no download is larger than intake allows.
For the app it runs in a process of its own (``fetch_in_process``): the streaming reader keeps
about 170 MB of a refused, highly compressed file in the process that read it
(``bench/bench_web_hub.py``), which must not be the web server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from trainer.errors import UserError
from trainer.models import HUB_ID, PROJECT_ROOT

SPLIT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
READ_TOKEN_ENV = "CLASSITUNE_HUB_READ_TOKEN"  # the caller's token, for the loader process's memory only
LOAD_SECONDS = 300


def check_hub_dataset_id(dataset_id: object) -> str:
    """The id if it can only mean a Hub dataset; a ``UserError`` naming the problem otherwise."""
    if not isinstance(dataset_id, str) or not dataset_id.strip():
        raise UserError("Type a Hub dataset id such as 'cornell-movie-review-data/rotten_tomatoes'.")
    name = dataset_id.strip()
    from datasets.packaged_modules import _PACKAGED_DATASETS_MODULES

    # The id grammar first: only a string that could be a Hub id reaches the filesystem check (a 1 MB "id" would
    # make the check itself fail, "file name too long").
    if (not HUB_ID.match(name) or ".." in name or name.endswith(".") or name.lower() in _PACKAGED_DATASETS_MODULES
            or any((base / name).exists() for base in (Path.cwd(), PROJECT_ROOT))):
        raise UserError(f"{name[:100]!r} is not a Hugging Face Hub dataset id. Type an id such as "
                        f"'cornell-movie-review-data/rotten_tomatoes' (letters, digits, '-', '_', '.', one '/'); "
                        f"to use a file, upload it instead.")
    return name


def check_split(split: object) -> str:
    if split in (None, ""):
        return "train"
    if not isinstance(split, str) or not SPLIT.match(split.strip()):
        raise UserError(f"Split {str(split)[:60]!r} is not a split name: use a name such as train, validation or test.")
    return split.strip()


def _take(rows, max_rows: int, max_bytes: int | None, name: str, split: str) -> list[dict]:
    """The rows, refused as soon as there are more than ``max_rows`` or their values pass ``max_bytes``."""
    taken, size = [], 0
    for row in rows:
        size += sum(len(v) if isinstance(v, (str, bytes)) else len(str(v)) for v in row.values())
        if max_bytes is not None and size > max_bytes:
            raise UserError(f"{name!r} split {split!r} holds more than {max_bytes / 1e6:.0f} MB of data, the upload "
                            f"limit here. Upload a sample of it as a file, or raise CLASSITUNE_MAX_UPLOAD_MB where "
                            f"you run the app.")
        taken.append(row)
        if len(taken) > max_rows:
            raise UserError(f"{name!r} split {split!r} has more than {max_rows:,} rows, the limit here. "
                            f"Upload a sample of it as a file, or raise CLASSITUNE_MAX_ROWS where you run the app.")
    return taken


def fetch_hub_dataset(dataset_id: object, split: object, folder: Path, max_rows: int, token: str | None = None,
                      max_bytes: int | None = None) -> Path:
    """Stream a Hub dataset split (at most ``max_rows`` rows and ``max_bytes`` of decoded text, the upload limits,
    counted row by row so a small, highly compressed file cannot fill the memory) and write it as Parquet for
    intake; read with the caller's ``token`` (hub_auth.py), or anonymously."""
    name, split = check_hub_dataset_id(dataset_id), check_split(split)
    try:
        from datasets import load_dataset

        dataset = load_dataset(name, split=split, streaming=True, token=token if token else False)
        rows = _take(dataset, max_rows, max_bytes, name, split)
    except UserError:
        raise
    except Exception as exc:  # offline, unknown id, gated, bad split: all mean "could not load"
        raise UserError(f"Could not load {name!r} (split {split!r}) from the Hugging Face Hub: "
                        f"{type(exc).__name__}. The Hub may be unreachable from this machine; upload a file instead."
                        ) from exc
    frame = pd.DataFrame(rows)
    for column, feature in (dataset.features or {}).items():
        if hasattr(feature, "int2str") and column in frame:
            frame[column] = frame[column].map(feature.int2str)
    path = folder / f"{name.replace('/', '__')}-{split}.parquet"
    frame.to_parquet(path)
    return path


def fetch_in_process(dataset_id: object, split: object, folder: Path, max_rows: int, max_bytes: int,
                     token: str | None = None) -> Path:
    """``fetch_hub_dataset`` in a process of its own (``python -m trainer hub-dataset``); a user error comes back
    as one. The token goes to it in its environment, never on its command line."""
    name, split = check_hub_dataset_id(dataset_id), check_split(split)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", READ_TOKEN_ENV)}
    if token:
        env[READ_TOKEN_ENV] = token
    args = [sys.executable, "-m", "trainer", "hub-dataset", name, "--split", split, "--output", str(folder),
            "--max-rows", str(max_rows), "--max-bytes", str(max_bytes)]
    try:
        done = subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=LOAD_SECONDS)
    except subprocess.TimeoutExpired:
        raise UserError(f"Loading {name!r} from the Hub took longer than {LOAD_SECONDS} s and was stopped; upload a "
                        f"file instead.") from None
    if done.returncode == 2:  # the CLI's exit code for a user error, its message on stderr
        raise UserError(done.stderr.rpartition("error: ")[2].strip() or f"Could not load {name!r}.")
    if done.returncode:
        raise UserError(f"Could not load {name!r} (split {split!r}) from the Hugging Face Hub: the loader stopped "
                        f"(exit {done.returncode}). Upload a file instead.")
    return Path(done.stdout.strip().splitlines()[-1])
