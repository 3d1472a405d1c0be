"""Parse delivery dates in the three shapes NHS feeds use: ISO, DD/MM/YYYY and YYYYMMDD.

The shape decides the format, so `01/02/2020` is always 1 February (UK order) and never
guessed; anything else, or an impossible calendar date (31/02/1980), is unparseable.
`date_issues` names what is wrong with a value so raw loading can count it; the dbt
macro `describe_date_issue` applies the same lower bound (EARLIEST_PLAUSIBLE).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

EARLIEST_PLAUSIBLE = pd.Timestamp("1880-01-01")

UNRECOGNISED_FORMAT = "unrecognised_format"
IMPOSSIBLE_DATE = "impossible_date"
BEFORE_EARLIEST = f"before_{EARLIEST_PLAUSIBLE.year}"
IN_THE_FUTURE = "in_the_future"
# Plain-language meaning of each kind of date issue (shown in asset metadata).
DATE_ISSUES = {
    UNRECOGNISED_FORMAT: "not in ISO, DD/MM/YYYY or YYYYMMDD form",
    IMPOSSIBLE_DATE: "in a recognised form but not a calendar date (e.g. 31/02/1980)",
    BEFORE_EARLIEST: f"before {EARLIEST_PLAUSIBLE.date().isoformat()}",
    IN_THE_FUTURE: "after the day of loading",
}

_SHAPES: tuple[tuple[str, str], ...] = (
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    (r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$", "ISO8601"),
    (r"^\d{2}/\d{2}/\d{4}$", "%d/%m/%Y"),
    (r"^\d{8}$", "%Y%m%d"),
)


def parse_delivery_dates(values: pd.Series) -> pd.Series:
    """Parse strings to timestamps; NaT where empty, of unknown shape or impossible.

    Args:
        values: strings as delivered (nulls allowed).

    Returns:
        A datetime64 series aligned with `values`.
    """
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for pattern, fmt in _SHAPES:
        mask = text.str.match(pattern).fillna(False).astype(bool)
        if mask.any():
            parsed = pd.to_datetime(text[mask], format=fmt, errors="coerce")
            out.loc[mask] = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    return out


def date_issues(values: pd.Series, today: pd.Timestamp | None = None) -> pd.Series:
    """What is wrong with each delivered date: one of DATE_ISSUES, or NA when it is usable or empty.

    Args:
        values: strings as delivered (nulls allowed).
        today: the last plausible day (default: today); dates after it are `in_the_future`.

    Returns:
        A string series aligned with `values`.
    """
    today = (pd.Timestamp.today() if today is None else today).normalize()
    text = values.astype("string").str.strip()
    present = (text.notna() & (text != "")).fillna(False).astype(bool)
    shaped = pd.Series(False, index=values.index)
    for pattern, _ in _SHAPES:
        shaped |= text.str.match(pattern).fillna(False).astype(bool)
    parsed = parse_delivery_dates(values)
    issues = pd.Series(pd.NA, index=values.index, dtype="string")
    issues[present & ~shaped] = UNRECOGNISED_FORMAT
    issues[(parsed < EARLIEST_PLAUSIBLE).fillna(False)] = BEFORE_EARLIEST
    issues[(parsed.dt.normalize() > today).fillna(False)] = IN_THE_FUTURE
    # pandas timestamps stop at 1677 and 2262, so a real date such as 2999-01-01 parses to NaT:
    # decide those few with the calendar itself.
    residual = present & shaped & parsed.isna()
    for index, value in text[residual].items():
        day = _calendar_date(value)
        if day is None:
            issues[index] = IMPOSSIBLE_DATE
        elif day < EARLIEST_PLAUSIBLE.date():
            issues[index] = BEFORE_EARLIEST
        elif day > today.date():
            issues[index] = IN_THE_FUTURE
    return issues


def _calendar_date(value: str) -> dt.date | None:
    """The calendar date a shaped value names, or None when no such day exists."""
    for pattern, fmt in _SHAPES:
        if re.match(pattern, value):
            text, fmt = (value[:10], "%Y-%m-%d") if fmt == "ISO8601" else (value, fmt)
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                return None
    return None
