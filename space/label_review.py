"""Metrics tab, one run: which validation errors look like the model's and which like the label's, and the
training rows whose label the run's label check doubts (``label_errors.json``, written by the worker).

A validation row the fine-tuned model gets "wrong" is a *possible label error* when the quick baseline, a
different model, predicts the same thing against the given label; otherwise a *model error*. Both are a
model's view, so the tables say "possible", sort the confident ones first, and change nothing.
"""

from __future__ import annotations

import json

import pandas as pd

from trainer.quality.label_errors import POSSIBLE_LABEL_ERROR
from trainer.runs.store import Run

from .plain import markdown_text

SHOWN = 200
# The labels a table is about come first and the text, which wraps, last: nothing to scroll sideways for.
EMPTY_WRONG = pd.DataFrame(columns=["verdict", "true label", "predicted label", "baseline predicts", "confidence",
                                    "text"])
EMPTY_SET_ERRORS = pd.DataFrame(columns=["verdict", "true labels", "missed labels", "extra labels", "text"])
EMPTY_SUSPECTS = pd.DataFrame(columns=["row", "given label", "suggested label", "score", "text"])
HINT = (f"*{POSSIBLE_LABEL_ERROR}*: the quick baseline predicts the same as the fine-tuned model, against the "
        f"given label; check the label first. *model error*: only the fine-tuned model disagrees.")


def _verdicts(predictions: pd.DataFrame) -> pd.Series:
    """Runs made before verdicts were written have none: shown empty, not guessed."""
    return predictions["verdict"] if "verdict" in predictions else pd.Series("", index=predictions.index)


def misclassified(predictions: pd.DataFrame) -> pd.DataFrame:
    """Single-label validation rows predicted against their label: possible label errors first, then the
    model's most confident mistakes."""
    wrong = predictions[predictions["true_label"] != predictions["predicted_label"]].copy()
    wrong["verdict"] = _verdicts(wrong)
    wrong["baseline predicts"] = wrong.get("baseline_prediction", "")
    wrong["confidence"] = pd.to_numeric(wrong["confidence"]).round(3)
    wrong = wrong.sort_values(["verdict", "confidence"], ascending=[False, False], key=_possible_first)
    return wrong.rename(columns={"true_label": "true label", "predicted_label": "predicted label"})[
        list(EMPTY_WRONG.columns)].head(SHOWN)


def _possible_first(column: pd.Series) -> pd.Series:
    return column == POSSIBLE_LABEL_ERROR if column.name == "verdict" else column


def label_set_errors(predictions: pd.DataFrame) -> pd.DataFrame:
    """Multi-label validation texts whose predicted label set differs from the true one: the labels missed and
    the extra ones, possible label errors first."""
    def names(cell: str) -> set[str]:
        return {n for n in cell.split("|") if n}

    rows = []
    for text, true, predicted, verdict in zip(predictions["text"], predictions["true_labels"],
                                              predictions["predicted_labels"], _verdicts(predictions)):
        truth, guess = names(true), names(predicted)
        if truth != guess:
            rows.append({"verdict": verdict, "text": text, "true labels": ", ".join(sorted(truth)) or "(none)",
                         "missed labels": ", ".join(sorted(truth - guess)),
                         "extra labels": ", ".join(sorted(guess - truth))})
    frame = pd.DataFrame(rows, columns=EMPTY_SET_ERRORS.columns)
    return frame.sort_values("verdict", key=lambda c: c != POSSIBLE_LABEL_ERROR, kind="stable").head(SHOWN)


def training_suspects(run: Run) -> tuple[str, pd.DataFrame]:
    """(note, flagged training rows) from the run's label check; an explanation where the run has none."""
    path = run.path("label_errors.json")
    if not path.exists():
        return "This run has no label check (it was made before the check existed, or the check was skipped).", \
            EMPTY_SUSPECTS
    review = json.loads(path.read_text())
    flagged = [r for r in review["rows"] if r["flagged"]]
    frame = pd.DataFrame(flagged, columns=["row", "given_label", "suggested_label", "score", "text"]).rename(
        columns={"given_label": "given label", "suggested_label": "suggested label"})
    return markdown_text(review["note"]), frame.head(SHOWN)
