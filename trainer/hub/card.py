"""The model card: a typed ``CardData`` filled from a run and rendered into ``model_card_template.md``.

As setfit does with its own ``model_card_template.md``: the wording lives in the template, the facts in one
object read from the run directory (settings used, data, evaluations, hardware, library versions), and the
metadata (model-index with the validation scores, tags, widget) goes through ``huggingface_hub``'s
``ModelCardData``. Multi-label sections come from card_multi_label.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template

from trainer.config import METHOD_NAMES, TrainConfig
from trainer.hub import card_multi_label as multi_card
from trainer.runs.store import Run
from trainer.tasks import task_of
from trainer.training.sentence_classifier import is_sentence_classifier
from trainer.training.choice import BASELINE, chosen_model

TEMPLATE = Path(__file__).with_name("model_card_template.md")
# Settings a run resolves when left to auto (status ``config_resolved``): the card shows what was used.
RESOLVED = ("method", "epochs", "learning_rate", "head_learning_rate", "batch_size", "max_length", "precision")


@dataclass
class CardData:
    """Everything the card's text says, each field a placeholder of the template."""

    title: str
    what: str
    predicts: str
    n_labels: int
    task_kind: str
    label_list: str
    usage: str
    dataset: str
    n_train: object
    n_validation: object
    split_source: str
    data_table: str
    training_table: str
    body_choice: str  # how model=auto chose the base model, with its probe table; empty for a named model
    hardware: str
    train_seconds: object
    samples_per_second: object
    versions: str
    results: str
    limitation: str
    max_length: object
    base_model: str

    def render(self) -> str:
        return Template(TEMPLATE.read_text()).substitute({k: str(v) for k, v in asdict(self).items()})


@dataclass
class _Run:
    """What the card reads from a run directory, once."""

    status: dict
    config: dict
    labels: list[str]
    evaluation: dict
    report: dict
    is_baseline: bool
    multi: bool
    setfit_format: bool  # the baseline, or a setfit run's mean-reading model/ (sentence_classifier.py)

    @classmethod
    def read(cls, run: Run, model: str) -> "_Run":
        is_baseline = model == BASELINE
        path = run.path("baseline/evaluation.json" if is_baseline else "evaluation.json")
        report = json.loads(run.path("data_report.json").read_text()) if run.path("data_report.json").exists() else {}
        return cls(run.status(), run.config(), run.labels(), json.loads(path.read_text()), report, is_baseline,
                   task_of(run.config()).name == "multi", is_baseline or is_sentence_classifier(run.model_dir))

    @property
    def best(self) -> dict:
        return (self.status.get("baseline") if self.is_baseline else self.status.get("best")) or {}

    @property
    def base_model(self) -> str:
        return self.status.get("base_model_name") or self.config.get("model")

    @property
    def resolved(self) -> dict:
        return self.status.get("config_resolved") or {}


def published_model(run: Run, options) -> str:
    """Which of the run's models a push publishes: the one asked for, else the run's chosen model."""
    return options.model or chosen_model(run.status())


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def model_card(run: Run, options):
    """A ModelCard a stranger can use: metadata with model-index, data, setup, results, usage, limitations."""
    from huggingface_hub import ModelCard

    source = _Run.read(run, published_model(run, options))
    metadata = _metadata(run, source, options)
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n{_card_data(source, options.repo_id, options).render()}")


def _metadata(run: Run, s: _Run, options):
    from huggingface_hub import EvalResult, ModelCardData

    dataset = s.status.get("dataset") or "user data"
    metrics = multi_card.METRICS if s.multi else (("accuracy", "accuracy", "Accuracy", None),
                                                  ("macro_f1", "f1", "Macro F1", None))
    eval_results = [EvalResult(task_type="text-classification", task_name="Text Classification",
                               dataset_type=Path(dataset).stem, dataset_name=f"{dataset} (validation split)",
                               dataset_split="validation", metric_type=metric, metric_name=name,
                               metric_config=metric_config, metric_value=round(float(s.best[key]), 4))
                    for key, metric, name, metric_config in metrics if key in s.best]
    widget = None
    if options.widget_examples and run.path("eval_predictions.csv").exists():
        import pandas as pd

        texts = pd.read_csv(run.path("eval_predictions.csv"), keep_default_na=False)["text"].head(3).tolist()
        widget = [{"text": t} for t in texts]
    if s.setfit_format:
        library, tags = "setfit", ["text-classification", "classitune", "setfit", "sentence-transformers"]
    else:
        method = s.config.get("method", "full")
        library = "peft" if options.adapter_only else "transformers"
        tags = ["text-classification", "classitune", method] + (["lora"] if method == "lora" else [])
    return ModelCardData(base_model=s.base_model, library_name=library, pipeline_tag="text-classification",
                         license=options.license, language=None, tags=tags, model_name=options.repo_id.split("/")[-1],
                         eval_results=eval_results or None, widget=widget)


def _card_data(s: _Run, repo: str, options) -> CardData:
    sizes, class_counts = s.report.get("split_sizes") or {}, s.report.get("class_counts") or {}
    labels = s.labels
    return CardData(
        title=repo.split("/")[-1], what=_what(s), predicts="any number (a set) of" if s.multi else "one of",
        n_labels=len(labels), task_kind="multi-label" if s.multi else "single-label",
        label_list=", ".join(f"`{label}`" for label in labels[:50]) + (" ..." if len(labels) > 50 else ""),
        usage=_usage(s, repo, options.adapter_only), dataset=s.status.get("dataset") or "user data",
        n_train=sizes.get("train", "?"), n_validation=sizes.get("validation", "?"),
        split_source=s.report.get("split_source", "held-out validation split"),
        data_table=markdown_table(["label", "train", "validation"], [[n, c["train"], c["validation"]]
                                                                     for n, c in class_counts.items()])
        if class_counts else "",
        training_table=_training_table(s), body_choice=_body_choice(s.status.get("model_choice")),
        hardware=s.status.get("hardware", "unknown"),
        train_seconds=s.status.get("train_seconds", "?"), samples_per_second=s.status.get("samples_per_second", "?"),
        versions="\n".join(f"- {name}: {version}" for name, version in (s.status.get("versions") or {}).items())
        or "- not recorded (a run from an earlier version of ClassiTune)",
        results=_results(s), limitation=multi_card.LIMITATION if s.multi else (
            f"- It only knows these {len(labels)} labels and always picks one of them, even for unrelated input;\n"
            f"  use the confidence to reject uncertain predictions."),
        max_length=s.resolved.get("max_length", "the maximum length"), base_model=s.base_model)


def _usage(s: _Run, repo: str, adapter_only: bool) -> str:
    if s.is_baseline and s.multi:
        return multi_card.setfit_usage(repo)
    if s.setfit_format:
        return (f"```python\nfrom setfit import SetFitModel\n\nmodel = SetFitModel.from_pretrained(\"{repo}\")\n"
                f"print(model.predict([\"Your text here\"]))        # label names\n"
                f"print(model.predict_proba([\"Your text here\"]))  # one probability per label, in the order above\n"
                f"```")
    if adapter_only:
        return (f"```python\nfrom peft import AutoPeftModelForSequenceClassification\n"
                f"from transformers import AutoTokenizer, pipeline\n\n"
                f"model = AutoPeftModelForSequenceClassification.from_pretrained(\"{repo}\").merge_and_unload()\n"
                f"tokenizer = AutoTokenizer.from_pretrained(\"{repo}\")\n"
                f"classifier = pipeline(\"text-classification\", model=model, tokenizer=tokenizer)\n"
                f"print(classifier(\"Your text here\", truncation=True))  # truncated where training truncated\n```")
    if s.multi:
        return multi_card.usage(repo)
    return (f"```python\nfrom transformers import pipeline\n\nclassifier = pipeline(\"text-classification\", "
            f"model=\"{repo}\")\nprint(classifier(\"Your text here\", truncation=True))  "
            f"# truncated where training truncated\n```")


def _what(s: _Run) -> str:
    base = s.base_model
    if s.is_baseline:
        recommended = (s.status.get("recommended") or {}).get("model") == BASELINE
        return (f"A text classifier in [SetFit](https://github.com/huggingface/setfit) format: the frozen "
                f"[{base}](https://huggingface.co/{base}) encoder (mean pooling) with a logistic-regression "
                f"head fitted by [ClassiTune](https://huggingface.co/spaces). "
                + ("It scored higher on validation than fine-tuning the encoder on the same data, so it is the model "
                   "this run recommends." if recommended else
                   "Fine-tuning the encoder on the same data scored higher on validation (see Results); this "
                   "simpler model was published by choice."))
    method = s.resolved.get("method") or s.config.get("method")
    return (f"A text classifier fine-tuned from [{base}](https://huggingface.co/{base}) with "
            f"[ClassiTune](https://huggingface.co/spaces) ({METHOD_NAMES.get(method, 'fine-tune')})."
            + (" The encoder was trained SetFit-style on pairs of training texts (same label or not, "
               "cosine-similarity loss), then the classification head was fitted as a logistic regression on its "
               "features; " + ("it is saved in [SetFit](https://github.com/huggingface/setfit) format (the tuned "
                               "encoder, mean pooling, the logistic-regression head), as the encoder was trained to "
                               "be read by the mean of its token vectors." if s.setfit_format else
                               "it is saved as a standard transformers classifier.") if method == "setfit" else ""))


def _body_choice(choice: dict | None) -> str:
    if not choice:
        return ""
    rows = [[p["model"], "-" if p["score"] is None else f"{p['score']:.3f} ± {p['spread']:.3f}",
             "-" if p["train_seconds"] is None else f"{p['train_seconds'] / 60:.1f}"] for p in choice["probes"]]
    table = ("\n\n" + markdown_table(["candidate body", "probe score (5-fold, frozen)", "estimated minutes"], rows)
             if rows else "")
    return f"\nThe base model was chosen by measuring candidates on the training data (model `auto`): " \
           f"{choice['reason']}{table}\n"


def _training_table(s: _Run) -> str:
    if s.is_baseline:
        weights = ("square-root balanced" if s.resolved.get("task") == "single-label" else "balanced") \
            if s.resolved.get("class_weights") else "none"
        rows = [["head", "scikit-learn LogisticRegression (lbfgs, C=1)"], ["encoder", f"{s.base_model}, frozen"],
                ["pooling", "mean of token vectors, not normalised"], ["class_weight", weights],
                ["max_length", s.resolved.get("max_length")]]
        return markdown_table(["setting", "value"], [r for r in rows if r[1] is not None])
    return markdown_table(["setting", "value", "what it does"], training_rows(s.config, s.resolved, s.status))


def training_rows(config: dict, resolved: dict, status: dict) -> list[list]:
    """Every training setting (its label, value and help come from its declaration, config.py), with the values
    the run resolved for those left to auto, then what the method adds."""
    used = {**config, **{name: resolved[name] for name in RESOLVED if resolved.get(name) is not None}}
    used["pooling"] = "mean" if resolved.get("pooling") == "mean" else config.get("pooling", "auto")
    settings = TrainConfig.from_dict(used)
    rows = [[label, value, what] for label, value, what in settings.card_rows()
            if not (label.startswith("LoRA") and settings.method != "lora")]
    if settings.method == "setfit":
        rows += [["Training pairs", status.get("pairs"), "SetFit pairs (same label or not) the encoder trained on"],
                 ["Steps", resolved.get("total_steps"), "optimisation steps of pair batches"]]
    rows.append(["Class-weighted loss (used)", "yes" if resolved.get("class_weights") else "no",
                 "whether the run weighted its loss by class frequency"])
    return rows


def _results(s: _Run) -> str:
    tuned, baseline = s.status.get("best") or {}, s.status.get("baseline") or {}
    other_name = ("fine-tuned encoder (not published here)" if s.is_baseline else
                  f"quick baseline: frozen {s.base_model} embeddings + logistic regression")
    other = tuned if s.is_baseline else baseline
    if s.multi:
        return multi_card.results(markdown_table, s.best, other_name + ("" if s.is_baseline else " (one-vs-rest)"),
                                  other, s.evaluation, "`label_thresholds.json`" if s.is_baseline else
                                  "`config.json` (`label_thresholds`)")
    rows = [["this model", s.best.get("accuracy", float("nan")), s.best.get("macro_f1", float("nan"))],
            [other_name, other.get("accuracy", float("nan")), other.get("macro_f1", float("nan"))]]
    per_class = [[c["label"], c["precision"], c["recall"], c["f1"], c["support"]] for c in s.evaluation["per_class"]]
    confusion = [[s.labels[i], *row] for i, row in enumerate(s.evaluation.get("confusion") or [])]
    return (f"{markdown_table(['model', 'accuracy', 'macro-F1'], rows)}\n\nPer class:\n\n"
            f"{markdown_table(['label', 'precision', 'recall', 'F1', 'support'], per_class)}\n\n"
            f"Confusion matrix (rows: true label, columns: predicted):\n\n"
            f"{markdown_table(['true / predicted', *s.labels], confusion)}")
