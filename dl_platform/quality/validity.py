"""Vectorised validity tests for delivered identifiers (NHS number, postcode, sex, dates).

These mirror the dbt macros so completeness can be judged on raw deliveries before dbt
has run; they return booleans only, so no identifier value ever leaves this module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.sources.dates import EARLIEST_PLAUSIBLE, parse_delivery_dates

_NHS_WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2])
# BS7666 shape after removing spaces: outward code, then digit + two letters not in CIKMOV.
_POSTCODE = r"^(?:[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?[0-9][ABD-HJLNP-UW-Z]{2}|GIR0AA)$"
# Pseudo-postcodes (no fixed abode / unknown) are valid input but not a place.
_PSEUDO_POSTCODE = r"^ZZ99"
SEX_CODES = {"1": "M", "M": "M", "MALE": "M", "2": "F", "F": "F", "FEMALE": "F"}


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def present(values: pd.Series) -> pd.Series:
    """True where a value is non-null and not blank."""
    t = _text(values)
    return (t.notna() & (t != "")).fillna(False).astype(bool)


def nhs_number_valid(values: pd.Series) -> pd.Series:
    """Modulus 11 validity (DOMAIN.md): 10 digits, check digit right, not all one digit.

    Args:
        values: NHS numbers as delivered (spaces, hyphens and dots allowed).

    Returns:
        A boolean series aligned with `values`.
    """
    cleaned = _text(values).str.replace(r"[\s.\-]", "", regex=True).fillna("")
    shaped = cleaned.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
    out = pd.Series(False, index=values.index)
    if not shaped.any():
        return out
    # One byte buffer for all numbers: vectorised, no per-row Python work.
    joined = "".join(cleaned[shaped].tolist()).encode("ascii")
    digits = (np.frombuffer(joined, dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(np.int64)
    check = 11 - (digits[:, :9] @ _NHS_WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    same = (digits == digits[:, :1]).all(axis=1)
    out.loc[shaped] = (check != 10) & (check == digits[:, 9]) & ~same
    return out


def postcode_valid(values: pd.Series) -> pd.Series:
    """True for a BS7666-shaped postcode that is a place (pseudo-postcodes count as missing)."""
    squeezed = _text(values).str.upper().str.replace(r"\s+", "", regex=True)
    shaped = squeezed.str.match(_POSTCODE).fillna(False).astype(bool)
    pseudo = squeezed.str.match(_PSEUDO_POSTCODE).fillna(False).astype(bool)
    return shaped & ~pseudo


def sex_normalised(values: pd.Series) -> pd.Series:
    """'M', 'F' or <NA> from the codes sources use (1/2, M/F, Male/Female; 0/9/U unknown)."""
    return _text(values).str.upper().map(SEX_CODES).astype("string")


def date_of_birth_valid(values: pd.Series, today: pd.Timestamp) -> pd.Series:
    """Parseable, on/after 1880 and not after `today`."""
    parsed = parse_delivery_dates(values)
    return (parsed.notna() & (parsed >= EARLIEST_PLAUSIBLE) & (parsed <= today)).astype(bool)


def field_valid(field: str, values: pd.Series, today: pd.Timestamp) -> pd.Series:
    """Whether each value of a standard identifier field is present and usable.

    Args:
        field: the standard field name.
        values: the delivered values.
        today: the date beyond which a date of birth is impossible.

    Returns:
        A boolean series aligned with `values`.
    """
    if field == "nhs_number":
        return nhs_number_valid(values)
    if field == "postcode":
        return postcode_valid(values)
    if field == "date_of_birth":
        return date_of_birth_valid(values, today)
    if field == "sex":
        return sex_normalised(values).notna().astype(bool)
    return present(values)
