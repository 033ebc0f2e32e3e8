"""Label-error searches run outside the web process, a bounded number at a time (issue 32, item 4)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from trainer.errors import UserError
from trainer.quality import search_process
from trainer.service import Service

pytestmark = pytest.mark.quick
EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "banking77_sample.csv"


def test_a_search_runs_in_its_own_process_and_its_user_errors_come_back(data_root, tmp_path, monkeypatch):
    def in_this_process(*args, **kwargs):
        raise AssertionError("the web process embedded the file itself")

    monkeypatch.setattr("trainer.quality.label_errors.label_errors_in_file", in_this_process)
    small = tmp_path / "small.csv"
    pd.read_csv(EXAMPLE).head(120).to_csv(small, index=False)
    result = Service(data_root).label_errors(str(small))
    assert result.checked == 120 and result.rows and {"given_label", "suggested_label"} <= set(result.rows[0])
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"text": [f"text {i}" for i in range(30)], "label": "a"}).to_csv(one_class, index=False)
    with pytest.raises(UserError, match="class"):
        Service(data_root).label_errors(str(one_class))


def test_searches_beyond_the_bound_wait_their_turn(monkeypatch):
    monkeypatch.setenv("CLASSITUNE_MAX_LABEL_SEARCHES", "1")
    monkeypatch.setattr(search_process, "_places", None)
    running, most = [0], [0]

    def fake_run(*args, **kwargs):  # stands in for the search process: counts how many run at once
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.3)
        running[0] -= 1
        raise search_process.subprocess.TimeoutExpired("search", 0.3)

    monkeypatch.setattr(search_process.subprocess, "run", fake_run)
    errors = []

    def search():
        try:
            search_process.label_errors_in_process("any.csv")
        except UserError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=search) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert most[0] == 1 and len(errors) == 3 and "was stopped" in errors[0]


def test_a_hub_dataset_is_refused_as_soon_as_it_passes_the_byte_limit():
    """Issue 32.5: the Hub-dataset box counts decoded bytes row by row while streaming, so a small, highly
    compressed file stops at the limit instead of being decoded in full."""
    from trainer.intake.hub_data import _take

    consumed = []

    def stream():
        for i in range(1_000_000):
            consumed.append(i)
            yield {"text": "x" * 1000, "label": "a"}

    with pytest.raises(UserError, match="more than 0 MB of data, the upload limit"):
        _take(stream(), max_rows=1_000_000, max_bytes=100_000, name="someone/big", split="train")
    assert len(consumed) < 200
    with pytest.raises(UserError, match="more than 10 rows"):
        _take(stream(), max_rows=10, max_bytes=None, name="someone/big", split="train")
