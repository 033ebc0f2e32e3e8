"""The training configuration: typed, validated, JSON-serialisable."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .errors import UserError

METHODS = ("auto", "full", "lora", "setfit")  # auto: setfit on few rows per class, else full (method_choice.py)
DEFAULT_LR = {"full": 1e-4, "lora": 1e-3, "setfit": 2e-5}
METHOD_NAMES = {"auto": "auto", "full": "full fine-tune", "lora": "LoRA fine-tune",
                "setfit": "SetFit (contrastive encoder training + logistic-regression head)"}
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
HEAD_INITS = ("probe", "random")
POOLINGS = ("auto", "mean", "cls")
TASKS = ("auto", "single", "multi")
THRESHOLDS = ("per_label", "global")
BOOLEAN_WORDS = {"true": True, "yes": True, "1": True, "on": True, "false": False, "no": False, "0": False, "off": False}


@dataclass
class TrainConfig:
    """Everything that decides a run. ``None`` means "choose for me" (resolved by ``resolved``)."""

    model: str = "default"
    method: str = "auto"
    epochs: float | None = None  # None: chosen from the data's size (schedule.py)
    learning_rate: float | None = None
    head_learning_rate: float | None = None  # None: 10x the body's for full fine-tunes (schedule.py)
    head_init: str = "probe"  # "probe": a logistic regression on frozen features (warm_start.py); "random"
    pooling: str = "auto"  # "auto": mean for sentence-transformers trained with it (mean_pooling.py), else the model's
    batch_size: int | None = None
    max_length: int | None = None
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    evals_per_epoch: int = 1
    early_stopping_patience: int = 3
    class_weights: str = "auto"
    freeze_embeddings: bool = True
    precision: str = "auto"
    seed: int = 42
    validation_fraction: float = 0.1
    text_column: str | None = None
    label_column: str | None = None
    task: str = "auto"  # "auto" (detected at intake, label_sets.py), "single" or "multi"; a prepared run holds the result
    label_delimiter: str | None = None  # multi-label cells such as "joy,love": None detects , ; |
    label_columns: list[str] | None = None  # multi-label data with one 0/1 column per label
    thresholds: str = "per_label"  # multi-label decision thresholds: "per_label" (rare labels: global) or "global"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0  # dropout on every adapter input copies activations: 20-30 % slower steps on CPU
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"])
    gpus: int = 1  # GPUs for this one run: more than 1 trains data-parallel (the app starts it with accelerate launch)

    def __post_init__(self) -> None:
        self._coerce()
        self.validate()

    def _coerce(self) -> None:
        """Accept numbers given as strings (CLI, API, forms); reject what is not a number by name."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "bool" and isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
                setattr(self, f.name, BOOLEAN_WORDS[value.strip().lower()])
                continue
            kind = int if f.type.startswith("int") else float if f.type.startswith("float") else None
            if kind is None or value is None:
                continue
            if value == "" and "None" in f.type:
                setattr(self, f.name, None)
                continue
            try:
                number = float(value)
                if kind is int and not number.is_integer():
                    raise ValueError
                setattr(self, f.name, kind(number))
            except (TypeError, ValueError):
                raise UserError(f"Invalid setting {f.name}={value!r}: expected {'a whole number' if kind is int else 'a number'}.") from None
        if isinstance(self.label_columns, str):
            self.label_columns = [c.strip() for c in self.label_columns.split(",") if c.strip()] or None
        if self.label_delimiter == "":
            self.label_delimiter = None
        if isinstance(self.lora_target_modules, str):
            self.lora_target_modules = [m.strip() for m in self.lora_target_modules.split(",") if m.strip()]

    def validate(self) -> None:
        """Raise ``UserError`` naming the field, the bad value and the allowed range."""
        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                raise UserError(f"Invalid setting {name}={getattr(self, name)!r}: {rule}.")

        for name in ("model", "method", "head_init", "pooling", "class_weights", "precision", "task", "thresholds"):
            need(isinstance(getattr(self, name), str), name, "use text")
        for name in ("text_column", "label_column", "label_delimiter"):
            need(getattr(self, name) is None or isinstance(getattr(self, name), str), name, "use a column name")
        need(0 <= self.seed < 2 ** 32, "seed", "use a whole number from 0 to 4294967295")
        need(isinstance(self.lora_target_modules, list) and all(isinstance(m, str) and m.strip()
                                                                for m in self.lora_target_modules),
             "lora_target_modules", "use a list of module names such as [\"query\", \"value\"], or [\"all-linear\"]")
        need(self.method in METHODS, "method", "use auto, full, lora or setfit")
        need(self.task in TASKS, "task", "use auto, single (one label per text) or multi (several labels per text)")
        need(self.thresholds in THRESHOLDS, "thresholds", "use per_label or global")
        need(self.label_delimiter is None or 1 <= len(self.label_delimiter) <= 3, "label_delimiter",
             "use one short separator such as ',' ';' or '|'")
        need(self.label_columns is None or (isinstance(self.label_columns, list) and all(
            isinstance(c, str) and c.strip() for c in self.label_columns)), "label_columns",
             "use a list of column names such as [\"toxic\", \"insult\"]")
        need(self.epochs is None or 0 < self.epochs <= 100, "epochs", "use a number between 0 and 100, or leave empty for auto")
        need(self.learning_rate is None or 0 < self.learning_rate < 1, "learning_rate", "use a value such as 5e-5")
        need(self.head_learning_rate is None or 0 < self.head_learning_rate < 1, "head_learning_rate",
             "use a value such as 1e-3, or leave empty for auto")
        need(self.head_init in HEAD_INITS, "head_init", f"use one of {', '.join(HEAD_INITS)}")
        need(self.pooling in POOLINGS, "pooling", f"use one of {', '.join(POOLINGS)}")
        need(self.batch_size is None or 1 <= self.batch_size <= 4096, "batch_size", "use 1 to 4096, or leave empty for auto")
        need(self.max_length is None or 8 <= self.max_length <= 8192, "max_length", "use 8 to 8192 tokens, or leave empty")
        need(0 <= self.warmup_ratio < 1, "warmup_ratio", "use a fraction in [0, 1)")
        need(0 <= self.weight_decay < 1, "weight_decay", "use a value in [0, 1)")
        need(1 <= self.evals_per_epoch <= 20, "evals_per_epoch", "use 1 to 20")
        need(self.early_stopping_patience >= 0, "early_stopping_patience", "use 0 (off) or more evaluations")
        need(self.class_weights in ("auto", "on", "off"), "class_weights", "use auto, on or off")
        need(isinstance(self.freeze_embeddings, bool), "freeze_embeddings", "use true or false")
        need(self.precision in PRECISIONS, "precision", f"use one of {', '.join(PRECISIONS)}")
        need(0 < self.validation_fraction < 0.9, "validation_fraction", "use a fraction between 0 and 0.9")
        need(1 <= self.lora_r <= 512, "lora_r", "use a rank between 1 and 512")
        need(self.lora_alpha > 0, "lora_alpha", "use a positive number")
        need(0 <= self.lora_dropout < 1, "lora_dropout", "use a fraction in [0, 1)")
        need(bool(self.lora_target_modules), "lora_target_modules", "name at least one module, or 'all-linear'")
        need(1 <= self.gpus <= 64, "gpus", "use 1, or the number of GPUs to train this run on data-parallel")
        need(self.gpus == 1 or self.method != "setfit", "gpus", "the setfit method trains on one GPU: use 1, or "
             "method full for a data-parallel run")

    @property
    def lr(self) -> float:
        return self.learning_rate or DEFAULT_LR.get(self.method, DEFAULT_LR["full"])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"Unknown setting(s) {', '.join(unknown)}. Known settings: {', '.join(sorted(known))}.")
        try:
            return cls(**data)
        except TypeError as exc:
            raise UserError(f"Invalid settings: {exc}.") from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls.from_dict(json.loads(path.read_text()))
