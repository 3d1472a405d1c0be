"""Matplotlib charts for the linkage-quality report, returned as PNG bytes to embed in HTML.

Charts show counts and rates only. Figures are built without pyplot (no global state, no display), safe in workers.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

STEP_LABELS = {"deterministic": "1. deterministic (NHS number + DOB)", "probabilistic": "2. probabilistic (Splink)",
               "bucket": "3. bucket (platform ID)", "one_time": "4. one-time ID"}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def flow_diagram(rates: pd.DataFrame) -> bytes:
    """Boxes for each cascade step: records entering, placed at the step, and left over."""
    total = int(rates["records"].sum())
    fig = Figure(figsize=(8, 5.2))
    ax = fig.subplots()
    ax.axis("off")
    remaining, y = total, 0.92
    ax.text(0.5, y, f"All linked records\n{total:,}", ha="center", va="center", fontsize=10,
            bbox={"boxstyle": "round", "fc": "#dde7f3"})
    for step, label in STEP_LABELS.items():
        placed = int(rates[step].sum()) if step in rates else 0
        remaining -= placed
        y -= 0.22
        ax.annotate("", xy=(0.5, y + 0.07), xytext=(0.5, y + 0.15), arrowprops={"arrowstyle": "->"})
        ax.text(0.5, y, f"{label}\nplaced {placed:,} ({placed / max(total, 1):.1%})", ha="center", va="center",
                fontsize=9, bbox={"boxstyle": "round", "fc": "#e6f2e6" if step in ("deterministic", "probabilistic")
                                  else "#f6e8d8"})
        ax.text(0.86, y, f"not placed yet: {remaining:,}", ha="center", va="center", fontsize=8, color="#555")
    ax.set_title("Linkage cascade: records placed at each step")
    return _png(fig)


def weight_histogram(weights: pd.Series) -> bytes:
    """Distribution of match weights (log2 Bayes factor) of scored records."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    values = weights.replace([np.inf, -np.inf], np.nan).dropna()
    if values.empty:
        ax.text(0.5, 0.5, "no scored records", ha="center")
    else:
        ax.hist(values, bins=40, color="#4c72b0")
    ax.set_xlabel("match weight (log2 Bayes factor)")
    ax.set_ylabel("records")
    ax.set_title("Match-weight distribution")
    return _png(fig)


def threshold_curve(curve: pd.DataFrame) -> bytes:
    """Match rate (and precision/recall where truth exists) against the match-probability threshold."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    for column, style in (("match_rate", "-"), ("precision", "--"), ("recall", ":")):
        if column in curve and curve[column].notna().any():
            ax.plot(curve["threshold"], curve[column], style, label=column.replace("_", " "))
    ax.set_xlabel("match-probability threshold")
    ax.set_ylim(0, 1.02)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left")
    ax.set_title("Threshold sensitivity")
    return _png(fig)


def parity_bars(table: pd.DataFrame, margin: float) -> bytes:
    """Match rate per group, one panel per attribute, with the overall rate and the margin."""
    attributes = list(dict.fromkeys(table["attribute"]))
    fig = Figure(figsize=(3.2 * max(len(attributes), 1), 3.6))
    axes = fig.subplots(1, max(len(attributes), 1), squeeze=False)
    for ax, attribute in zip(axes[0], attributes, strict=False):
        part = table[table["attribute"] == attribute]
        overall = float(part["overall_rate"].iloc[0])
        colours = ["#c44e52" if g < -margin else "#55a868" for g in part["gap"]]
        ax.bar(part["group"].astype(str), part["match_rate"], color=colours)
        ax.axhline(overall, color="black", lw=1)
        ax.axhline(overall - margin, color="black", lw=0.8, ls="--")
        ax.set_ylim(max(0.0, float(part["match_rate"].min()) - 0.1), 1.0)
        ax.set_title(attribute.replace("_", " "))
        ax.tick_params(axis="x", rotation=60, labelsize=7)
    return _png(fig)


def match_rate_trend(history: pd.DataFrame) -> bytes:
    """Match rate per source across linkage runs (from quality.linkage_runs)."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    for source, part in history.groupby("source"):
        ax.plot(pd.to_datetime(part["run_at"]), part["match_rate"], marker="o", label=source)
    ax.set_ylabel("match rate")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Match rate across runs")
    fig.autofmt_xdate()
    return _png(fig)
