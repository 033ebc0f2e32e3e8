"""The training configuration: every setting declared once, typed, validated, JSON-serialisable.

Each ``TrainConfig`` field is declared with ``setting(...)``: its default, help text, form group, choices or
check, and what "auto" means when it may be left empty. Everything else reads that one declaration: the CLI's
flags and ``--help`` (cli.py), the API's docstring (space/api.py), the Train tab's components (read by name,
space/train_form.py), the plan ("Your settings", ``changed``) and the model card's Training table
(``card_rows``). A new setting is one field here plus the line that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from trainer.errors import UserError
from trainer.jobs.flavors import FLAVORS, HERE

DEFAULT_LR = {"full": 1e-4, "lora": 1e-3, "setfit": 2e-5}
METHOD_NAMES = {"auto": "auto", "full": "full fine-tune", "lora": "LoRA fine-tune",
                "setfit": "SetFit (contrastive encoder training + logistic-regression head)"}
BOOLEAN_WORDS = {"true": True, "yes": True, "1": True, "on": True, "false": False, "no": False, "0": False, "off": False}
# Form groups: "main" is always in view, "advanced" and "lora" under Advanced, "data" is set in the Data tab.
GROUPS = ("main", "advanced", "lora", "data")


def setting(default=MISSING, *, label: str, help: str, group: str = "advanced", choices: tuple | None = None,
            check: Callable[[object], bool] | None = None, rule: str = "", auto: str = "",
            aliases: tuple[str, ...] = (), factory: Callable | None = None):
    """One setting's declaration. ``auto``: what an empty value means (the field is then optional);
    ``check``/``rule``: the allowed values and how to say them; ``aliases``: earlier names still read from old
    run directories and scripts."""
    meta = dict(label=label, help=help, group=group, choices=choices, check=check, rule=rule, auto=auto,
                aliases=aliases)
    return field(default_factory=factory, metadata=meta) if factory else field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Everything that decides a run. ``None`` means "choose for me" (resolved when the run is prepared)."""

    model: str = setting("auto", label="Model", group="main",
                         help="the base encoder: 'auto' (candidates measured on your data, within the time budget), "
                              "'default' (all-MiniLM-L6-v2, embedded), a Hub id, or a local folder")
    where: str = setting(HERE, label="Where to train", group="main", choices=(HERE, *FLAVORS),
                         help="here: this machine; or a Hugging Face Jobs flavor, on your own account (billed per "
                              "minute to you; needs your sign-in with the jobs scope)")
    time_budget_minutes: float = setting(15.0, label="Time budget (minutes)", group="main",
                                         check=lambda v: 1 <= v <= 1440, rule="use 1 to 1440 minutes",
                                         help="model auto takes a larger base model only when its estimated "
                                              "training time fits this budget")
    method: str = setting("auto", label="Method", group="main", choices=("auto", "full", "lora", "setfit"),
                          help="auto: setfit for few rows per class, else full; lora: adapters; setfit: contrastive pairs")
    epochs: float | None = setting(None, label="Epochs", group="main", auto="from the data's size",
                                   check=lambda v: 0 < v <= 100, rule="use a number between 0 and 100",
                                   help="passes over the training data")
    learning_rate: float | None = setting(None, label="Learning rate", group="main", auto="per method",
                                          check=lambda v: 0 < v < 1, rule="use a value such as 5e-5",
                                          help="the body's peak learning rate")
    batch_size: int | None = setting(None, label="Batch size", group="main", auto="data size and hardware",
                                     check=lambda v: 1 <= v <= 4096, rule="use 1 to 4096",
                                     help="training rows (setfit: pairs) per step and process")
    max_length: int | None = setting(None, label="Max length (tokens)", group="main", auto="from the data",
                                     check=lambda v: 8 <= v <= 8192, rule="use 8 to 8192 tokens",
                                     help="texts are cut to this many tokens")
    head_learning_rate: float | None = setting(None, label="Head learning rate", auto="10x the body's",
                                               check=lambda v: 0 < v < 1, rule="use a value such as 1e-3",
                                               help="the classification head's learning rate")
    head_init: str = setting("probe", label="Head start", choices=("probe", "random"),
                             help="probe: a logistic regression on frozen features; random: the library's init")
    pooling: str = setting("auto", label="Pooling", choices=("auto", "mean", "cls"),
                           help="auto: mean for sentence encoders trained with it, else the model's own")
    warmup_ratio: float = setting(0.06, label="Warmup ratio", check=lambda v: 0 <= v < 1,
                                  rule="use a fraction in [0, 1)", help="share of steps with a rising learning rate")
    lr_scheduler: str = setting("linear", label="Learning-rate schedule", choices=("linear", "cosine", "constant_with_warmup"),
                                help="full and LoRA: how the learning rate falls after warmup")
    weight_decay: float = setting(0.01, label="Weight decay", check=lambda v: 0 <= v < 1, rule="use a value in [0, 1)",
                                  help="AdamW weight decay (none on biases and LayerNorm)")
    evals_per_epoch: int = setting(1, label="Evaluations per epoch", check=lambda v: 1 <= v <= 20, rule="use 1 to 20",
                                   help="validation evaluations (and checkpoints) per epoch")
    early_stopping_patience: int = setting(3, label="Early-stopping patience", check=lambda v: v >= 0,
                                           rule="use 0 (off) or more evaluations", aliases=("patience",),
                                           help="evaluations without improvement before stopping (0: off)")
    class_weights: str = setting("auto", label="Class-weighted loss", choices=("auto", "on", "off"),
                                 help="auto: on when the largest class has over 3x the rows of the smallest")
    freeze_embeddings: bool = setting(True, label="Freeze word embeddings",
                                      help="full fine-tune: keep the word embeddings fixed (faster, same accuracy)")
    precision: str = setting("auto", label="Precision", choices=("auto", "fp32", "bf16", "fp16"),
                             help="auto: bf16 (else fp16) on GPUs, fp32 on the CPU")
    seed: int = setting(42, label="Seed", check=lambda v: 0 <= v < 2 ** 32, rule="use a whole number from 0 to 4294967295",
                        help="seeds the split, the head and the training order")
    validation_fraction: float = setting(0.1, label="Validation fraction", check=lambda v: 0 < v < 0.9,
                                         rule="use a fraction between 0 and 0.9",
                                         help="held out for validation when the data names no split")
    lora_r: int = setting(16, label="LoRA r", group="lora", check=lambda v: 1 <= v <= 512, rule="use a rank between 1 and 512",
                          help="LoRA adapter rank")
    lora_alpha: int = setting(32, label="LoRA alpha", group="lora", check=lambda v: v > 0, rule="use a positive number",
                                help="LoRA scaling")
    lora_dropout: float = setting(0.0, label="LoRA dropout", group="lora", check=lambda v: 0 <= v < 1,
                                  rule="use a fraction in [0, 1)",
                                  help="dropout on adapter inputs (copies activations: 20-30 % slower CPU steps)")
    lora_target_modules: list[str] = setting(label="LoRA target modules", group="lora", factory=lambda: ["all-linear"],
                                             rule="name at least one module such as query, value; or all-linear",
                                             help="comma-separated module names, or all-linear")
    gpus: int = setting(1, label="GPUs for this run", check=lambda v: 1 <= v <= 64,
                        rule="use 1, or the number of GPUs to train this run on data-parallel",
                        help="more than 1 trains data-parallel (accelerate launch)")
    text_column: str | None = setting(None, label="Text column", group="data", auto="detected",
                                      rule="use a column name", help="the column holding the texts")
    label_column: str | None = setting(None, label="Label column", group="data", auto="detected",
                                       rule="use a column name", help="the column holding the labels")
    task: str = setting("auto", label="Labels", group="data", choices=("auto", "single", "multi"),
                        help="single: one label per text; multi: several; auto: detected from the data")
    label_delimiter: str | None = setting(None, label="Label separator", group="data", auto=", ; or | detected",
                                          check=lambda v: 1 <= len(v) <= 3,
                                          rule="use one short separator such as ',' ';' or '|'",
                                          help="multi-label cells such as 'joy,love'")
    label_columns: list[str] | None = setting(None, label="Label columns", group="data", auto="detected",
                                              rule="use a list of column names",
                                              help="multi-label data with one 0/1 column per label")
    thresholds: str = setting("per_label", label="Decision thresholds", choices=("per_label", "global"),
                              help="multi-label: tuned per label (rare labels: global) or one for all")

    def __post_init__(self) -> None:
        self._coerce()
        self.validate()

    def _coerce(self) -> None:
        """Accept numbers given as strings (CLI, API, forms); reject what is not a number by name."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "bool" and isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
                setattr(self, f.name, BOOLEAN_WORDS[value.strip().lower()])
            elif f.type.startswith("list") and isinstance(value, str):
                setattr(self, f.name, [c.strip() for c in value.split(",") if c.strip()] or None)
            elif value == "" and "None" in f.type:
                setattr(self, f.name, None)
            elif f.type.startswith(("int", "float")) and value is not None:
                setattr(self, f.name, _number(f.name, value, int if f.type.startswith("int") else float))
        if self.lora_target_modules is None:
            self.lora_target_modules = ["all-linear"]

    def validate(self) -> None:
        """Raise ``UserError`` naming the setting, the bad value and the allowed values; then the settings that
        must agree with each other."""
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if value is None and meta["auto"]:
                continue
            wrong = (meta["choices"] and value not in meta["choices"]) or (meta["check"] and not meta["check"](value))
            wrong = wrong or not _typed(f.type, value)
            if wrong:
                rule = (f"use one of {', '.join(meta['choices'])}" if meta["choices"] else meta["rule"] or
                        _TYPE_WORDS[f.type.split(' ')[0]]) + (", or leave it empty for auto" if meta["auto"] else "")
                raise UserError(f"Invalid setting {f.name}={value!r}: {rule}.")
        self._check_together()

    def _check_together(self) -> None:
        if self.gpus > 1 and self.where != HERE:
            raise UserError(f"Invalid setting gpus={self.gpus}: a run on Hugging Face Jobs trains on its flavor's one "
                            f"GPU; use 1, or train here.")
        if self.gpus > 1 and self.method == "setfit":
            raise UserError(f"Invalid setting gpus={self.gpus}: the setfit method trains on one GPU: use 1, or "
                            f"method full for a data-parallel run.")
        if self.method in ("full", "setfit"):
            changed = [f.metadata["label"] for f in fields(self) if f.metadata["group"] == "lora"
                       and getattr(self, f.name) != default_of(f)]
            if changed:
                raise UserError(f"{', '.join(changed)} set, but the method is {self.method}: LoRA settings apply to "
                                f"method lora only. Choose method lora, or leave them at their defaults.")

    def check_hardware(self, device: str) -> None:
        """Settings that must fit the machine the run trains on."""
        if self.precision in ("bf16", "fp16") and device != "cuda":
            raise UserError(f"Invalid setting precision={self.precision}: {self.precision} trains on GPUs only and "
                            f"this machine has none. Use auto or fp32.")

    @property
    def lr(self) -> float:
        return self.learning_rate or DEFAULT_LR.get(self.method, DEFAULT_LR["full"])

    def changed(self) -> dict[str, object]:
        """The settings that differ from their defaults, by label (the plan's "Your settings")."""
        return {f.metadata["label"]: getattr(self, f.name) for f in fields(self)
                if f.metadata["group"] != "data" and getattr(self, f.name) != default_of(f)}

    def card_rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, what it does) for every training setting: the model card's Training table."""
        return [(f.metadata["label"], _shown(getattr(self, f.name), f.metadata["auto"]), f.metadata["help"])
                for f in fields(self) if f.metadata["group"] != "data"]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """From a saved config.json, the API or the CLI; earlier names of a setting (``aliases``) still load."""
        names = {alias: f.name for f in fields(cls) for alias in f.metadata["aliases"]}
        data = {names.get(key, key): value for key, value in data.items()}
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise UserError(f"Unknown setting(s) {', '.join(unknown)}. Known settings: "
                            f"{', '.join(sorted(f.name for f in fields(cls)))}.")
        return cls(**data)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        return cls.from_dict(json.loads(path.read_text()))


def settings_help(group: str | None = None) -> str:
    """One line per setting: name, allowed values or rule, default, help (the API's docstring lists these)."""
    lines = []
    for f in fields(TrainConfig):
        meta = f.metadata
        if group is not None and meta["group"] != group:
            continue
        allowed = "|".join(meta["choices"]) if meta["choices"] else meta["rule"].removeprefix("use ")
        default = f"empty: {meta['auto']}" if meta["auto"] else f"default {default_of(f)!r}"
        lines.append(f"{f.name} ({allowed + '; ' if allowed else ''}{default}): {meta['help']}")
    return "\n".join(lines)


def default_of(f):
    return f.default_factory() if f.default is MISSING else f.default


def _shown(value, auto: str) -> str:
    if value is None:
        return f"auto ({auto})"
    return ", ".join(value) if isinstance(value, list) else f"{value:g}" if isinstance(value, float) else str(value)


_TYPE_WORDS = {"str": "use text", "int": "use a whole number", "float": "use a number", "bool": "use true or false",
               "list[str]": "use a list of names"}


def _typed(kind: str, value) -> bool:
    base = kind.split(" ")[0]
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool, "list[str]": list}[base]
    if base == "list[str]":
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)
    return isinstance(value, expected) and not (base in ("int", "float") and isinstance(value, bool))


def _number(name: str, value, kind: type):
    try:
        number = float(value)
        if kind is int and not number.is_integer():
            raise ValueError
        return kind(number)
    except (TypeError, ValueError):
        raise UserError(f"Invalid setting {name}={value!r}: expected "
                        f"{'a whole number' if kind is int else 'a number'}.") from None
