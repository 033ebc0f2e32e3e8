"""What a batch prediction job is, and its folder on disk."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trainer.errors import UserError
from trainer.intake.reading import IntakeLimits
from trainer.runs.store import write_json_atomic

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet", ".txt": "txt"}
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)


def chunk_rows() -> int:
    """Rows per part file, what a restart can lose at most: ``CLASSITUNE_BATCH_CHUNK_ROWS`` (default 2,048)."""
    return max(64, int(os.environ.get("CLASSITUNE_BATCH_CHUNK_ROWS", "2048")))


def batch_limits() -> IntakeLimits:
    """The bound on one job's input: ``CLASSITUNE_BATCH_MAX_MB`` (default 1,024) and ``CLASSITUNE_BATCH_MAX_ROWS``
    (default 2,000,000), well above the instant Predict's 5,000 texts."""
    return IntakeLimits(max_bytes=int(float(os.environ.get("CLASSITUNE_BATCH_MAX_MB", "1024")) * 2**20),
                        max_rows=int(os.environ.get("CLASSITUNE_BATCH_MAX_ROWS", "2000000")))


@dataclass
class BatchSpec:
    """One job: where its texts come from and which model reads them (resolved when the job starts, so a resumed
    job uses the same model: a run folder and which of its models, or a local copy of a Hub model)."""

    model: str  # what the user named: a run id, tuned:<id>, base:<id> or a Hub id
    model_path: str  # the run folder, or the Hub model's local folder
    which: str | None  # for a run: "tuned" or "baseline"; None for a Hub model
    text_column: str = "text"
    input_name: str = ""  # the uploaded file's name, kept for the output's name and format
    hub_dataset: str = ""  # or a Hub dataset id, with its split
    split: str = "train"
    created: float = field(default_factory=time.time)
    chunk_rows: int = field(default_factory=chunk_rows)  # fixed when the job is made: a resume finds the same parts
    where: str = "here"  # this machine's workers, or a Hugging Face Jobs flavor (on_jobs.py)

    @property
    def format(self) -> str:
        return "parquet" if self.hub_dataset else FORMATS[Path(self.input_name).suffix.lower()]

    @property
    def output_name(self) -> str:
        stem = self.hub_dataset.replace("/", "__") + f"-{self.split}" if self.hub_dataset else Path(self.input_name).stem
        return f"{stem}-predictions.{'csv' if self.format == 'txt' else self.format}"


@dataclass(frozen=True)
class BatchStatus:
    """A job as its owner sees it (the Predict tab's panel, the API): what, how far, how fast, how it ended."""

    job_id: str
    model: str
    input: str
    state: str
    rows_total: int | None = None
    rows_done: int = 0
    rows_per_second: float | None = None
    eta_seconds: float | None = None
    error: str | None = None
    output: str | None = None
    resumed_chunks: int | None = None
    attempts: int | None = None
    where: str = "here"  # or the Hugging Face Jobs flavor it runs on
    job_url: str | None = None  # its page on Hugging Face Jobs

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def to_dict(self) -> dict:
        return asdict(self)


def check_input_name(name: str) -> str:
    if Path(name).suffix.lower() not in FORMATS:
        raise UserError(f"{Path(name).name!r}: a batch job reads CSV, TSV, JSON Lines, Parquet or plain text (.txt, one "
                        f"text per line). Save the file in one of those formats.")
    return name


class BatchJob:
    """One job's folder."""

    def __init__(self, folder: Path):
        self.dir = Path(folder)

    @property
    def id(self) -> str:
        return self.dir.name

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def input_path(self) -> Path:
        spec = self.spec()
        return self.path("input.parquet" if spec.hub_dataset else "input" + Path(spec.input_name).suffix.lower())

    def spec(self) -> BatchSpec:
        return BatchSpec(**json.loads(self.path("spec.json").read_text()))

    def write_spec(self, spec: BatchSpec) -> None:
        write_json_atomic(self.path("spec.json"), asdict(spec))

    def status(self) -> dict:
        try:
            return json.loads(self.path("status.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {"state": QUEUED}

    def update(self, **changes) -> dict:
        status = {**self.status(), **changes}
        write_json_atomic(self.path("status.json"), status)
        return status

    def part(self, index: int) -> Path:
        return self.path("parts") / f"{index:06d}.parquet"

    @property
    def output_path(self) -> Path:
        return self.path(self.spec().output_name)

    @property
    def cancel_requested(self) -> bool:
        return self.path("cancel").exists()
