"""Linkage checks on `mpi.record_person`: match rate per source and step, multiple matches,
implausible links and cluster size (GUILD/RECORD items in DOMAIN.md).

Each check is counted by the engine over a relation (a warehouse table or view; tests register
small frames): at 1M persons they group 5M records by person, which pandas took half a minute
to do.

"Matched" means placed with a master (PDS) person by the deterministic or probabilistic
step; bucket and one-time IDs are records the cascade could not trace to the register.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome, not_applicable
from dl_platform.quality.thresholds import MAX_CLUSTER_ANOMALY_SHARE
from dl_platform.resources.sql import quote_literal

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


def match_rates(conn: Any, relation: str) -> pd.DataFrame:
    """Per source: records, count per cascade step and the match rate (counted by the engine).

    Args:
        conn: a DuckDB connection holding `relation`.
        relation: rows with source and link_step (e.g. `mpi.record_person`).

    Returns:
        One row per source with columns records, <step> counts, matched and match_rate.
    """
    long = conn.execute(f"select source, link_step, count(*) as n from {relation} group by all").df()
    counts = long.pivot_table(index="source", columns="link_step", values="n", aggfunc="sum", fill_value=0)
    for step in STEPS:
        if step not in counts:
            counts[step] = 0
    counts = counts[[*STEPS, *[c for c in counts.columns if c not in STEPS]]].astype("int64")
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


def check_multiple_matches(counts: tuple[int, int] | None, limit: float = MAX_MULTIPLE_MATCH_SHARE) -> CheckOutcome:
    """Share of records the linker flagged as having several equally good candidates.

    Args:
        counts: (records, flagged) from the diagnostics; None when they carry no flag.
    """
    if counts is None:
        return not_applicable(MULTIPLE, "mpi.link_diagnostics has no multiple-match flag")
    records, multiple = counts
    if not records:
        return not_applicable(MULTIPLE, "no diagnostics rows")
    share = multiple / records
    passed = share <= limit
    reason = "" if passed else (
        f"{share:.2%} of {records} records had several equally good candidates, above {limit:.0%}"
    )
    return CheckOutcome(MULTIPLE, passed, measured=round(share, 5), threshold=limit, reason=reason,
                        details={"records": records, "multiple": multiple})


def implausible_persons(conn: Any, relation: str) -> dict[str, int]:
    """Count persons with implausible evidence (aggregated by the engine).

    Args:
        conn: a DuckDB connection holding `relation`.
        relation: one row per record with person_id and, where known, `nhs_number` (valid
            ones only, else null), `date_of_death` and `activity_date`.

    Returns:
        Counts of persons with two or more valid NHS numbers, two or more dates of death,
        and records dated after the person's earliest date of death.
    """
    have = {r[0] for r in conn.execute(f"describe {relation}").fetchall()}
    nhs = "count(distinct nhs_number)" if "nhs_number" in have else "0"
    deaths = "date_of_death" in have
    per_person = (f"select person_id, {nhs} as nhs, "
                  + ("count(distinct date_of_death) as deaths, min(date_of_death) as death" if deaths
                     else "0 as deaths, null::date as death")
                  + f" from {relation} group by person_id")
    after = (f"(select count(distinct r.person_id) from {relation} r join per p using (person_id) "
             "where r.activity_date > p.death)" if deaths and "activity_date" in have else "0")
    persons, two_nhs, two_deaths, after_death = conn.execute(
        f"""with per as ({per_person})
            select count(*), count(*) filter (where nhs > 1), count(*) filter (where deaths > 1), {after}
            from per"""
    ).fetchall()[0]
    out = {"persons": int(persons), "two_nhs_numbers": int(two_nhs)}
    if deaths:
        out["two_dates_of_death"] = int(two_deaths)
        if "activity_date" in have:
            out["activity_after_death"] = int(after_death)
    return out


def check_implausible(conn: Any, relation: str, limit: float = MAX_IMPLAUSIBLE_SHARE) -> CheckOutcome:
    """Fail when the share of persons with implausible evidence exceeds `limit`."""
    counts = implausible_persons(conn, relation)
    if not counts["persons"]:
        return not_applicable(IMPLAUSIBLE, "no linked records")
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


def check_cluster_size(conn: Any, relation: str, master: str | None,
                       max_records: int = MAX_CLUSTER_RECORDS, max_share: float = MAX_CLUSTER_ANOMALY_SHARE,
                       max_listed: int = MAX_LISTED_PERSONS) -> CheckOutcome:
    """Judge the share of persons holding two or more master records or more than `max_records`.

    A master register carries a few duplicates (PDS does), so a few such persons pass and are
    listed for review; more than `max_share` of persons is households or streets chained into
    one person, and fails. The list holds `person_id`s only: pseudonymous platform IDs, never
    a record's identifiers.

    Args:
        conn: a DuckDB connection holding `relation`.
        relation: rows with source, record_id, person_id (e.g. `mpi.record_person`).
        master: the master source (None: only the size bound is judged).
        max_records: records one person may hold before it counts as a chain.
        max_share: share of persons that may be affected before the check fails.
        max_listed: most person_ids listed for review.

    Returns:
        The outcome: measured = share of persons affected, threshold = `max_share`; details
        carry the counts, the largest person and up to `max_listed` person_ids for review.
    """
    master_count = (f"count(*) filter (where source = {quote_literal(master)})" if master is not None else "0")
    per = (f"select person_id, count(*) as n, {master_count} as masters from {relation} group by person_id")
    persons, largest, mean, big, masters, affected = conn.execute(
        f"""select count(*), coalesce(max(n), 0), coalesce(avg(n), 0), count(*) filter (where n > {max_records}),
                   count(*) filter (where masters > 1), count(*) filter (where n > {max_records} or masters > 1)
            from ({per})"""
    ).fetchall()[0]
    if not persons:
        return not_applicable(CLUSTER, "no linked records")
    listed = [str(r[0]) for r in conn.execute(
        f"""select person_id from ({per}) where n > {max_records} or masters > 1
            order by n desc, person_id limit {int(max_listed)}""").fetchall()]
    share = affected / persons
    passed = share <= max_share
    found = []
    if big:
        found.append(f"{big} persons hold more than {max_records} records (largest {int(largest)})")
    if masters:
        found.append(f"{masters} persons hold two or more master-register records")
    what = "; ".join(found)
    details = {"persons": int(persons), "persons_affected": int(affected),
               "persons_with_two_master_records": int(masters), "persons_above_size_bound": int(big),
               "max_records_per_person": max_records, "largest_person_records": int(largest),
               "mean_records_per_person": round(float(mean), 3),
               "persons_for_review": listed, "persons_for_review_truncated": affected > max_listed}
    reason = ""
    if not passed:
        reason = (f"{what}: {share:.2%} of {persons} persons, above the tolerated {max_share:.1%} — the "
                  "signature of households or streets chained into one person")
    elif affected:
        details["note"] = (f"passed: {what} ({share:.3%} of {persons} persons, within the tolerated "
                           f"{max_share:.1%}); listed by person_id for review")
    return CheckOutcome(CLUSTER, passed, measured=round(share, 6), threshold=max_share, reason=reason,
                        details=details)
