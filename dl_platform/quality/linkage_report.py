"""The linkage-quality report: matching statistics published ahead of results (GUILD/RECORD).

Builds the HTML (flow diagram, match-weight histogram, threshold sensitivity, parity bars,
trend across runs, per-source and per-group tables) and a markdown summary for the
materialisation. Counts and rates only: no identifier value is ever rendered.
"""

from __future__ import annotations

import base64
import html

import numpy as np
import pandas as pd

from dl_platform.quality import charts
from dl_platform.quality.linkage_checks import MATCHED_STEPS, STEPS
from dl_platform.quality.linkage_evaluation import LinkageEvaluation
from dl_platform.quality.parity import DEFAULT_MARGIN

LINKAGE_RUNS_DDL = """
create table if not exists quality.linkage_runs (
    run_id varchar, run_at timestamp, source varchar, records bigint, deterministic bigint,
    probabilistic bigint, bucket bigint, one_time bigint, matched bigint, match_rate double
)"""
THRESHOLDS = np.round(np.linspace(0.5, 0.99, 15), 3)


def history_rows(rates: pd.DataFrame, run_id: str, run_at: pd.Timestamp) -> pd.DataFrame:
    """This run's per-source counts, shaped like `quality.linkage_runs`."""
    cols = ["source", "records", *STEPS, "matched", "match_rate"]
    return rates[cols].assign(run_id=run_id, run_at=run_at)[["run_id", "run_at", *cols]]


def match_weights(record_person: pd.DataFrame, diagnostics_weights: pd.Series | None) -> pd.Series:
    """Diagnostics' match weights, else log2 odds of the match probability of scored records."""
    if diagnostics_weights is not None and len(diagnostics_weights):
        return diagnostics_weights.astype(float)
    p = record_person.loc[record_person["link_step"] == "probabilistic", "match_probability"].astype(float)
    p = p.clip(1e-9, 1 - 1e-9)
    return np.log2(p / (1 - p))


def threshold_sensitivity(records: pd.DataFrame, master: str | None) -> pd.DataFrame:
    """Match rate, and precision/recall where truth columns exist, if the threshold moved.

    Args:
        records: record_person rows (with `correct`/`linkable` from truth when known).
        master: the master source, whose records are excluded.

    Returns:
        One row per threshold: threshold, match_rate, precision, recall.
    """
    others = records if master is None else records[records["source"] != master]
    deterministic = others["link_step"] == "deterministic"
    probability = others["match_probability"].astype(float).fillna(0.0)
    scored = others["link_step"] == "probabilistic"
    rows = []
    for t in THRESHOLDS:
        kept = deterministic | (scored & (probability >= t))
        row = {"threshold": float(t), "match_rate": float(kept.mean()) if len(others) else np.nan,
               "precision": np.nan, "recall": np.nan}
        if "correct" in others and kept.any():
            correct = others["correct"] & kept
            row["precision"] = float(correct.sum() / kept.sum())
            row["recall"] = float(correct.sum() / max(int(others["linkable"].sum()), 1))
        rows.append(row)
    return pd.DataFrame(rows)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"/>'


def _table(frame: pd.DataFrame | None) -> str:
    if frame is None or frame.empty:
        return "<p><em>not available</em></p>"
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0, classes="t")


def summary_markdown(evaluation: LinkageEvaluation) -> str:
    """Markdown for the materialisation: per-source match rates and each check's outcome."""
    lines = ["| source | records | matched | match rate | bucket | one-time |", "|---|---|---|---|---|---|"]
    if evaluation.rates is not None:
        lines += [f"| {r.source} | {r.records} | {r.matched} | {r.match_rate:.1%} | {r.bucket} | {r.one_time} |"
                  for r in evaluation.rates.itertuples()]
    lines += ["", "| check | result | detail |", "|---|---|---|"]
    lines += [f"| {o.name} | {'passed' if o.passed else 'FAILED'} | {o.summary.replace('|', '/')} |"
              for o in evaluation.outcomes]
    lines += ["", f"Group attributes from: {evaluation.attribute_basis or 'n/a'}."]
    return "\n".join(lines)


def threshold_table(choices: dict) -> pd.DataFrame:
    """One row per cascade step: the threshold, where it came from, the model's expected
    precision/recall/F1 at it, and the links a move of +/- delta would gain or lose."""
    thresholds = choices.get("thresholds") or {}
    sensitivity = choices.get("threshold_sensitivity") or {}
    moved = {"probabilistic": sensitivity.get("probabilistic", {}), "bucket": sensitivity.get("bucket_edges", {})}
    rows = [
        {**{k: v for k, v in choice.items() if k != "step"}, "step": step,
         "gained_at_lower": moved.get(step, {}).get("gained_at_lower"),
         "lost_at_higher": moved.get(step, {}).get("lost_at_higher")}
        for step, choice in thresholds.items() if isinstance(choice, dict)
    ]
    return pd.DataFrame(rows)


def render_html(evaluation: LinkageEvaluation, history: pd.DataFrame, weights: pd.Series,
                curve: pd.DataFrame, run_id: str, margin: float = DEFAULT_MARGIN,
                choices: dict | None = None) -> str:
    """The full report page (self-contained: charts are embedded PNGs)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Linkage quality report</title>",
        ("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table.t{border-collapse:collapse;"
        "font-size:12px}table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd}"
        ".fail{color:#b00}.pass{color:#070}</style></head><body>"),
        "<h1>Linkage quality report</h1>",
        (f"<p>Run <code>{html.escape(run_id)}</code> — matching statistics published ahead of results "
        "(GUILD / RECORD). 'Matched' = placed with a master-register person by the deterministic or "
        f"probabilistic step ({', '.join(MATCHED_STEPS)}).</p>"),
        "<h2>Checks</h2><ul>",
        *[f"<li class='{'pass' if o.passed else 'fail'}'><b>{o.name}</b>: "
          f"{'passed' if o.passed else 'FAILED'} — {html.escape(o.summary)}</li>" for o in evaluation.outcomes],
        "</ul>",
    ]
    if evaluation.rates is not None:
        parts += ["<h2>Flow through the cascade</h2>", _img(charts.flow_diagram(evaluation.rates), "flow"),
                  "<h2>Per source and step</h2>", _table(evaluation.rates),
                  "<h2>Match weights</h2>", _img(charts.weight_histogram(weights), "weights"),
                  "<h2>Threshold sensitivity</h2>", _img(charts.threshold_curve(curve), "threshold"),
                  _table(curve)]
    table = threshold_table(choices or {})
    if not table.empty:
        parts += ["<h2>Thresholds and how they were chosen</h2>",
                  "<p>Unless set in <code>config/linkage.yml</code>, each step's threshold is the match "
                  "probability that maximises the F1 the trained model expects over that run's candidates "
                  "(<code>expected_f1</code>); a small incremental run reuses the last choice of the same "
                  "model (<code>saved</code>). Expected figures are the model's own, not measured; the last "
                  "two columns count the links a move of the threshold by the sensitivity delta would add "
                  "or remove.</p>", _table(table)]
    if evaluation.parity is not None and not evaluation.parity.empty:
        parts += [f"<h2>Parity (attributes from {html.escape(evaluation.attribute_basis)})</h2>",
                  f"<p>Red bars are more than {margin * 100:.0f} pp below the overall rate (dashed line).</p>",
                  _img(charts.parity_bars(evaluation.parity, margin), "parity"), _table(evaluation.parity)]
    if evaluation.precision_recall is not None:
        parts += ["<h2>Precision and recall by group (truth file)</h2>",
                  f"<p>{html.escape(evaluation.extra.get('truth', ''))}; groups of the true person where the "
                  "truth gives them. Pairwise figures: <code>quality/linkage_accuracy</code>.</p>",
                  _table(evaluation.precision_recall)]
    else:
        parts += ["<h2>Precision and recall</h2>",
                  f"<p><em>{html.escape(evaluation.extra.get('truth') or 'no truth file configured')}</em></p>"]
    if not history.empty:
        parts += ["<h2>Trend across runs</h2>", _img(charts.match_rate_trend(history), "trend")]
    parts.append("</body></html>")
    return "\n".join(parts)
