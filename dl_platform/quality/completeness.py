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

NAME = "identifier_completeness"
OVERALL = "(all records)"  # the dimension of the whole-source row in the counts
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


def _group_failures(groups: pd.DataFrame, minimums: dict[str, float]) -> list[dict]:
    failures = []
    for field, minimum in minimums.items():
        floor = minimum * GROUP_SHARE_FACTOR
        share = groups[field] / groups["records"]
        chance = binom.cdf(groups[field], groups["records"], floor)
        bad = (groups["records"] >= GROUP_MIN_RECORDS) & (share < floor) & (chance < GROUP_ALPHA)
        for i in groups.index[bad]:
            failures.append({
                "field": field, "dimension": groups.at[i, "dimension"], "group": str(groups.at[i, "group"]),
                "records": int(groups.at[i, "records"]), "share": round(float(share[i]), 4),
                "p_value": float(f"{chance[groups.index.get_loc(i)]:.2g}"),
            })
    return failures


def check_completeness(valid: pd.DataFrame, minimums: dict[str, float]) -> CheckOutcome:
    """Compare each field's share of valid values with its minimum, overall and per group.

    Args:
        valid: counts from `source_stats` — one row per (dimension, group) with `records` and
            the number of present, valid values of each field; dimension `OVERALL` is the whole
            source, the others groups such as each delivery file and organisation code.
        minimums: field -> minimum share of valid values (0..1).

    Returns:
        Fails when a field's overall share is below its minimum, or when a group of at least
        `GROUP_MIN_RECORDS` rows falls below half of it by more than chance explains
        (binomial p < `GROUP_ALPHA`); the reason names field and group.
    """
    fields = [f for f in minimums if f in valid.columns]
    overall = valid[valid["dimension"] == OVERALL]
    records = int(overall["records"].iloc[0]) if len(overall) else 0
    if not records or not fields:
        return CheckOutcome(NAME, True, details={"note": "not applicable: no records or no mapped fields"})
    shares = {f: round(float(overall[f].iloc[0]) / records, 4) for f in fields}
    low = [f for f in fields if shares[f] < minimums[f]]
    groups = valid[valid["dimension"] != OVERALL].reset_index(drop=True)
    group_failures = _group_failures(groups, {f: minimums[f] for f in fields})
    reasons = [
        f"{LABELS.get(f, f)} is present and valid for {shares[f]:.1%} of {records} records, "
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
        reason="; ".join(reasons), details={"records": records, "failing_groups": group_failures},
    )
