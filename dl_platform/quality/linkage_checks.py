"""Linkage checks on `mpi.record_person`: match rate per source and step, multiple matches,
implausible links and cluster size (GUILD/RECORD items in DOMAIN.md).

"Matched" means placed with a master (PDS) person by the deterministic or probabilistic
step; bucket and one-time IDs are records the cascade could not trace to the register.
"""

from __future__ import annotations

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome, not_applicable
from dl_platform.quality.thresholds import MAX_CLUSTER_ANOMALY_SHARE

MATCHED_STEPS = ("deterministic", "probabilistic")
STEPS = ("deterministic", "probabilistic", "bucket", "one_time")
MATCH_RATE = "match_rate_per_source"
MULTIPLE = "multiple_match_rate"
IMPLAUSIBLE = "no_implausible_links"
CLUSTER = "cluster_size_within_bound"
# More than 1% of records with several equally good candidates means blocking/weights are off.
MAX_MULTIPLE_MATCH_SHARE = 0.01
# One person with more records than this is a chained household or street, not a person.
MAX_CLUSTER_RECORDS = 1000
# Persons with implausible evidence tolerated (share of persons); NHS numbers do change.
MAX_IMPLAUSIBLE_SHARE = 0.001
# Persons listed by person_id for review in cluster_size_within_bound: enough to work through,
# small enough for the event log.
MAX_LISTED_PERSONS = 50


def match_rates(record_person: pd.DataFrame) -> pd.DataFrame:
    """Per source: records, count per cascade step and the match rate.

    Args:
        record_person: columns source, record_id, person_id, link_step.

    Returns:
        One row per source with columns records, <step> counts, matched and match_rate.
    """
    counts = pd.crosstab(record_person["source"], record_person["link_step"])
    for step in STEPS:
        if step not in counts:
            counts[step] = 0
    counts = counts[[*STEPS, *[c for c in counts.columns if c not in STEPS]]]
    out = counts.assign(records=counts.sum(axis=1), matched=counts[list(MATCHED_STEPS)].sum(axis=1))
    out["match_rate"] = (out["matched"] / out["records"]).round(4)
    out.columns.name = None
    return out.reset_index()


def check_match_rate(rates: pd.DataFrame, expected: dict[str, float], master: str | None) -> CheckOutcome:
    """Fail when a contributing source's match rate is below its expected rate."""
    judged = rates[rates["source"] != master]
    if judged.empty:
        return not_applicable(MATCH_RATE, "no contributing source has linked records")
    low = [
        r for r in judged.itertuples() if r.match_rate < expected.get(r.source, 1.0)
    ]
    reason = "; ".join(
        f"{r.source} matched {r.match_rate:.1%} of {r.records} records to the master register, below "
        f"the expected {expected[r.source]:.0%} (bucket {r.bucket}, one-time {r.one_time})"
        for r in low
    )
    return CheckOutcome(
        MATCH_RATE, not low, measured={r.source: r.match_rate for r in judged.itertuples()},
        threshold={s: expected.get(s) for s in judged["source"]}, reason=reason,
        details={"per_source_and_step": rates.to_dict(orient="records")},
    )


def check_multiple_matches(flags: pd.Series | None, limit: float = MAX_MULTIPLE_MATCH_SHARE) -> CheckOutcome:
    """Share of records the linker flagged as having several equally good candidates."""
    if flags is None:
        return not_applicable(MULTIPLE, "mpi.link_diagnostics has no multiple-match flag")
    if flags.empty:
        return not_applicable(MULTIPLE, "no diagnostics rows")
    share = float(flags.fillna(False).astype(bool).mean())
    passed = share <= limit
    reason = "" if passed else (
        f"{share:.2%} of {len(flags)} records had several equally good candidates, above {limit:.0%}"
    )
    return CheckOutcome(MULTIPLE, passed, measured=round(share, 5), threshold=limit, reason=reason,
                        details={"records": len(flags), "multiple": int(flags.fillna(False).astype(bool).sum())})


def implausible_persons(linked: pd.DataFrame) -> dict[str, int]:
    """Count persons with implausible evidence.

    Args:
        linked: one row per record with person_id and, where known, `nhs_number` (valid
            ones only, else null), `date_of_death` and `activity_date`.

    Returns:
        Counts of persons with two or more valid NHS numbers, two or more dates of death,
        and records dated after the person's earliest date of death.
    """
    by_person = linked.groupby("person_id")
    out = {"persons": int(linked["person_id"].nunique())}
    out["two_nhs_numbers"] = int((by_person["nhs_number"].nunique() > 1).sum()) if "nhs_number" in linked else 0
    if "date_of_death" in linked:
        out["two_dates_of_death"] = int((by_person["date_of_death"].nunique() > 1).sum())
        if "activity_date" in linked:
            death = by_person["date_of_death"].transform("min")
            after = linked["activity_date"] > death
            out["activity_after_death"] = int(linked.loc[after, "person_id"].nunique())
    return out


def check_implausible(linked: pd.DataFrame, limit: float = MAX_IMPLAUSIBLE_SHARE) -> CheckOutcome:
    """Fail when the share of persons with implausible evidence exceeds `limit`."""
    if linked.empty:
        return not_applicable(IMPLAUSIBLE, "no linked records")
    counts = implausible_persons(linked)
    kinds = {k: v for k, v in counts.items() if k != "persons" and v}
    share = max(kinds.values(), default=0) / max(counts["persons"], 1)
    labels = {"two_nhs_numbers": "two different valid NHS numbers",
              "two_dates_of_death": "two different dates of death",
              "activity_after_death": "records dated after their death"}
    passed = share <= limit
    reason = "" if passed else "; ".join(
        f"{v} of {counts['persons']} persons have {labels[k]}" for k, v in kinds.items()
    ) + f" (tolerated: {limit:.1%} of persons)"
    return CheckOutcome(IMPLAUSIBLE, passed, measured=round(share, 5), threshold=limit, reason=reason,
                        details=counts)


def check_cluster_size(record_person: pd.DataFrame, master: str | None,
                       max_records: int = MAX_CLUSTER_RECORDS, max_share: float = MAX_CLUSTER_ANOMALY_SHARE,
                       max_listed: int = MAX_LISTED_PERSONS) -> CheckOutcome:
    """Judge the share of persons holding two or more master records or more than `max_records`.

    A master register carries a few duplicates (PDS does), so a few such persons pass and are
    listed for review; more than `max_share` of persons is households or streets chained into
    one person, and fails. The list holds `person_id`s only: pseudonymous platform IDs, never
    a record's identifiers.

    Args:
        record_person: columns source, record_id, person_id.
        master: the master source (None: only the size bound is judged).
        max_records: records one person may hold before it counts as a chain.
        max_share: share of persons that may be affected before the check fails.
        max_listed: most person_ids listed for review.

    Returns:
        The outcome: measured = share of persons affected, threshold = `max_share`; details
        carry the counts, the largest person and up to `max_listed` person_ids for review.
    """
    if record_person.empty:
        return not_applicable(CLUSTER, "no linked records")
    sizes = record_person.groupby("person_id").size()
    big = sizes[sizes > max_records]
    masters = pd.Series(dtype="int64")
    if master is not None:
        per_person = record_person[record_person["source"] == master].groupby("person_id").size()
        masters = per_person[per_person > 1]
    affected = sizes[sizes.index.isin(big.index.union(masters.index))]
    share = len(affected) / len(sizes)
    passed = share <= max_share
    found = []
    if len(big):
        found.append(f"{len(big)} persons hold more than {max_records} records (largest {int(sizes.max())})")
    if len(masters):
        found.append(f"{len(masters)} persons hold two or more master-register records")
    what = "; ".join(found)
    listed = affected.sort_values(ascending=False, kind="stable").index[:max_listed]
    details = {"persons": len(sizes), "persons_affected": len(affected),
               "persons_with_two_master_records": len(masters), "persons_above_size_bound": len(big),
               "max_records_per_person": max_records, "largest_person_records": int(sizes.max()),
               "mean_records_per_person": round(float(sizes.mean()), 3),
               "persons_for_review": [str(p) for p in listed],
               "persons_for_review_truncated": len(affected) > max_listed}
    reason = ""
    if not passed:
        reason = (f"{what}: {share:.2%} of {len(sizes)} persons, above the tolerated {max_share:.1%} — the "
                  "signature of households or streets chained into one person")
    elif len(affected):
        details["note"] = (f"passed: {what} ({share:.3%} of {len(sizes)} persons, within the tolerated "
                           f"{max_share:.1%}); listed by person_id for review")
    return CheckOutcome(CLUSTER, passed, measured=round(share, 6), threshold=max_share, reason=reason,
                        details=details)
