"""``model=auto``: measure candidate bodies on the user's own data, then take the best one the time budget allows.

Each candidate's frozen, mean-pooled embeddings of a stratified sample of the training rows go through a
cross-validated logistic regression (the same probe as the quick baseline and the label check): on small data
that probe predicts the fine-tuned result well (SetFit's paper: a probe on frozen mpnet beats a RoBERTa-large
fine-tune on three of four tasks). Its frozen pass also measures the body's speed here, which scales the run's
estimated training time. Candidates are tried cheapest first; a larger one replaces the current choice only when
it scores clearly higher (more than the folds' spread, and at least ``MIN_GAIN``) and its estimated time fits the
budget. The reason and the probe table go to the run's status, its progress and its card.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

PROBE_ROWS = 1000  # rows embedded per candidate: enough to rank bodies, a minute or less for a base model on a CPU
PROBE_LENGTH = 128
MIN_GAIN = 0.01


@dataclass
class Probe:
    model: str  # the id the run trains from
    score: float | None  # cross-validated accuracy (single-label) or micro-F1 (multi-label); None: not measured
    spread: float = 0.0  # standard deviation over the folds
    seconds: float = 0.0  # the frozen pass over the sample
    train_seconds: float | None = None  # the run's estimated time with this body
    note: str = ""  # why it was not measured

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


def cross_validated(features: np.ndarray, targets: np.ndarray) -> tuple[float, float] | None:
    """(mean, std) of a 5-fold (or fewer, for tiny classes) logistic-regression probe; None when no split is possible."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.multiclass import OneVsRestClassifier

    features = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-9)
    if targets.ndim == 1:
        folds = min(5, int(np.bincount(targets).min()))
        if folds < 2:
            return None
        split, scoring, model = StratifiedKFold(folds, shuffle=True, random_state=0), "accuracy", LogisticRegression(
            C=10.0, max_iter=2000)
    else:
        split, scoring = KFold(5, shuffle=True, random_state=0), "f1_micro"
        model = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=2000))
    scores = cross_val_score(model, features, targets, cv=split, scoring=scoring)
    return float(scores.mean()), float(scores.std())


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
    scored = cross_validated(features, targets)
    if scored is None:
        return Probe(model_id, None, seconds=seconds, note="too few rows per class to cross-validate")
    return Probe(model_id, *scored, seconds=seconds)


def choose(probes: list[Probe], reference_seconds: float, budget_minutes: float) -> tuple[str, str]:
    """(the chosen model, why), given probes cheapest first and the run's estimated time with the first of them."""
    first = probes[0]
    for p in probes:  # time scales with the measured frozen pass, relative to the cheapest body
        p.train_seconds = reference_seconds * (p.seconds / first.seconds if first.seconds and p.seconds else 1.0)
    chosen, passed = first, []
    for p in probes[1:]:
        if p.score is None or chosen.score is None:
            continue
        gain = p.score - chosen.score
        name = p.model.split("/")[-1]
        if gain < max(MIN_GAIN, (p.spread + chosen.spread) / 2):
            passed.append(f"{name}'s {gain:+.2f} is within the noise")
        elif p.train_seconds > budget_minutes * 60:
            passed.append(f"{name} scores {gain:+.2f} but needs about {_minutes(p.train_seconds)}, "
                          f"over the {budget_minutes:g}-minute budget")
        else:
            chosen = p
    table = "; ".join(p.describe() for p in probes)
    name = chosen.model.split("/")[-1]
    if chosen is first:
        why = f"kept {name}" + (f": {'; '.join(passed)}" if passed else "")
    else:
        why = (f"chose {name}: {chosen.score - first.score:+.2f} over {first.model.split('/')[-1]} within the "
               f"{budget_minutes:g}-minute budget")
    return chosen.model, f"{table}. {why}."
