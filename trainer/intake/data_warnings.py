"""The validation report's warnings about the data itself, in words: imbalance, dropped rows, duplicates and
conflicting labels, train/validation leakage, rows without labels and rare labels."""

from __future__ import annotations

import pandas as pd

from trainer.intake import label_sets

EXAMPLES_SHOWN = 10  # rows, texts or labels a report lists before "... and N more"


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def plural(count: int, word: str, verb: str = "") -> str:
    """ "1 row was", "2 rows were": ``verb`` is given in its plural form (were, appear, carry, are, repeat)."""
    singular = {"were": "was", "are": "is", "carry": "carries"}.get(verb, verb + "s" if verb else "")
    return f"{count:,} {word}" + ("" if count == 1 else "s") + (f" {singular if count == 1 else verb}" if verb else "")


def _row_list(rows: list[int], count: int) -> str:
    """The first rows (the report keeps only ``EXAMPLES_SHOWN``) and how many more there are of ``count``."""
    shown = ", ".join(str(r) for r in rows[:EXAMPLES_SHOWN])
    return shown + (f" and {count - EXAMPLES_SHOWN:,} more" if count > EXAMPLES_SHOWN else "")


def data_warnings(present: pd.Series, multi: bool, dropped: dict, duplicates: dict, leaked: set, split_source: str,
                   multi_report: dict | None) -> list[str]:
    """The report's warnings about the data itself: imbalance, dropped rows, duplicates, leakage, label sets."""
    out = []
    if present.max() > 3 * present.min():
        kind, remedy = (("Labels", "Training weights the rare labels up (positive-class weights); judge by macro-F1.")
                        if multi else ("Classes", "Training uses a class-weighted loss; judge by macro-F1, not accuracy."))
        out.append(f"{kind} are imbalanced: the largest ({present.idxmax()!r}, {present.max():,}) has "
                   f"{present.max() / present.min():.1f}x the rows of the smallest ({present.idxmin()!r}, "
                   f"{present.min():,}). {remedy}")
    if dropped["empty_text"]["count"]:
        out.append(f"{plural(dropped['empty_text']['count'], 'row')} with empty text dropped "
                   f"(rows {_row_list(dropped['empty_text']['rows'], dropped['empty_text']['count'])}).")
    if dropped["missing_label"]["count"]:
        out.append(f"{plural(dropped['missing_label']['count'], 'row')} with a missing label dropped "
                   f"(rows {_row_list(dropped['missing_label']['rows'], dropped['missing_label']['count'])}).")
    if duplicates["conflicting_labels"]:
        first = duplicates["conflicts"][0]
        out.append(f"{plural(duplicates['conflicting_labels'], 'text', 'appear')} with different labels, e.g. "
                   f"“{_clip(first['text'], 60)}” as {' and '.join(first['labels'])}: they cap accuracy. "
                   f"Fix their labels in your file, or drop them (Data tab: Fix the data).")
    elif duplicates["duplicate_texts"]:
        out.append(f"{plural(duplicates['duplicate_texts'], 'row', 'repeat')} an earlier row's text (same label): "
                   f"they weigh that text more in training. Drop them in the Data tab (Fix the data) if unwanted.")
    if leaked:
        out.append(f"{plural(len(leaked), 'text', 'appear')} in both train and validation ({split_source}): "
                   f"validation scores will be optimistic. Drop exact duplicates (Data tab: Fix the data), or "
                   f"remove them from one split.")
    if multi_report and multi_report["labels_per_row"]["0"]:
        out.append(f"{plural(multi_report['labels_per_row']['0'], 'training row', 'carry')} no label (all label "
                   f"columns 0, or an empty list): kept as examples of none of the labels.")
    if multi_report and multi_report["rare_labels"]:
        rare = multi_report["rare_labels"]
        out.append(f"{len(rare)} labels have fewer than {label_sets.RARE_LABEL} validation examples "
                   f"({', '.join(rare[:EXAMPLES_SHOWN])}{' ...' if len(rare) > EXAMPLES_SHOWN else ''}): their "
                   f"scores and tuned thresholds are rough; they use the global threshold.")
    return out
