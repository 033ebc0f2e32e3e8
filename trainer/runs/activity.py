"""A run's activity as lines a person reads ("step 41/58 · epoch 1.41 · loss 0.376 · 21.5 samples/s").

The worker writes them to ``activity.log`` in the run (and prints them, for the CLI); the Train tab shows
its tail. Library output (warnings, tracebacks) goes to ``train.log`` only: it means nothing to most users,
and it stays there for whoever needs it.
"""

from __future__ import annotations

PHASES = {"loading model": "loading the model", "baseline": "fitting the quick baseline on frozen embeddings",
          "tokenizing": "tokenizing the texts", "training": "training", "evaluating": "evaluating the best model",
          "saving model": "saving the model", "done": "done",
          "checking labels": "checking the training labels (likely label errors)",
          "choosing model": "measuring candidate base models on your data (model auto)"}
SCORES = (("accuracy", "accuracy"), ("micro_f1", "micro-F1"), ("macro_f1", "macro-F1"))


def _scores(values: dict) -> str:
    return " · ".join(f"{name} {values[key]:.3f}" for key, name in SCORES if values.get(key) is not None)


def event_line(event: dict) -> str:
    """One metrics event (train, eval or summary, as in ``metrics.jsonl``) as one line."""
    where = f"step {event.get('step', 0)}/{event.get('max_steps', '?')} · epoch {event.get('epoch', 0):.2f}"
    if event.get("type") == "eval":
        loss = f" · validation loss {event['eval_loss']:.3f}" if event.get("eval_loss") is not None else ""
        return f"evaluated at {where}: {_scores(event)}{loss}"
    if event.get("type") == "summary":
        return (f"training finished at {where} in {event.get('train_runtime_s') or 0:.0f} s"
                + (f" ({event['samples_per_second']:.1f} samples/s)" if event.get("samples_per_second") else ""))
    parts = [where]
    if event.get("loss") is not None:
        parts.append(f"loss {event['loss']:.3f}")
    if event.get("samples_per_second"):
        parts.append(f"{event['samples_per_second']:.1f} samples/s")
    return " · ".join(parts)


def phase_line(phase: str) -> str:
    return f"→ {PHASES.get(phase, phase)}"


def state_line(state: str, changes: dict) -> str | None:
    """The last line of a run: how it ended."""
    if state == "succeeded":
        best = changes.get("best") or {}
        return f"✓ finished: validation {_scores(best)}" if best else "✓ finished"
    if state in ("failed", "cancelled", "interrupted"):
        return f"✗ {state}: {changes.get('error') or ''}".rstrip(": ")
    return None
