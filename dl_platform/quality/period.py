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
from dl_platform.quality.volume import monthly_counts
from dl_platform.sources.registry import Period

WITHIN = "within_coverage_period"
MISSING_MONTHS = "no_missing_months"
FYEAR = "filed_in_right_financial_year"
NO_PERIOD = "no period declared"


def check_within_period(dates: pd.Series, period: Period | None) -> CheckOutcome:
    """Share of dated records outside `period` (undated records are not judged here)."""
    if period is None:
        return not_applicable(WITHIN, NO_PERIOD)
    dated = dates.dropna()
    if dated.empty:
        return not_applicable(WITHIN, f"no record has a parseable {period.date_column}")
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    before, after = int((dated < start).sum()), int((dated > end).sum())
    share = (before + after) / len(dated)
    passed = share <= MAX_OUT_OF_PERIOD_SHARE
    reason = "" if passed else (
        f"{before + after} of {len(dated)} records ({share:.2%}) have {period.date_column} outside the "
        f"coverage period {period.start}..{period.end} ({before} before, {after} after)"
    )
    return CheckOutcome(WITHIN, passed, measured=round(share, 6), threshold=MAX_OUT_OF_PERIOD_SHARE,
                        reason=reason, details={"before_start": before, "after_end": after,
                                                "undated": int(dates.isna().sum())})


def check_missing_months(dates: pd.Series, period: Period | None) -> CheckOutcome:
    """Months with no record between the first and last month observed inside the period.

    Judged only when the source averages at least `MISSING_MONTH_MIN_MEAN` records a month,
    so a sparse source is not failed for an empty month that chance explains.
    """
    if period is None:
        return not_applicable(MISSING_MONTHS, NO_PERIOD)
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    inside = dates[(dates >= start) & (dates <= end)]
    counts = monthly_counts(inside)
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


def financial_year_code(dates: pd.Series) -> pd.Series:
    """HES-style FYEAR ('2223' = April 2022 to March 2023) for each date."""
    start_year = dates.dt.year - (dates.dt.month < 4).astype("Int64")
    code = (start_year % 100).astype("Int64").astype("string").str.zfill(2) + (
        ((start_year + 1) % 100).astype("Int64").astype("string").str.zfill(2)
    )
    return code.where(dates.notna())


def check_financial_year(dates: pd.Series, fyear: pd.Series | None, date_column: str | None) -> CheckOutcome:
    """Records whose FYEAR differs from the financial year of their period date."""
    if fyear is None or date_column is None:
        return not_applicable(FYEAR, "the source has no FYEAR column and period date")
    judged = dates.notna() & fyear.notna()
    if not judged.any():
        return not_applicable(FYEAR, "no record has both FYEAR and a parseable date")
    expected = financial_year_code(dates[judged])
    delivered = fyear[judged].astype("string").str.strip()
    wrong = int((expected != delivered).sum())
    share = wrong / int(judged.sum())
    passed = share <= MAX_WRONG_FYEAR_SHARE
    reason = "" if passed else (
        f"{wrong} of {int(judged.sum())} records ({share:.2%}) are filed under a FYEAR that is not the "
        f"financial year (April-March) of their {date_column}"
    )
    return CheckOutcome(FYEAR, passed, measured=round(share, 6), threshold=MAX_WRONG_FYEAR_SHARE,
                        reason=reason, details={"wrong_fyear": wrong})
