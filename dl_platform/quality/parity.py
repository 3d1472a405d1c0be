"""Linkage parity: is any group of people linked less often than everyone else?

Missed matches are repeatedly more common for ethnic-minority groups, young adults, men
and people in deprived areas (DOMAIN.md), so an overall match rate can look excellent
while one group is badly served. This module compares each group's match rate with the
overall rate and, where synthetic truth exists, reports precision and recall per group.
"""

from __future__ import annotations

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome

NAME = "match_rate_parity"
ATTRIBUTES = ("ethnic_group", "age_band", "sex", "imd_quintile")
# A group more than 2 percentage points below the overall rate fails (issue 6).
DEFAULT_MARGIN = 0.02
# Smaller groups are reported but not judged: their rate is mostly noise.
MIN_GROUP_RECORDS = 30


def parity_table(records: pd.DataFrame, attributes: tuple[str, ...] = ATTRIBUTES) -> pd.DataFrame:
    """Match rate per group of each attribute, beside the overall rate.

    Args:
        records: one row per linked record with boolean `matched` and attribute columns
            (missing values count as the group 'unknown').
        attributes: the attribute columns to group by (absent ones are skipped).

    Returns:
        Columns attribute, group, records, matched, match_rate, overall_rate, gap (group - overall).
    """
    overall = float(records["matched"].mean()) if len(records) else float("nan")
    rows = []
    for attribute in attributes:
        if attribute not in records:
            continue
        keys = records[attribute].astype("string").fillna("unknown")
        stats = records.groupby(keys.to_numpy())["matched"].agg(["size", "sum"])
        for group, row in stats.iterrows():
            rate = row["sum"] / row["size"]
            rows.append({"attribute": attribute, "group": str(group), "records": int(row["size"]),
                         "matched": int(row["sum"]), "match_rate": round(float(rate), 4),
                         "overall_rate": round(overall, 4), "gap": round(float(rate - overall), 4)})
    return pd.DataFrame(rows, columns=["attribute", "group", "records", "matched", "match_rate",
                                       "overall_rate", "gap"])


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
