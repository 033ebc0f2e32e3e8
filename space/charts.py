"""Plotly figures built from run-directory data (metrics events, evaluation.json, data reports)."""

from __future__ import annotations

import plotly.graph_objects as go

from .plain import plotly_text

LAYOUT = dict(template="plotly_white", height=320, margin=dict(l=50, r=20, t=50, b=40),
              legend=dict(orientation="h", y=-0.2))


def class_distribution(report: dict) -> go.Figure:
    counts = report["class_counts"]
    names = list(counts)
    shown = [plotly_text(n) for n in names]
    fig = go.Figure([go.Bar(name="train", x=shown, y=[counts[n]["train"] for n in names]),
                     go.Bar(name="validation", x=shown, y=[counts[n]["validation"] for n in names])])
    fig.update_layout(title="Class distribution", barmode="stack", **LAYOUT)
    return fig


def length_histogram(report: dict) -> go.Figure:
    length = report.get("length") or {}
    edges, counts = length.get("histogram_edges") or [], length.get("histogram") or []
    centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure([go.Bar(x=centers, y=counts, name="texts")])
    if length.get("suggested_max_length"):
        fig.add_vline(x=length["suggested_max_length"], line_dash="dash",
                      annotation_text=f"suggested max_length {length['suggested_max_length']}")
    fig.update_layout(title="Text length (tokens)", xaxis_title="tokens", yaxis_title="texts", **LAYOUT)
    return fig


def _series(events: list[dict], kind: str, key: str) -> tuple[list, list]:
    rows = [e for e in events if e.get("type") == kind and e.get(key) is not None]
    return [e["step"] for e in rows], [e[key] for e in rows]


def loss_chart(runs: dict[str, list[dict]]) -> go.Figure:
    fig = go.Figure()
    for name, events in runs.items():
        fig.add_trace(go.Scatter(x=_series(events, "train", "loss")[0], y=_series(events, "train", "loss")[1],
                                 mode="lines", name=f"{name} train"))
        fig.add_trace(go.Scatter(x=_series(events, "eval", "eval_loss")[0], y=_series(events, "eval", "eval_loss")[1],
                                 mode="lines+markers", name=f"{name} validation"))
    fig.update_layout(title="Loss", xaxis_title="step", **LAYOUT)
    return fig


def quality_chart(runs: dict[str, list[dict]]) -> go.Figure:
    fig = go.Figure()
    for name, events in runs.items():
        for key, label in (("accuracy", "accuracy"), ("micro_f1", "micro-F1"), ("macro_f1", "macro-F1")):
            x, y = _series(events, "eval", key)
            if y:  # single-label runs log accuracy, multi-label runs micro-F1
                fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=f"{name} {label}"))
    fig.update_layout(title="Validation accuracy (multi-label: micro-F1) and macro-F1", xaxis_title="step",
                      yaxis_range=[0, 1], **LAYOUT)
    return fig


def lr_chart(runs: dict[str, list[dict]]) -> go.Figure:
    fig = go.Figure()
    for name, events in runs.items():
        x, y = _series(events, "train", "learning_rate")
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name))
    fig.update_layout(title="Learning rate", xaxis_title="step", **LAYOUT)
    return fig


def confusion_chart(evaluation: dict, normalise: bool) -> go.Figure:
    labels, matrix = [plotly_text(label) for label in evaluation["labels"]], evaluation["confusion"]
    if normalise:
        matrix = [[round(v / max(1, sum(row)), 3) for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix,
                               texttemplate="%{text}", hovertemplate="true %{y}<br>predicted %{x}<br>%{z}<extra></extra>"))
    fig.update_layout(title="Confusion matrix" + (" (row-normalised)" if normalise else " (counts)"),
                      xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      **{**LAYOUT, "height": max(360, 40 * len(labels) + 160)})
    return fig


def per_label_chart(evaluation: dict) -> go.Figure:
    """Multi-label runs have no confusion matrix: F1 per label at its tuned threshold, most frequent first."""
    rows = sorted(evaluation["per_class"], key=lambda r: -r["support"])
    fig = go.Figure(go.Bar(x=[plotly_text(r["label"]) for r in rows], y=[r["f1"] for r in rows],
                           customdata=[[r["support"], r["threshold"]] for r in rows],
                           hovertemplate="%{x}<br>F1 %{y:.3f}<br>%{customdata[0]} validation texts"
                                         "<br>threshold %{customdata[1]:.2f}<extra></extra>"))
    fig.update_layout(title="F1 per label (validation, tuned thresholds; most frequent first)", yaxis_range=[0, 1],
                      **LAYOUT)
    return fig


def empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **LAYOUT)
    return fig
