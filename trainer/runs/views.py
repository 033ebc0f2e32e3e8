"""Typed views of runs: what crosses the seam between the service and the UI (and the API).

``status.json`` is a run's own record, written by the worker and read by everyone. The UI reads it only through
these views, by attribute: a renamed key is mended here, once, instead of in every tab that read it by name. The
API answers with ``to_dict()``, the same JSON it always gave (the server's private keys left out).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from trainer.training.choice import chosen_model

ACTIVE_STATES = ("queued", "running")


@dataclass(frozen=True)
class Progress:
    """Where training is: steps, epochs, seconds, and the time left once the worker can say."""

    step: int = 0
    max_steps: int | None = None
    epoch: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None

    @classmethod
    def read(cls, raw: dict | None) -> Progress | None:
        if not raw:
            return None
        return cls(step=int(raw.get("step") or 0), max_steps=raw.get("max_steps"), epoch=float(raw.get("epoch") or 0),
                   elapsed_s=float(raw.get("elapsed_s") or 0), eta_s=raw.get("eta_s"))


@dataclass(frozen=True)
class Recommendation:
    """Which of a run's two models to use ("tuned" or "baseline") and the sentence saying why."""

    model: str
    message: str


@dataclass(frozen=True)
class RunStatus:
    """One run as the Train and Metrics tabs show it; scores are metric name -> value ("accuracy", "macro_f1", ...)."""

    run_id: str
    state: str
    fraction: float = 0.0
    phase: str | None = None
    progress: Progress | None = None
    queue_position: int | None = None
    latest_eval: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    base_model_name: str | None = None
    resolved: dict = field(default_factory=dict)  # config_resolved: the settings used, and why each
    stopped_at_step: int | None = None
    stop_requested: bool = False
    label_errors: dict = field(default_factory=dict)
    recommended: Recommendation | None = None
    model_in_use: str = "tuned"  # the user's choice, else the recommendation, else the fine-tuned model
    reproduce: str | None = None
    error: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def read(cls, public: dict) -> RunStatus:
        """From the service's public status dict (status.json without the private keys, plus what it derives)."""
        recommended = public.get("recommended") or None
        return cls(
            run_id=public["run_id"], state=public.get("state") or "?", fraction=float(public.get("fraction") or 0),
            phase=public.get("phase"), progress=Progress.read(public.get("progress")),
            queue_position=public.get("queue_position"), latest_eval=public.get("latest_eval") or {},
            best=public.get("best") or {}, baseline=public.get("baseline") or {},
            base_model_name=public.get("base_model_name"), resolved=public.get("config_resolved") or {},
            stopped_at_step=public.get("stopped_at_step"), stop_requested=bool(public.get("stop_requested")),
            label_errors=public.get("label_errors") or {},
            recommended=Recommendation(recommended["model"], recommended["message"]) if recommended else None,
            model_in_use=chosen_model(public), reproduce=public.get("reproduce"), error=public.get("error"),
            raw=public)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def to_dict(self) -> dict:
        """The API's answer: every public key of the run's status."""
        return dict(self.raw)


@dataclass(frozen=True)
class RunRow:
    """A run in the caller's list (the registry's row): enough to name it and rank it without opening it."""

    id: str
    state: str
    created: float
    dataset: str
    model: str
    method: str
    best_accuracy: float | None = None
    best_macro_f1: float | None = None
    baseline_accuracy: float | None = None

    @classmethod
    def read(cls, row: dict) -> RunRow:
        return cls(id=row["id"], state=row.get("state") or "?", created=float(row.get("created") or 0),
                   dataset=row.get("dataset") or "data", model=row.get("model") or "default",
                   method=row.get("method") or "?", best_accuracy=row.get("best_accuracy"),
                   best_macro_f1=row.get("best_macro_f1"), baseline_accuracy=row.get("baseline_accuracy"))

    @property
    def headline(self) -> str:
        """" acc 0.912", " macro-F1 0.433" (multi-label runs have no accuracy), or "" before any score."""
        if self.best_accuracy is not None:
            return f" acc {self.best_accuracy:.3f}"
        return f" macro-F1 {self.best_macro_f1:.3f}" if self.best_macro_f1 is not None else ""

    def to_dict(self) -> dict:
        return asdict(self)
