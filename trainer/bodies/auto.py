"""``model=auto``: measure candidate bodies on the user's own data, then take the best one the time budget allows.

Each candidate's frozen, mean-pooled embeddings of a stratified sample of the training rows go through a
cross-validated logistic regression (the same probe as the quick baseline and the label check): on small data
that probe predicts the fine-tuned result well (SetFit's paper: a probe on frozen mpnet beats a RoBERTa-large
fine-tune on three of four tasks). Its frozen pass also measures the body's speed here, which scales the run's
estimated training time. Candidates are tried cheapest first; a larger one replaces the current choice only when
it scores clearly higher (more than the folds' spread, and at least ``MIN_GAIN``) and its estimated time fits the
budget. "Clearly" is judged on paired folds (every body is scored on the same splits): the mean gain must exceed
its standard error. With fewer than ``MIN_ROWS_TO_MEASURE`` rows in some class a probe cannot tell bodies apart
(16 SST-2 rows gave all-mpnet-base-v2 0.37 ± 0.22 in cross-validation, though it scores 0.87 after SetFit on
the test set), so there auto takes the largest candidate the budget allows: on small English data the larger
sentence encoders score clearly higher (SetFit's published results; BENCHMARKS.md), and the run's own
baseline still guards the result.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

PROBE_ROWS = 1000  # rows embedded per candidate: enough to rank bodies, a minute or less for a base model on a CPU
PROBE_LENGTH = 128
MIN_GAIN = 0.01
MIN_ROWS_TO_MEASURE = 10  # per class


@dataclass
class Probe:
    model: str  # the id the run trains from
    score: float | None  # cross-validated accuracy (single-label) or micro-F1 (multi-label); None: not measured
    spread: float = 0.0  # standard deviation over the folds
    seconds: float = 0.0  # the frozen pass over the sample
    train_seconds: float | None = None  # the run's estimated time with this body
    note: str = ""  # why it was not measured
    folds: list[float] = field(default_factory=list)  # the score of each (repeated) fold, the same folds for all

    def describe(self) -> str:
        name = self.model.split("/")[-1]
        if self.score is None:
            return f"{name}: not measured ({self.note})"
        return f"{name}: {self.score:.2f} ± {self.spread:.2f}, about {_minutes(self.train_seconds)}"


@dataclass
class BodyChoice:
    model: str
    reason: str
    language: str
    budget_minutes: float
    probes: list[Probe] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> list[list]:
        """Rows for a table: body, probe score, spread, estimated minutes."""
        return [[p.model, p.score, p.spread, None if p.train_seconds is None else round(p.train_seconds / 60, 1)]
                for p in self.probes]


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "time unknown"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


def probe_sample(targets: np.ndarray, seed: int, rows: int = PROBE_ROWS) -> np.ndarray:
    """Row indices: every class kept, large ones cut down in proportion, at most about ``rows`` in all."""
    rng = np.random.default_rng(seed)
    keys = targets if targets.ndim == 1 else targets.argmax(1)
    picked = []
    for value in np.unique(keys):
        members = np.flatnonzero(keys == value)
        share = max(2, int(round(rows * len(members) / len(keys))))
        picked.extend(rng.permutation(members)[:share])
    return np.sort(np.asarray(picked))


def measurable(targets: np.ndarray) -> bool:
    counts = np.bincount(targets) if targets.ndim == 1 else targets.sum(0)
    return int(counts[counts > 0].min()) >= MIN_ROWS_TO_MEASURE


def cross_validated(features: np.ndarray, targets: np.ndarray) -> list[float]:
    """The score of each fold of a 5-fold logistic-regression probe, repeated 3 times with fixed seeds (so every
    body is scored on the same splits)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold, cross_val_score
    from sklearn.multiclass import OneVsRestClassifier

    features = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-9)
    if targets.ndim == 1:
        split, scoring, model = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0), "accuracy", \
            LogisticRegression(C=10.0, max_iter=2000)
    else:
        split, scoring = RepeatedKFold(n_splits=5, n_repeats=3, random_state=0), "f1_micro"
        model = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=2000))
    return [float(x) for x in cross_val_score(model, features, targets, cv=split, scoring=scoring)]


def probe(model_id: str, texts: list[str], targets: np.ndarray) -> Probe:
    """Embed the sample with a frozen body and score it; a body that cannot load is reported, not fatal."""
    from trainer.training.baseline import embed, load_encoder

    try:
        tokenizer, encoder = load_encoder(model_id)
    except Exception as exc:  # no Hub, no such model, no safetensors: the others are still measured
        return Probe(model_id, None, note=f"could not load: {str(exc).splitlines()[0][:120]}")
    started = time.perf_counter()
    features = embed(texts, encoder, tokenizer, PROBE_LENGTH)
    seconds = time.perf_counter() - started
    del encoder
    if not measurable(targets):
        return Probe(model_id, None, seconds=seconds, note=f"fewer than {MIN_ROWS_TO_MEASURE} rows in some class")
    folds = cross_validated(features, targets)
    return Probe(model_id, float(np.mean(folds)), float(np.std(folds)), seconds=seconds, folds=folds)


def choose(probes: list[Probe], reference_seconds: float, budget_minutes: float) -> tuple[str, str]:
    """(the chosen model, why), given probes cheapest first and the run's estimated time with the first of them."""
    first = probes[0]
    for p in probes:  # time scales with the measured frozen pass, relative to the cheapest body
        p.train_seconds = reference_seconds * (p.seconds / first.seconds if first.seconds and p.seconds else 1.0)
    fits = [p for p in probes if p.train_seconds <= budget_minutes * 60] or [first]
    table = "; ".join(p.describe() for p in probes)
    if all(p.score is None for p in probes):
        chosen = fits[-1]
        return chosen.model, (f"{table}. Too few rows per class to measure a difference: took {_name(chosen)}, the "
                              f"largest candidate within the {budget_minutes:g}-minute budget (larger sentence "
                              f"encoders score higher on small data).")
    chosen, passed = first, []
    for p in probes[1:]:
        if p.score is None or chosen.score is None:
            continue
        differences = np.subtract(p.folds, chosen.folds)
        gain, error = float(differences.mean()), float(differences.std() / np.sqrt(len(differences)))
        if gain < max(MIN_GAIN, error):
            passed.append(f"{_name(p)}'s {gain:+.2f} is within the noise (± {error:.2f})")
        elif p not in fits:
            passed.append(f"{_name(p)} scores {gain:+.2f} but needs about {_minutes(p.train_seconds)}, "
                          f"over the {budget_minutes:g}-minute budget")
        else:
            chosen = p
    if chosen is first:
        why = f"kept {_name(first)}" + (f": {'; '.join(passed)}" if passed else "")
    else:
        why = (f"chose {_name(chosen)}: {chosen.score - first.score:+.2f} over {_name(first)} within the "
               f"{budget_minutes:g}-minute budget")
    return chosen.model, f"{table}. {why}."


def _name(p: Probe) -> str:
    return p.model.split("/")[-1]
