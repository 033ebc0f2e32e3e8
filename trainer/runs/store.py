"""Run directories on disk and the SQLite registry that indexes them.

The run directory is the source of truth (``config.json``, ``labels.json``,
``status.json``, ``metrics.jsonl``, ``eval_predictions.csv``, ``model/``); the
registry is an index for listing runs by owner and can always be rebuilt from
the directories. Run ids are unguessable and validated before they touch a path.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from trainer.errors import UserError
from trainer.runs.state_root import state_root

STOP_REQUEST = "stop-requested"  # a file in the run: "stop after this step and keep the best model so far"
STATES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[A-Za-z0-9_-]{16}$")


def not_found(run_id: str) -> str:
    """The one message for a missing run and for someone else's run, so ids cannot be probed."""
    return f"Run {run_id.strip()!r} was not found among your runs."


def data_root() -> Path:
    """``CLASSITUNE_DATA_ROOT``, else ``/data/classitune`` where a volume is mounted at ``/data`` (a Space's
    Storage Bucket; README "Run directories"), else ``./runs``."""
    configured = os.environ.get("CLASSITUNE_DATA_ROOT")
    if configured:
        root = Path(configured)
    elif Path("/data").is_dir() and os.access("/data", os.W_OK):
        root = Path("/data/classitune")
    else:
        root = Path("runs")
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def storage_note() -> str | None:
    """On a Space with no storage volume, runs live on its ephemeral disk and vanish at the next restart: the
    notice the app shows then (None elsewhere, or when the operator pointed the data root somewhere)."""
    if not os.environ.get("SPACE_ID") or os.environ.get("CLASSITUNE_DATA_ROOT") or os.path.ismount("/data"):
        return None
    return ("This Space has no storage volume, so runs and their models are kept only until it restarts. "
            "Publish a model to the Hub to keep it; the Space's owner can mount a Storage Bucket to keep runs "
            "(README: \"Run directories\").")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_urlsafe(12)[:16]


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot), or None if it is gone.

    A pid and its start time name one process for good, so a recycled pid is never taken
    for a run's worker, whatever the process was started as (a standby worker's command
    line does not name its run).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> dict:
    """The status fields that name the current process as a run's worker."""
    return {"pid": os.getpid(), "pid_start": process_start(os.getpid())}


def write_json_atomic(path: Path, data) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    write_text_atomic(path, json.dumps(data, indent=1, default=str))


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class Run:
    """One run directory."""

    dir: Path

    @property
    def id(self) -> str:
        return self.dir.name

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def model_dir(self) -> Path:
        return self.dir / "model"

    @property
    def lock_path(self) -> Path:
        """The lock of ``status.json``: in the run folder, or in the local state folder when runs are on a mounted
        bucket (state_root.py)."""
        state = state_root(self.dir.parent.parent)
        if state == self.dir.parent.parent:
            return self.path("status.lock")
        folder = state / "status-locks"
        folder.mkdir(exist_ok=True)
        return folder / f"{self.id}.lock"

    def status(self) -> dict:
        try:
            return json.loads(self.path("status.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {"state": "failed", "error": "The run directory is damaged: status.json is missing or unreadable."}

    def update_status(self, **changes) -> dict:
        """Read, change and write ``status.json`` under a file lock: the app and the worker both update it, and
        without the lock one's change could overwrite the other's (a run shown queued while it trains)."""
        with open(self.lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            status = self.status() if self.path("status.json").exists() else {}
            status.update(changes)
            status["updated"] = time.time()
            write_json_atomic(self.path("status.json"), status)
        return status

    def config(self) -> dict:
        return json.loads(self.path("config.json").read_text())

    def labels(self) -> list[str]:
        return json.loads(self.path("labels.json").read_text())

    def keep_events_until(self, step: int) -> None:
        """On resume, forget the events logged after the step training restarts from: they will be logged again
        (a chart of the run shows one series, not two)."""
        kept = [e for e in self.metrics() if e.get("step", 0) <= step]
        write_text_atomic(self.path("metrics.jsonl"), "".join(json.dumps(e) + "\n" for e in kept))

    def metrics(self) -> list[dict]:
        """All metric events; a half-written last line (a killed worker) is skipped."""
        events = []
        try:
            with open(self.path("metrics.jsonl")) as handle:
                for line in handle:
                    try:
                        events.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
        except FileNotFoundError:
            pass
        return events

    def append_metrics(self, event: dict) -> None:
        with open(self.path("metrics.jsonl"), "a") as handle:
            handle.write(json.dumps(event) + "\n")

    def append_activity(self, line: str) -> None:
        """One line a person reads (activity.py); the Train tab shows the last ones."""
        with open(self.path("activity.log"), "a", encoding="utf-8") as handle:
            handle.write(line.replace("\n", " ") + "\n")

    def activity(self, lines: int) -> list[str]:
        try:
            with open(self.path("activity.log"), "rb") as handle:
                handle.seek(max(0, self.path("activity.log").stat().st_size - 200 * lines))
                return handle.read().decode("utf-8", errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return []


class RunStore:
    """Creates, finds and lists runs under a data root."""

    def __init__(self, root: Path | None = None):
        self.root = (root or data_root()).resolve()
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.state = state_root(self.root)  # locks and the registry: local disk (state_root.py)
        self.db_path = self.state / "registry.sqlite"
        fresh = not self.db_path.exists()
        self._init_db()
        if fresh:  # first start, or the registry was lost: index whatever run directories exist
            self.rebuild()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def _init_db(self) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("""CREATE TABLE IF NOT EXISTS runs (
                id TEXT PRIMARY KEY, owner TEXT, created REAL, state TEXT, dataset TEXT, model TEXT,
                method TEXT, best_accuracy REAL, best_macro_f1 REAL, baseline_accuracy REAL)""")
            conn.execute("CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, created)")

    def get(self, run_id: str) -> Run:
        """The run with this id; ids are checked so no id can name a path outside the runs folder."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id.strip()):
            raise UserError(f"{str(run_id)[:80]!r} is not a valid run id (it looks like 20260101-120000-AbCd...).")
        run = Run(self.runs_dir / run_id.strip())
        if not run.path("status.json").exists():
            raise UserError(not_found(run_id))
        return run

    def owner_of(self, run: Run) -> str | None:
        """From ``status.json``, else from the registry (a damaged run still belongs to someone)."""
        owner = run.status().get("owner")
        if owner:
            return owner
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT owner FROM runs WHERE id=?", (run.id,)).fetchone()
        return row[0] if row else None

    def create(self, owner: str, dataset: str, config: dict, labels: list[str] | None = None,
               report: dict | None = None) -> Run:
        """A new, queued run in the registry (start.write_run adds its data when it was not given here)."""
        run = Run(self.runs_dir / new_run_id())
        run.dir.mkdir(parents=True)
        write_json_atomic(run.path("config.json"), config)
        if labels is not None:
            write_json_atomic(run.path("labels.json"), labels)
        if report is not None:
            write_json_atomic(run.path("data_report.json"), report)
        run.update_status(state="queued", owner=owner, dataset=dataset, created=time.time(),
                          model=config.get("model"), method=config.get("method"))
        self.index(run)
        return run

    def index(self, run: Run) -> None:
        """Copy a run's status into the registry (called on every state change); a damaged status keeps its owner.
        The scores listed are those of the model the run uses (its baseline, when recommended or chosen)."""
        from trainer.training.choice import BASELINE, chosen_model

        s = run.status()
        best = (s.get("baseline") if s.get("best") and chosen_model(s) == BASELINE else s.get("best")) or {}
        with closing(self._connect()) as conn, conn:
            owner = s.get("owner") or (conn.execute("SELECT owner FROM runs WHERE id=?", (run.id,)).fetchone() or [None])[0]
            conn.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)", (
                run.id, owner, s.get("created"), s.get("state"), s.get("dataset"), s.get("model"),
                s.get("method"), best.get("accuracy"), best.get("macro_f1"), (s.get("baseline") or {}).get("accuracy")))

    def set_state(self, run: Run, state: str, **changes) -> dict:
        assert state in STATES, state
        stamp = {"started": time.time()} if state == "running" else {}
        if state not in ACTIVE:
            stamp = {"finished": time.time()}
        status = run.update_status(state=state, **stamp, **changes)
        self.index(run)
        return status

    def list(self, owner: str | None = None) -> list[dict]:
        """Registry rows, newest first; ``owner=None`` lists everyone's (CLI and admin use only)."""
        with closing(self._connect()) as conn:
            if owner is None:
                rows = conn.execute("SELECT * FROM runs ORDER BY created DESC").fetchall()
            else:
                rows = conn.execute("SELECT * FROM runs WHERE owner=? ORDER BY created DESC", (owner,)).fetchall()
        return [dict(r) for r in rows]

    def rebuild(self) -> int:
        """Re-create the registry from the run directories (after loss or corruption of the database)."""
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM runs")
        count = 0
        for directory in sorted(self.runs_dir.iterdir()):
            if RUN_ID.match(directory.name) and (directory / "status.json").exists():
                self.index(Run(directory))
                count += 1
        return count
