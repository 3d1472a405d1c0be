"""Volume: rows in the latest delivery against the one before, and monthly trend breaks.

A delivery half the size of the last one is the commonest sign of a truncated extract;
a month far from its trailing mean is the commonest sign of a feed that stopped or doubled.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome, not_applicable
from dl_platform.quality.thresholds import (
    POISSON_SIGMAS,
    TREND_MIN_MONTHLY_RECORDS,
    TREND_WINDOW_MONTHS,
)

VOLUME = "volume_vs_previous_delivery"
TREND = "monthly_volume_trend"


def check_volume(deliveries: pd.DataFrame, tolerance: float) -> CheckOutcome:
    """Compare the latest loaded delivery's row count with the previous one.

    Args:
        deliveries: loaded deliveries of one source, oldest first, with `rows_read`.
        tolerance: allowed relative change (0.2 = ±20%).

    Returns:
        Passes for a first delivery (nothing to compare); fails when the change exceeds
        the tolerance either way and is more than `POISSON_SIGMAS` Poisson standard
        deviations, so a small delivery's chance wobble (80 rows after 64) is not an error.
        With `delivery_file`, like is compared with like: a file is compared with the last one
        of its kind (its name with the digits masked), so a monthly refresh of an annual
        extract (`hes_apc_2024-25_refresh1`) is not judged against the annual file.
    """
    if len(deliveries) == 0:
        return not_applicable(VOLUME, "no delivery loaded yet")
    if "delivery_file" in deliveries:
        kinds = deliveries["delivery_file"].astype(str).map(delivery_kind)
        deliveries = deliveries[kinds == kinds.iloc[-1]]
    latest = int(deliveries["rows_read"].iloc[-1])
    if len(deliveries) == 1:
        return CheckOutcome(VOLUME, True, measured=latest, threshold=tolerance,
                            details={"note": "first delivery: nothing to compare with", "latest_rows": latest})
    previous = int(deliveries["rows_read"].iloc[-2])
    change = (latest - previous) / previous if previous else math.inf
    noise = POISSON_SIGMAS * math.sqrt(max(previous, 1))
    passed = abs(change) <= tolerance or abs(latest - previous) <= noise
    reason = "" if passed else (
        f"the latest delivery has {latest} rows against {previous} in the previous one "
        f"({change:+.0%}), outside the tolerance of ±{tolerance:.0%} and beyond chance variation"
    )
    return CheckOutcome(VOLUME, passed, measured=round(change, 4), threshold=tolerance, reason=reason,
                        details={"latest_rows": latest, "previous_rows": previous})


def delivery_kind(file_name: str) -> str:
    """A delivery file's kind: its name with every run of digits masked (`hes_apc_#-#.parquet`)."""
    return re.sub(r"\d+", "#", file_name)


def check_trend(counts: pd.Series, tolerance: float) -> CheckOutcome:
    """Flag months whose volume breaks from the mean of the trailing six months.

    A month is judged only when its trailing mean has at least `TREND_MIN_MONTHLY_RECORDS`
    records, and a break must exceed both the tolerance and four Poisson standard
    deviations (`POISSON_SIGMAS`), so small sources are not flagged for noise.

    Args:
        counts: records a month by activity date, every month from first to last included.
        tolerance: allowed relative deviation from the trailing mean.

    Returns:
        The outcome, listing the worst breaks (month, count, trailing mean).
    """
    if len(counts) <= TREND_WINDOW_MONTHS:
        return not_applicable(TREND, f"fewer than {TREND_WINDOW_MONTHS + 1} months of data")
    trailing = counts.shift(1).rolling(TREND_WINDOW_MONTHS).mean()
    judged = trailing >= TREND_MIN_MONTHLY_RECORDS
    if not judged.any():
        return not_applicable(TREND, f"fewer than {TREND_MIN_MONTHLY_RECORDS} records a month")
    deviation = (counts - trailing).abs()
    limit = pd.concat([trailing * tolerance, POISSON_SIGMAS * trailing.pow(0.5)], axis=1).max(axis=1)
    breaks = counts[judged & (deviation > limit)]
    relative = ((counts - trailing) / trailing)[judged]
    worst = float(relative.abs().max())
    listed = [
        {"month": str(m), "records": int(counts[m]), "trailing_mean": round(float(trailing[m]), 1)}
        for m in breaks.index[:10]
    ]
    reason = "" if breaks.empty else (
        f"{len(breaks)} month(s) break from the trailing {TREND_WINDOW_MONTHS}-month mean by more than "
        f"±{tolerance:.0%}; first: {listed[0]['month']} with {listed[0]['records']} records against a "
        f"mean of {listed[0]['trailing_mean']}"
    )
    return CheckOutcome(TREND, breaks.empty, measured=round(worst, 4), threshold=tolerance, reason=reason,
                        details={"months_judged": int(judged.sum()), "breaks": listed})
