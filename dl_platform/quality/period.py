"""Period: records fall inside the declared coverage period, no month is missing, and
records are filed under the financial year (April-March) their date belongs to.
"""

from __future__ import annotations

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome, not_applicable
from dl_platform.quality.thresholds import (
    MAX_OUT_OF_PERIOD_SHARE,
    MAX_WRONG_FYEAR_SHARE,
    MISSING_MONTH_MIN_MEAN,
)
from dl_platform.sources.registry import Period

WITHIN = "within_coverage_period"
MISSING_MONTHS = "no_missing_months"
FYEAR = "filed_in_right_financial_year"
NO_PERIOD = "no period declared"


def check_within_period(counts: dict[str, int] | None, period: Period | None) -> CheckOutcome:
    """Share of dated records outside `period` (undated records are not judged here).

    Args:
        counts: `dated`, `undated`, `before_start`, `after_end` (from `source_stats`).
        period: the declared coverage period, or None.
    """
    if period is None or counts is None:
        return not_applicable(WITHIN, NO_PERIOD)
    if not counts["dated"]:
        return not_applicable(WITHIN, f"no record has a parseable {period.date_column}")
    before, after = counts["before_start"], counts["after_end"]
    share = (before + after) / counts["dated"]
    passed = share <= MAX_OUT_OF_PERIOD_SHARE
    reason = "" if passed else (
        f"{before + after} of {counts['dated']} records ({share:.2%}) have {period.date_column} outside the "
        f"coverage period {period.start}..{period.end} ({before} before, {after} after)"
    )
    return CheckOutcome(WITHIN, passed, measured=round(share, 6), threshold=MAX_OUT_OF_PERIOD_SHARE,
                        reason=reason, details={"before_start": before, "after_end": after,
                                                "undated": counts["undated"]})


def check_missing_months(counts: pd.Series, period: Period | None) -> CheckOutcome:
    """Months with no record between the first and last month observed inside the period.

    Args:
        counts: records a month inside the period, every month from first to last included.
        period: the declared coverage period, or None.

    Judged only when the source averages at least `MISSING_MONTH_MIN_MEAN` records a month,
    so a sparse source is not failed for an empty month that chance explains.
    """
    if period is None:
        return not_applicable(MISSING_MONTHS, NO_PERIOD)
    if counts.empty:
        return not_applicable(MISSING_MONTHS, "no dated record inside the coverage period")
    mean = float(counts.mean())
    if mean < MISSING_MONTH_MIN_MEAN:
        return not_applicable(MISSING_MONTHS, f"too few records a month (mean {mean:.1f}, need "
                                              f"{MISSING_MONTH_MIN_MEAN}) to tell a missing month from chance")
    missing = [str(m) for m in counts.index[counts == 0]]
    reason = "" if not missing else (
        f"{len(missing)} month(s) inside the coverage period have no records: "
        + ", ".join(missing[:12]) + (" ..." if len(missing) > 12 else "")
    )
    return CheckOutcome(MISSING_MONTHS, not missing, measured=len(missing), threshold=0, reason=reason,
                        details={"months_covered": len(counts), "first_month": str(counts.index[0]),
                                 "last_month": str(counts.index[-1]), "missing_months": missing})


def check_financial_year(counts: dict[str, int] | None, date_column: str | None) -> CheckOutcome:
    """Records whose FYEAR differs from the financial year (April-March) of their period date.

    Args:
        counts: `judged` (records with both) and `wrong`; None when there is no FYEAR column.
        date_column: the period date column, or None when no period is declared.
    """
    if counts is None or date_column is None:
        return not_applicable(FYEAR, "the source has no FYEAR column and period date")
    if not counts["judged"]:
        return not_applicable(FYEAR, "no record has both FYEAR and a parseable date")
    wrong, judged = counts["wrong"], counts["judged"]
    share = wrong / judged
    passed = share <= MAX_WRONG_FYEAR_SHARE
    reason = "" if passed else (
        f"{wrong} of {judged} records ({share:.2%}) are filed under a FYEAR that is not the "
        f"financial year (April-March) of their {date_column}"
    )
    return CheckOutcome(FYEAR, passed, measured=round(share, 6), threshold=MAX_WRONG_FYEAR_SHARE,
                        reason=reason, details={"wrong_fyear": wrong})
