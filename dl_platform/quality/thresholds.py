"""Default thresholds for every quality check; a registry entry's `checks:` block overrides them.

Defaults are deliberately permissive enough that a clean synthetic demo passes, and strict
enough that a broken delivery (half the rows, one sex, a missing month) fails. Each value's
origin is noted beside it.
"""

from __future__ import annotations

from typing import Any

from dl_platform.sources.registry import Source

# Minimum share of valid values per identifier field. NHS number is low by default because
# Adult Social Care CLD arrives with ~40% empty and some invalid (DOMAIN.md); sources with
# better coverage (HES ~98%) tighten it in the registry (`checks: {completeness: {...}}`).
DEFAULT_COMPLETENESS: dict[str, float] = {
    "record_id": 1.0,
    "nhs_number": 0.3,
    "given_name": 0.8,
    "family_name": 0.8,
    "date_of_birth": 0.9,
    "sex": 0.8,
    "postcode": 0.7,
    "address": 0.5,
}

DEFAULTS: dict[str, Any] = {
    # ±20% between consecutive deliveries (issue 6).
    "volume_tolerance": 0.2,
    # A month may move ±50% from its trailing six-month mean before it counts as a break.
    "trend_tolerance": 0.5,
    # MPS reference: 98.8% of HES APC matched to PDS; 90% leaves room for synthetic noise.
    "expected_match_rate": 0.9,
    # More than 5% of a delivery quarantined means the supplier's extract is broken.
    "max_quarantine_share": 0.05,
    # Judged on the master source's entry only: see MAX_CLUSTER_ANOMALY_SHARE below.
    "max_cluster_anomaly_share": 0.005,
}

# Fixed rules (not per source): why each value was chosen is next to it.
TREND_WINDOW_MONTHS = 6
# A month must also sit this many Poisson standard deviations from its trailing mean: over
# ten years of months, 3 sigma still flags a chance dip now and then; 4 sigma almost never.
POISSON_SIGMAS = 4
# Below this many records a month, Poisson noise alone exceeds any sensible tolerance.
TREND_MIN_MONTHLY_RECORDS = 30
# A sex split is only judged on enough records to be meaningful.
SEX_MIN_RECORDS = 50
SEX_MAX_SINGLE_SHARE = 0.99
# A provider/organisation group is judged for completeness only when it has this many rows.
GROUP_MIN_RECORDS = 20
# A group fails when its share is below this fraction of the source minimum...
GROUP_SHARE_FACTOR = 0.5
# ...and chance cannot explain it: the binomial probability of so few valid values, were
# the group's true share at that floor, is below this. 1 valid of 21 against a floor of
# 15% (p = 0.16) is a small group's bad luck; 0 of 30 against 25% (p = 2e-4) is a fault.
GROUP_ALPHA = 0.001
# A month with no records is only a gap when the source averages this many records a month:
# at a mean of 10 a month, chance alone empties a month with probability e^-10 (~5e-5).
MISSING_MONTH_MIN_MEAN = 10
# Out-of-period and wrong-FYEAR records tolerated before the check fails.
MAX_OUT_OF_PERIOD_SHARE = 0.0
MAX_WRONG_FYEAR_SHARE = 0.0
# Records dated after death: a same-day record is allowed (death on the day of discharge).
MAX_ACTIVITY_AFTER_DEATH = 0
# Persons holding two or more master-register records or more records than the size bound,
# as a share of persons, before cluster_size_within_bound fails and blocks. A master register
# carries a few duplicates (PDS does): 4 of 16,000 persons (0.025%) is normal and only listed
# for review; 0.5% means households or streets are being chained into one person. The
# master's registry entry may override it (`checks: {max_cluster_anomaly_share: 0.01}`).
MAX_CLUSTER_ANOMALY_SHARE = DEFAULTS["max_cluster_anomaly_share"]
# Floors for pairwise precision and recall against a truth file (quality/linkage_accuracy,
# non-blocking). Precision matters more: a false merge mixes two people's care records, a
# missed link only leaves a record apart. The platform measures 0.99996 / 0.996 at 100k persons
# on the standard synthetic profile (README); the floors leave room for harsher feeds.
MIN_TRUTH_PRECISION = 0.99
MIN_TRUTH_RECALL = 0.95


def thresholds(source: Source) -> dict[str, Any]:
    """Effective thresholds for one source: defaults overlaid with the registry's `checks:`.

    Args:
        source: the registry entry.

    Returns:
        A dict with every key of `DEFAULTS` plus `completeness` (field -> minimum share)
        for the identifier fields the source carries.
    """
    overrides = dict(source.checks or {})
    merged = {**DEFAULTS, **{k: v for k, v in overrides.items() if k != "completeness"}}
    completeness = {f: DEFAULT_COMPLETENESS.get(f, 0.5) for f in source.identifier_fields}
    completeness.update({k: float(v) for k, v in (overrides.get("completeness") or {}).items()})
    merged["completeness"] = completeness
    return merged
