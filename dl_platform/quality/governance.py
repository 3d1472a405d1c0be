"""The governance report: per run, what landed, what was quarantined and why, which checks
passed, warned or failed (as Dagster recorded them), linkage statistics, and which extracts
were released under which review. Dagster-free: the asset gathers the inputs.
"""

from __future__ import annotations

import html
import importlib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dl_platform.quality.tables import table_exists
from dl_platform.sources.contracts import REASONS

CHECK_COLUMNS = ["asset", "check", "status", "severity", "run_id", "evaluated_at", "description"]


@dataclass
class GovernanceInputs:
    """Everything the report states, as counts, statuses and reasons (no identifier values)."""

    run_id: str
    deliveries: pd.DataFrame
    quarantine: pd.DataFrame
    checks: pd.DataFrame
    linkage: pd.DataFrame
    extracts: pd.DataFrame
    extracts_note: str = ""


def check_status(passed: bool | None, severity: str | None) -> str:
    """'passed', 'warned' (failed at WARN), 'failed' (failed at ERROR) or 'not run'."""
    if passed is None:
        return "not run"
    if passed:
        return "passed"
    return "warned" if severity == "WARN" else "failed"


def read_deliveries(conn: Any) -> pd.DataFrame:
    """Every row of `raw.delivery_log`, oldest first (file, hash, counts, outcome, run)."""
    if not table_exists(conn, "raw.delivery_log"):
        return pd.DataFrame(columns=["source", "delivery_file", "file_sha256", "rows_read", "rows_accepted",
                                     "rows_quarantined", "outcome", "message", "loaded_at", "run_id"])
    return conn.execute(
        "select source, delivery_file, file_sha256, rows_read, rows_accepted, rows_quarantined, outcome, "
        "message, loaded_at, run_id from raw.delivery_log order by loaded_at, source, delivery_file"
    ).df()


def read_quarantine(conn: Any, sources: list[str]) -> pd.DataFrame:
    """Quarantined rows per source, delivery and rule, with the plain-language reason."""
    frames = []
    for source in sources:
        table = f"raw.{source}__quarantine"
        if not table_exists(conn, table):
            continue
        f = conn.execute(
            "select delivery_file, rule, count(*) as rows from (select _delivery_file as delivery_file, "
            f"unnest(string_split(rule, ';')) as rule from {table}) group by all order by all"
        ).df()
        frames.append(f.assign(source=source))
    if not frames:
        return pd.DataFrame(columns=["source", "delivery_file", "rule", "reason", "rows"])
    out = pd.concat(frames, ignore_index=True)
    out["reason"] = out["rule"].map(REASONS).fillna(out["rule"])
    return out[["source", "delivery_file", "rule", "reason", "rows"]]


def read_linkage(conn: Any) -> pd.DataFrame:
    """The latest run's rows of `quality.linkage_runs` (written by the linkage-quality report)."""
    if not table_exists(conn, "quality.linkage_runs"):
        return pd.DataFrame()
    return conn.execute(
        "select * exclude (run_id) from quality.linkage_runs "
        "where run_at = (select max(run_at) from quality.linkage_runs) order by source"
    ).df()


def read_extracts(conn: Any) -> tuple[pd.DataFrame, str]:
    """Released extracts and their review, from the extracts stage if it offers them."""
    try:
        review = importlib.import_module("dl_platform.extracts.review")
        released = review.released_extracts(conn)
        frame = released if isinstance(released, pd.DataFrame) else pd.DataFrame(list(released))
        return frame, "" if count_released(frame) else "no extracts released"
    except (ImportError, AttributeError):
        pass
    if table_exists(conn, "extracts.review_log"):
        frame = conn.execute("select * from extracts.review_log").df()
        return frame, "" if len(frame) else "no extracts released"
    return pd.DataFrame(), "no extracts released"


def _table(frame: pd.DataFrame, empty: str) -> str:
    if frame.empty:
        return f"<p><em>{html.escape(empty)}</em></p>"
    return frame.to_html(index=False, border=0, classes="t", na_rep="")


def count_released(extracts: pd.DataFrame) -> int:
    """Extract versions released (all rows when the source has no status column)."""
    if "status" in extracts:
        return int((extracts["status"] == "released").sum())
    return len(extracts)


def counts(inputs: GovernanceInputs) -> dict[str, int]:
    """Headline counts for metadata and the summary."""
    status = inputs.checks["status"].value_counts() if len(inputs.checks) else pd.Series(dtype=int)
    landed = inputs.deliveries
    return {
        "deliveries": len(landed),
        "deliveries_this_run": int((landed["run_id"] == inputs.run_id).sum()) if len(landed) else 0,
        "rows_accepted": int(landed["rows_accepted"].fillna(0).sum()) if len(landed) else 0,
        "rows_quarantined": int(landed["rows_quarantined"].fillna(0).sum()) if len(landed) else 0,
        **{f"checks_{s.replace(' ', '_')}": int(status.get(s, 0)) for s in ("passed", "warned", "failed", "not run")},
        "extracts_released": count_released(inputs.extracts),
    }


def summary_markdown(inputs: GovernanceInputs) -> str:
    """The markdown shown on the materialisation: headline counts and every non-passing check."""
    c = counts(inputs)
    lines = [
        f"**Run** `{inputs.run_id}`",
        "",
        (f"- deliveries logged: {c['deliveries']} ({c['deliveries_this_run']} in this run); rows accepted "
        f"{c['rows_accepted']}, quarantined {c['rows_quarantined']}"),
        (f"- checks: {c['checks_passed']} passed, {c['checks_warned']} warned, {c['checks_failed']} failed, "
        f"{c['checks_not_run']} not run"),
        f"- extracts released: {c['extracts_released'] or inputs.extracts_note}",
    ]
    bad = inputs.checks[inputs.checks["status"].isin(["warned", "failed"])] if len(inputs.checks) else inputs.checks
    if len(bad):
        lines += ["", "| asset | check | status | reason |", "|---|---|---|---|"]
        lines += [f"| {r.asset} | {r.check} | {r.status} | {str(r.description).replace('|', '/')[:200]} |"
                  for r in bad.itertuples()]
    return "\n".join(lines)


def render_html(inputs: GovernanceInputs) -> str:
    """The governance report page."""
    c = counts(inputs)
    deliveries = inputs.deliveries.assign(
        file_sha256=inputs.deliveries["file_sha256"].astype("string").str[:16],
        this_run=inputs.deliveries["run_id"] == inputs.run_id,
    ).drop(columns=["run_id"]) if len(inputs.deliveries) else inputs.deliveries
    checks = inputs.checks.assign(this_run=inputs.checks["run_id"] == inputs.run_id) if len(inputs.checks) \
        else inputs.checks
    return "\n".join([
        "<!doctype html><html><head><meta charset='utf-8'><title>Governance report</title>",
        ("<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}table.t{border-collapse:collapse;"
         "font-size:12px}table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #ddd}</style>"),
        "</head><body><h1>Governance report</h1>",
        (f"<p>Run <code>{html.escape(inputs.run_id)}</code>. Check results are read from Dagster's event log "
        "(latest evaluation of every check), not recomputed.</p>"),
        "<ul>" + "".join(f"<li>{html.escape(k.replace('_', ' '))}: {v}</li>" for k, v in c.items()) + "</ul>",
        "<h2>Deliveries</h2>", _table(deliveries, "no delivery logged"),
        "<h2>Quarantined rows by rule</h2>", _table(inputs.quarantine, "nothing quarantined"),
        "<h2>Checks</h2>", _table(checks, "no check has run"),
        "<h2>Linkage statistics (latest linkage-quality run)</h2>",
        _table(inputs.linkage, "no linkage-quality report has run yet"),
        "<h2>Extracts released and their review</h2>", _table(inputs.extracts, inputs.extracts_note),
        "</body></html>",
    ])
