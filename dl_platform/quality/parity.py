"""Linkage parity: is any group of people linked less often than everyone else?

Missed matches are repeatedly more common for ethnic-minority groups, young adults, men
and people in deprived areas (DOMAIN.md), so an overall match rate can look excellent
while one group is badly served. This module compares each group's match rate with the
overall rate and, where synthetic truth exists, reports precision and recall per group.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome
from dl_platform.resources.sql import quote_identifier, quote_literal

NAME = "match_rate_parity"
ATTRIBUTES = ("ethnic_group", "age_band", "sex", "imd_quintile")
# A group more than 2 percentage points below the overall rate fails (issue 6).
DEFAULT_MARGIN = 0.02
# Smaller groups are reported but not judged: their rate is mostly noise.
MIN_GROUP_RECORDS = 30


def parity_table(conn: Any, relation: str, attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
    """Match rate per group of each attribute, beside the overall rate (counted by the engine).

    Args:
        conn: a DuckDB connection holding `relation`.
        relation: one row per linked record with boolean `matched` and attribute columns
            (missing values count as the group 'unknown').
        attributes: the attribute columns to group by (absent ones are skipped).

    Returns:
        Columns attribute, group, records, matched, match_rate, overall_rate, gap (group - overall).
    """
    columns = ["attribute", "group", "records", "matched", "match_rate", "overall_rate", "gap"]
    have = {r[0] for r in conn.execute(f"describe {relation}").fetchall()}
    total, hits = conn.execute(f"select count(*), count(*) filter (where matched) from {relation}").fetchall()[0]
    overall = hits / total if total else float("nan")
    parts = [f"select {quote_literal(a)} as attribute, coalesce(cast({quote_identifier(a)} as varchar), 'unknown') "
             f"as \"group\", count(*) as records, count(*) filter (where matched) as matched from {relation} group by 2"
             for a in attributes if a in have]
    if not parts:
        return pd.DataFrame(columns=columns)
    rows = []
    for attribute, group, records, matched in conn.execute(" union all ".join(parts) + " order by 1, 2").fetchall():
        rate = matched / records
        rows.append({"attribute": attribute, "group": str(group), "records": int(records), "matched": int(matched),
                     "match_rate": round(float(rate), 4), "overall_rate": round(overall, 4),
                     "gap": round(float(rate - overall), 4)})
    return pd.DataFrame(rows, columns=columns)


def check_parity(table: pd.DataFrame, margin: float = DEFAULT_MARGIN,
                 min_records: int = MIN_GROUP_RECORDS) -> CheckOutcome:
    """Fail when any judged group's match rate is more than `margin` below the overall rate.

    Args:
        table: from `parity_table`.
        margin: allowed shortfall in absolute terms (0.02 = 2 percentage points).
        min_records: groups smaller than this are listed but not judged.

    Returns:
        The outcome; the reason names each failing attribute/group with its rate and gap.
    """
    if table.empty:
        return CheckOutcome(NAME, True, details={"note": "not applicable: no linked records with attributes"})
    judged = table[(table["records"] >= min_records) & (table["group"] != "unknown")]
    below = judged[judged["gap"] < -margin].sort_values("gap")
    reason = "" if below.empty else "; ".join(
        f"{r.attribute} '{r.group}' is matched at {r.match_rate:.1%} against {r.overall_rate:.1%} overall "
        f"({r.gap * 100:+.1f} pp, {r.records} records)"
        for r in below.itertuples()
    ) + f" — more than {margin * 100:.0f} pp below the overall rate"
    worst = float(judged["gap"].min()) if len(judged) else 0.0
    return CheckOutcome(NAME, below.empty, measured=round(worst, 4), threshold=-margin, reason=reason,
                        details={"groups": table.to_dict(orient="records"),
                                 "failing_groups": len(below), "min_group_records": min_records})


def precision_recall_by_group(records: pd.DataFrame, attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
    """Record-level precision and recall of the link to the master, per group, against truth.

    Args:
        records: one row per non-master record with `matched` (linked to a master person),
            `correct` (linked to the master person truth says it belongs to) and
            `linkable` (truth has a master record for its person), plus attribute columns.
        attributes: the attribute columns to group by.

    Returns:
        Columns attribute, group, records, precision, recall (NaN where undefined); the
        attribute 'all' holds the overall figures.
    """
    def _pr(frame: pd.DataFrame) -> tuple[float, float]:
        matched, linkable = int(frame["matched"].sum()), int(frame["linkable"].sum())
        correct = int(frame["correct"].sum())
        return (correct / matched if matched else float("nan"),
                correct / linkable if linkable else float("nan"))

    p, r = _pr(records)
    rows = [{"attribute": "all", "group": "all", "records": len(records), "precision": p, "recall": r}]
    for attribute in attributes:
        if attribute not in records:
            continue
        keys = records[attribute].astype("string").fillna("unknown")
        for group, frame in records.groupby(keys.to_numpy()):
            p, r = _pr(frame)
            rows.append({"attribute": attribute, "group": str(group), "records": len(frame),
                         "precision": p, "recall": r})
    return pd.DataFrame(rows).round({"precision": 4, "recall": 4})
