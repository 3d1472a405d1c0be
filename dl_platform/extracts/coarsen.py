"""Coarsening and encryption of disclosive variables before anything leaves.

Rules (DOMAIN.md, UK LLC): geography below region and organisation codes are encrypted
per project (suffix `_e`, still usable for grouping) or excluded; full dates of birth
become a year or an age band. A spec's `coarsen:` mapping overrides the defaults here.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from dl_platform.extracts.pseudonymise import encrypt_codes

# Column-name patterns that are below-region geography or organisation codes.
_ENCRYPT = re.compile(
    r"(lsoa|msoa|postcode|uprn|practice|procode|provider|site_code|la_code|org_code|ods_code)"
)
_BIRTH = re.compile(r"(birth|dob)")
_DEATH_DATE = re.compile(r"death_date|date_of_death")


# What each rule means, for the data dictionary.
RULE_LABELS = {
    "keep": "as in marts",
    "encrypt": "encrypted per project (keyed HMAC, suffix _e): groups, never reveals the code",
    "year": "year only",
    "year_month": "year-month only",
    "age_band": "age band at the period end",
    "pseudonymised": "study ID: HMAC-SHA256 under the project key",
}


def default_rule(column: str) -> str:
    """The coarsening rule applied to a column when the spec says nothing about it."""
    name = column.lower()
    if "region" in name:  # region is the lowest geography that may leave unencrypted
        return "keep"
    if _ENCRYPT.search(name):
        return "encrypt"
    if _BIRTH.search(name) and not name.startswith("year_of"):
        return "year"
    if _DEATH_DATE.search(name):
        return "year_month"
    return "keep"


def age_band(age: pd.Series, width: int = 5, top: int = 90) -> pd.Series:
    """Ages as bands like '40-44', with everyone from `top` up in one band ('90+')."""

    def one(a: object) -> object:
        if a is None or pd.isna(a):
            return None
        a = int(a)
        if a >= top:
            return f"{top}+"
        lo = a // width * width
        return f"{lo}-{lo + width - 1}"

    return age.map(one).astype("object")


def widen_band(band: object, width: int) -> object:
    """Generalise an age band ('42-44' or '40-44') to a wider one ('40-49'); 'N+' bands stay."""
    if band is None or (isinstance(band, float) and pd.isna(band)):
        return None
    match = re.match(r"^(\d+)-(\d+)$", str(band))
    if not match:
        return band
    lo = int(match.group(1)) // width * width
    return f"{lo}-{lo + width - 1}"


def age_at(year_of_birth: pd.Series, on: dt.date) -> pd.Series:
    """Age in completed years at `on`, from year of birth (mid-year assumption: may be 1 high)."""
    return on.year - pd.to_numeric(year_of_birth, errors="coerce")


def _apply(
    series: pd.Series, rule: str, column: str, key: bytes, on: dt.date
) -> tuple[str, pd.Series]:
    if rule == "encrypt":
        return f"{column}_e", encrypt_codes(series, key, column)
    if rule == "year":
        if pd.api.types.is_numeric_dtype(series):
            return column, series
        return column, pd.to_datetime(series, errors="coerce").dt.year.astype("Int64")
    if rule == "year_month":
        return column, pd.to_datetime(series, errors="coerce").dt.strftime("%Y-%m").astype("object")
    if rule == "age_band":
        source = (
            series
            if pd.api.types.is_numeric_dtype(series)
            else pd.to_datetime(series, errors="coerce").dt.year
        )
        return column, age_band(age_at(source, on))
    return column, series


def coarsen_frame(
    frame: pd.DataFrame, overrides: dict[str, str], key: bytes, on: dt.date
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Apply coarsening/encryption to every column (except `study_id`).

    Args:
        frame: A payload frame keyed by study_id.
        overrides: The spec's `coarsen:` rules (variable -> rule).
        key: The project key (for `_e` columns).
        on: Reference date for ages (the period end).

    Returns:
        The coarsened frame and, per output column, the rule that made it (for the dictionary).
    """
    out: dict[str, pd.Series] = {}
    applied: dict[str, str] = {}
    for column in frame.columns:
        if column == "study_id":
            out[column] = frame[column]
            applied[column] = "pseudonymised"
            continue
        rule = overrides.get(column, default_rule(column))
        if rule == "exclude":
            continue
        name, series = _apply(frame[column], rule, column, key, on)
        out[name] = series
        applied[name] = rule
    return pd.DataFrame(out, index=frame.index), applied
