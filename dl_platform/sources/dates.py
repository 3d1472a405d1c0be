"""Parse delivery dates in the three shapes NHS feeds use: ISO, DD/MM/YYYY and YYYYMMDD.

The shape decides the format, so `01/02/2020` is always 1 February (UK order) and never
guessed; anything else, or an impossible calendar date (31/02/1980), is unparseable.
"""

from __future__ import annotations

import pandas as pd

EARLIEST_PLAUSIBLE = pd.Timestamp("1880-01-01")

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


def unparseable_dates(values: pd.Series) -> pd.Series:
    """True where a non-empty value does not parse to a plausible date (on/after 1880)."""
    present = values.notna() & (values.astype("string").str.strip() != "")
    parsed = parse_delivery_dates(values)
    return present & (parsed.isna() | (parsed < EARLIEST_PLAUSIBLE))
