"""How the Predict tab shows its results: the labels and the agreement first, the text last.

A data grid gave the text column the whole width and pushed "base label" and "agree" off-screen (on a phone
only the text showed), so results are an HTML table built here: narrow label columns that never scroll
sideways, a text column that wraps, long texts cut with the full text one click away, and on a phone each
row as a small card (labels on top, text below). Every value is escaped: texts and labels come from users.
"""

from __future__ import annotations

import html

SHOWN_ROWS = 500  # the page shows this many; the download has all
SHORT_TEXT = 220  # longer texts show this many characters, the rest under "more"
NO_LABEL = "(none)"


def _prediction(result: dict, others: bool) -> str:
    """A label (or a multi-label set) with its score; the other top-k labels below, small."""
    e = html.escape
    if "labels" in result:  # multi-label: every label at or over its own threshold, with its score and threshold
        chosen = [t for t in result["top_k"] if t["label"] in result["labels"]] or [
            {"label": name, "score": result["scores"][name]} for name in result["labels"]]
        head = ", ".join(f"<span class='pick'><b>{e(t['label'])}</b> {_score(t)}</span>" for t in chosen) or (
            f"{NO_LABEL} <span class='why'>no label reached its threshold</span>")
        rest = [t for t in result["top_k"] if t["label"] not in result["labels"]]
    else:
        head = f"<span class='pick'><b>{e(result['label'])}</b> {result['confidence']:.2f}</span>"
        rest = result["top_k"][1:]
    if others and rest:
        head += "<div class='topk'>" + ", ".join(f"{e(t['label'])}&nbsp;{_score(t)}" for t in rest) + "</div>"
    return head


def _score(t: dict) -> str:
    """A score, and for a multi-label model the label's own threshold beside it (a 0.86 under a 0.90 threshold
    is not chosen while a 0.41 over a 0.30 one is)."""
    if t.get("threshold") is None:
        return f"{t['score']:.2f}"
    side = "≥" if t["score"] >= t["threshold"] else "&lt;"
    return f"{t['score']:.2f}&nbsp;<span class='cut'>{side}&nbsp;{t['threshold']:.2f}</span>"


def _text(text: str) -> str:
    if len(text) <= SHORT_TEXT:
        return html.escape(text)
    return (f"<details><summary>{html.escape(text[:SHORT_TEXT])}… <i>(more)</i></summary>"
            f"{html.escape(text[SHORT_TEXT:])}</details>")


def agree(tuned: dict, base: dict) -> bool:
    if "labels" in tuned:
        return set(tuned["labels"]) == set(base["labels"])
    return tuned["label"] == base["label"]


def results_html(texts: list[str], tuned: list[dict], base: list[dict] | None) -> str:
    compare = base is not None
    heads = ["#", "Tuned model", *(["Base model", "Agree"] if compare else []), "Text"]
    rows = []
    for i, text in enumerate(texts[:SHOWN_ROWS]):
        cells = [f"<td class='row' data-label='#'>{i + 1}</td>",
                 f"<td class='label tuned' data-label='Tuned'>{_prediction(tuned[i], True)}</td>"]
        same = True
        if compare:
            same = agree(tuned[i], base[i])
            cells += [f"<td class='label base' data-label='Base'>{_prediction(base[i], False)}</td>",
                      f"<td class='agree' data-label='Agree'>{'✓ yes' if same else '✗ no'}</td>"]
        cells.append(f"<td class='text'>{_text(text)}</td>")
        rows.append(f"<tr class='{'same' if same else 'differ'}'>{''.join(cells)}</tr>")
    more = (f"<p class='more-rows'>Showing the first {SHOWN_ROWS:,} of {len(texts):,} texts; the download has all.</p>"
            if len(texts) > SHOWN_ROWS else "")
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (f"<div class='prediction-results'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{more}</div>")
