"""The model card's multi-label sections: metrics, thresholds, per-label scores and a usage snippet that
applies the tuned thresholds (publish.py builds the rest of the card as for single-label runs)."""

from __future__ import annotations

METRICS = (("micro_f1", "f1", "Micro F1", "micro"), ("macro_f1", "f1", "Macro F1", "macro"),
           ("samples_f1", "f1", "Samples F1", "samples"), ("exact_match", "accuracy", "Exact match (subset accuracy)", None))


def usage(repo: str) -> str:
    return (f"```python\nfrom transformers import pipeline\n\n"
            f"classifier = pipeline(\"text-classification\", model=\"{repo}\", top_k=None)  # a sigmoid score per label\n"
            f"thresholds = classifier.model.config.label_thresholds  # tuned on validation, one per label\n\n"
            f"def labels_of(text):\n"
            f"    scores = classifier(text, truncation=True)\n"
            f"    return [s[\"label\"] for s in scores if s[\"score\"] >= thresholds[s[\"label\"]]]\n\n"
            f"print(labels_of(\"Your text here\"))  # the label set, possibly empty\n```")


def setfit_usage(repo: str) -> str:
    """The quick baseline in SetFit format: a score per label from SetFit, the tuned thresholds from the repo."""
    return (f"```python\nimport json\n\nfrom huggingface_hub import hf_hub_download\nfrom setfit import SetFitModel\n\n"
            f"model = SetFitModel.from_pretrained(\"{repo}\")  # one-vs-rest head: a probability per label\n"
            f"thresholds = json.load(open(hf_hub_download(\"{repo}\", \"label_thresholds.json\")))  # tuned on validation\n\n"
            f"def labels_of(text):\n"
            f"    scores = model.predict_proba([text])[0]\n"
            f"    return [label for label, score in zip(model.labels, scores) if score >= thresholds[label]]\n\n"
            f"print(labels_of(\"Your text here\"))  # the label set, possibly empty\n```")


def results(table, best: dict, other_name: str, other: dict, evaluation: dict,
            thresholds_in: str = "`config.json` (`label_thresholds`)") -> str:
    """Results: this model vs the other of the run, per-label scores with thresholds, and how they were chosen."""
    keys = ("micro_f1", "macro_f1", "samples_f1", "exact_match", "hamming_loss", "macro_ap")
    rows = [["this model", *(best.get(k, float("nan")) for k in keys)],
            [other_name, *(other.get(k, float("nan")) for k in keys)]]
    per_label = [[c["label"], c["precision"], c["recall"], c["f1"], c["support"], c["threshold"]]
                 for c in evaluation["per_class"]]
    thresholds = evaluation.get("thresholds") or {}
    fallback = thresholds.get("fallback") or []
    how = ("one per label, the value that maximised that label's F1 on the validation split" if
           thresholds.get("mode") != "global" else "one for every label")
    return f"""{table(['model', 'micro-F1', 'macro-F1', 'samples-F1', 'exact match', 'Hamming loss', 'macro AP'], rows)}

A text gets every label whose score reaches its **decision threshold**: {how}; labels with fewer than 5
validation examples{f" ({', '.join(f'`{x}`' for x in fallback[:20])})" if fallback and thresholds.get('mode') != 'global' else ''}
use the global threshold {thresholds.get('global', 0.5):.2f}, the one that maximised macro-F1 over all labels. The
thresholds are in {thresholds_in}, so the usage snippet above applies them. Macro AP (average
precision) does not depend on thresholds.

Per label:

{table(['label', 'precision', 'recall', 'F1', 'support', 'threshold'], per_label)}
"""


LIMITATION = ("- It predicts a set of these labels per text, possibly empty; a label is only as reliable as its "
              "validation support (above) suggests.")
