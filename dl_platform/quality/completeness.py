"""Completeness: the share of present, valid values per identifier field, overall and per group.

An overall share can hide a provider whose feed lost a field entirely (one trust sending
no NHS numbers barely moves a national share), so the check also looks inside groups —
each delivery file and each organisation code the payload carries.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import binom

from dl_platform.quality.outcome import CheckOutcome
from dl_platform.quality.thresholds import GROUP_ALPHA, GROUP_MIN_RECORDS, GROUP_SHARE_FACTOR
from dl_platform.quality.validity import field_valid

NAME = "identifier_completeness"
# Payload columns naming the organisation that supplied a record, as delivered by source.
ORGANISATION_COLUMNS = ("PROCODET", "site_code", "la_code", "practice_code", "gp_practice_code")

LABELS = {
    "record_id": "record id", "nhs_number": "NHS number", "given_name": "given name",
    "family_name": "family name", "date_of_birth": "date of birth", "sex": "sex",
    "postcode": "postcode", "address": "address",
}


def organisation_column(columns: list[str]) -> str | None:
    """The first payload column that names the supplying organisation, if any."""
    lower = {c.lower(): c for c in columns}
    return next((lower[c.lower()] for c in ORGANISATION_COLUMNS if c.lower() in lower), None)


def _group_failures(
    valid: pd.DataFrame, groups: dict[str, pd.Series], minimums: dict[str, float]
) -> list[dict]:
    failures = []
    for dimension, keys in groups.items():
        for field, minimum in minimums.items():
            if field not in valid:
                continue
            stats = valid[field].groupby(keys.to_numpy()).agg(["sum", "mean", "size"])
            floor = minimum * GROUP_SHARE_FACTOR
            chance = binom.cdf(stats["sum"], stats["size"], floor)
            bad = stats[(stats["size"] >= GROUP_MIN_RECORDS) & (stats["mean"] < floor) & (chance < GROUP_ALPHA)]
            for group, row in bad.iterrows():
                failures.append({
                    "field": field, "dimension": dimension, "group": str(group),
                    "records": int(row["size"]), "share": round(float(row["mean"]), 4),
                    "p_value": float(f"{chance[stats.index.get_loc(group)]:.2g}"),
                })
    return failures


def check_completeness(
    identifiers: pd.DataFrame,
    minimums: dict[str, float],
    today: pd.Timestamp,
    groups: dict[str, pd.Series] | None = None,
) -> CheckOutcome:
    """Compare each field's share of valid values with its minimum, overall and per group.

    Args:
        identifiers: raw identifier columns named by standard field (strings as delivered).
        minimums: field -> minimum share of valid values (0..1).
        today: the run date (a date of birth after it is invalid).
        groups: dimension name -> group key per row (e.g. delivery file, organisation code).

    Returns:
        Fails when a field's overall share is below its minimum, or when a group of at least
        `GROUP_MIN_RECORDS` rows falls below half of it by more than chance explains
        (binomial p < `GROUP_ALPHA`); the reason names field and group.
    """
    fields = [f for f in minimums if f in identifiers.columns]
    if identifiers.empty or not fields:
        return CheckOutcome(NAME, True, details={"note": "not applicable: no records or no mapped fields"})
    valid = pd.DataFrame({f: field_valid(f, identifiers[f], today) for f in fields})
    shares = {f: round(float(valid[f].mean()), 4) for f in fields}
    low = [f for f in fields if shares[f] < minimums[f]]
    group_failures = _group_failures(valid, groups or {}, {f: minimums[f] for f in fields})
    reasons = [
        f"{LABELS.get(f, f)} is present and valid for {shares[f]:.1%} of {len(valid)} records, "
        f"below the minimum {minimums[f]:.0%}"
        for f in low
    ]
    reasons += [
        f"{LABELS.get(g['field'], g['field'])} is present and valid for only {g['share']:.1%} of the "
        f"{g['records']} records from {g['dimension']} '{g['group']}' (minimum for a group: "
        f"{minimums[g['field']] * GROUP_SHARE_FACTOR:.0%}; chance of so few by luck p={g['p_value']})"
        for g in group_failures[:5]
    ]
    if len(group_failures) > 5:
        reasons.append(f"and {len(group_failures) - 5} more groups")
    return CheckOutcome(
        NAME, not reasons, measured=shares, threshold={f: minimums[f] for f in fields},
        reason="; ".join(reasons), details={"records": len(valid), "failing_groups": group_failures},
    )
