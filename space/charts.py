"""Plotly figures built from run-directory data (metrics events, evaluation.json, data reports)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class RunCurves:
    """One run in the overlaid charts: a name a person recognises and the same colour in every chart."""
    name: str
    colour: str
    events: list[dict]
    baseline: dict | None = None  # the run's quick baseline scores: a reference line in the quality chart


PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d"]
# One legend entry per run (the metric is told by the line's dash, said in the title), below the axis title with
# room of its own; the y axis fits the values (no fixed 0-1).
CURVE_LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=50, r=20, t=60, b=110),
                    legend=dict(orientation="h", x=0, y=-0.3, xanchor="left", yanchor="top"),
                    hovermode="x unified")


def _series(events: list[dict], kind: str, key: str) -> tuple[list, list, list]:
    rows = [e for e in events if e.get("type") == kind and e.get(key) is not None]
    return [e["step"] for e in rows], [e[key] for e in rows], [f"epoch {e.get('epoch', 0):.2f}" for e in rows]


def _line(run: RunCurves, kind: str, key: str, label: str, dash: str = "solid", markers: bool = False):
    x, y, epochs = _series(run.events, kind, key)
    return go.Scatter(x=x, y=y, text=epochs, name=plotly_text(run.name), legendgroup=run.name,
                      mode="lines+markers" if markers else "lines", line=dict(color=run.colour, dash=dash),
                      marker=dict(size=7, symbol="circle" if dash == "solid" else "diamond"),
                      hovertemplate=f"{label} %{{y:.4g}} (%{{text}})<extra></extra>")


def _curves(title: str, traces: list, waiting: str = "No points yet: they appear as the run logs them.",
            **layout) -> go.Figure:
    shown, seen = [], set()
    for trace in (t for t in traces if len(t.x)):
        trace.showlegend = trace.legendgroup not in seen  # one entry per run
        seen.add(trace.legendgroup)
        shown.append(trace)
    fig = go.Figure(shown)
    fig.update_layout(title=title, xaxis_title="training step", **{**CURVE_LAYOUT, **layout})
    if not shown:  # not an empty grid from -1 to 6: say what will come
        fig.update_layout(xaxis_visible=False, yaxis_visible=False,
                          annotations=[dict(text=waiting, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")])
    return fig


def loss_chart(runs: list[RunCurves]) -> go.Figure:
    return _curves("Loss (solid: training, dotted: validation)",
                   [t for r in runs for t in (_line(r, "train", "loss", "train loss"),
                                              _line(r, "eval", "eval_loss", "validation loss", "dot", True))])


def quality_chart(runs: list[RunCurves]) -> go.Figure:
    """Accuracy (multi-label: micro-F1) solid, macro-F1 dashed, a marker per evaluation, each run's quick baseline
    a dotted line to beat; the axis fits the values, so 0.88 -> 0.93 reads as the gain it is."""
    traces = [_line(r, "eval", key, label, dash, True) for r in runs
              for key, label, dash in (("accuracy", "accuracy", "solid"), ("micro_f1", "micro-F1", "solid"),
                                       ("macro_f1", "macro-F1", "dash"))]
    fig = _curves("Validation: accuracy (multi-label: micro-F1) solid, macro-F1 dashed; dotted: quick baseline",
                  traces, waiting="No evaluation yet: the first comes after the first evaluation steps.")
    for run in runs:
        score = (run.baseline or {}).get("accuracy", (run.baseline or {}).get("micro_f1"))
        if score is not None and fig.data:
            fig.add_hline(y=score, line=dict(color=run.colour, dash="dot", width=1),
                          annotation_text=f"baseline {score:.3f}", annotation_position="bottom right")
    return fig


def lr_chart(runs: list[RunCurves]) -> go.Figure:
    return _curves("Learning rate", [_line(r, "train", "learning_rate", "learning rate") for r in runs])


AXIS_CHARS = 14  # a label longer than this is cut on the confusion matrix's axes


def axis_name(label: str) -> str:
    """A long label cut in the middle, so its start and its end (where names that share a start differ) show."""
    if len(label) <= AXIS_CHARS:
        return label
    head = (AXIS_CHARS - 1) // 2
    return label[:head] + "…" + label[-(AXIS_CHARS - 1 - head):]


def confusion_chart(evaluation: dict, normalise: bool) -> go.Figure:
    labels, matrix = [plotly_text(label) for label in evaluation["labels"]], evaluation["confusion"]
    if normalise:
        matrix = [[round(v / max(1, sum(row)), 3) for v in row] for row in matrix]
    # Long names (30 characters and more) would leave no room for the cells on a phone: the axes show them cut,
    # the hover whole. Positions, not names, place the cells, so two names cut alike stay apart.
    ticks = [axis_name(label) for label in labels]
    if len(set(ticks)) < len(ticks):  # still alike: number them
        ticks = [f"{i + 1}. {tick}" for i, tick in enumerate(ticks)]
    positions = list(range(len(labels)))
    names = [[[true, predicted] for predicted in labels] for true in labels]
    fig = go.Figure(go.Heatmap(z=matrix, x=positions, y=positions, colorscale="Blues", text=matrix, customdata=names,
                               texttemplate="%{text}", textfont={"size": 12 if len(labels) <= 8 else 9},
                               hovertemplate="true %{customdata[0]}<br>predicted %{customdata[1]}<br>%{z}"
                                             "<extra></extra>"))
    fig.update_layout(title="Confusion matrix" + (" (row-normalised)" if normalise else " (counts)"),
                      xaxis={"title": "predicted", "tickvals": positions, "ticktext": ticks, "tickangle": -45,
                             "automargin": True},
                      yaxis={"title": "true", "tickvals": positions, "ticktext": ticks, "autorange": "reversed",
                             "automargin": True},
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
