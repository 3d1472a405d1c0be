"""Evaluate every linkage check once and keep the tables the report needs.

The checks and the linkage-quality report read the same inputs, so both call
`evaluate_linkage`; it returns the outcomes plus the per-source and parity tables. The checks
never pass truth; the report passes it when `DL_TRUTH_FILE` names a usable file, which adds
precision and recall by group and changes no check outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dl_platform.quality import linkage_checks as lc
from dl_platform.quality import parity
from dl_platform.quality.linkage_inputs import (
    RECORD_PERSON,
    linked_evidence_sql,
    load_record_person,
    multiple_match_counts,
    record_attributes_sql,
    truth_outcomes,
)
from dl_platform.quality.outcome import ERROR, WARN, CheckDef, CheckOutcome, not_applicable
from dl_platform.quality.tables import table_exists
from dl_platform.quality.thresholds import MAX_CLUSTER_ANOMALY_SHARE, thresholds
from dl_platform.quality.truth import Truth, attach_truth
from dl_platform.resources.sql import quote_literal
from dl_platform.sources.registry import Registry

LINKAGE_CATALOGUE: tuple[CheckDef, ...] = (
    CheckDef(lc.MATCH_RATE, WARN, "Each contributing source matches to the master register at least at its "
             "expected_match_rate (registry); counts per cascade step in metadata."),
    CheckDef(lc.MULTIPLE, WARN, "Few records had several equally good candidates."),
    CheckDef(lc.IMPLAUSIBLE, WARN, "No person has two valid NHS numbers, two dates of death or records dated "
             "after death."),
    CheckDef(lc.CLUSTER, ERROR, f"At most {MAX_CLUSTER_ANOMALY_SHARE:.1%} of persons (the master's "
             "checks.max_cluster_anomaly_share) hold two or more master-register records or more than "
             f"{lc.MAX_CLUSTER_RECORDS} records (chained households); below that the check passes and lists "
             "them by person_id for review."),
    CheckDef(parity.NAME, WARN, "No ethnic group, age band, sex or deprivation quintile is matched more than "
             "2 percentage points below the overall rate (attributes from the MPI, never from truth)."),
)
NAMES = tuple(c.name for c in LINKAGE_CATALOGUE)


@dataclass
class LinkageEvaluation:
    """Outcomes of the linkage checks and the tables behind them (counts only)."""

    outcomes: list[CheckOutcome]
    record_person: pd.DataFrame | None = None
    rates: pd.DataFrame | None = None
    parity: pd.DataFrame | None = None
    precision_recall: pd.DataFrame | None = None
    attribute_basis: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def evaluate_linkage(conn: Any, registry: Registry, today: pd.Timestamp,
                     margin: float = parity.DEFAULT_MARGIN, truth: Truth | None = None,
                     frames: bool = False) -> LinkageEvaluation:
    """Run every linkage check on `mpi.record_person`, counted in the warehouse.

    Args:
        conn: a warehouse connection (read-only is enough; temp views are dropped after).
        registry: the source registry (expected match rates, master, periods).
        today: the run date (for age bands from dates of birth).
        margin: the parity margin (0.02 = 2 percentage points).
        truth: a validated truth file, for precision/recall by group (the report only).
        frames: also return `record_person` as a frame (the report draws from it).

    Returns:
        A `LinkageEvaluation`; every check is not-applicable before linkage has run.
    """
    if not table_exists(conn, RECORD_PERSON) or not conn.execute(
            f"select count(*) from (select 1 from {RECORD_PERSON} limit 1)").fetchall()[0][0]:
        return LinkageEvaluation([not_applicable(n, "mpi.record_person has not been built yet") for n in NAMES])
    master = registry.master.name if registry.master else None
    expected = {s.name: float(thresholds(s)["expected_match_rate"]) for s in registry}
    cluster_share = (float(thresholds(registry.master)["max_cluster_anomaly_share"]) if registry.master
                     else MAX_CLUSTER_ANOMALY_SHARE)
    records_sql, basis = record_attributes_sql(conn, today)
    views = {"__dl_lk_evidence": linked_evidence_sql(conn, registry), "__dl_lk_records": records_sql,
             "__dl_lk_contributing": f"select * from __dl_lk_records where source is distinct from "
                                     f"{quote_literal(master) if master else 'null'}"}
    try:
        for name, sql in views.items():
            conn.execute(f"create or replace temp view {name} as {sql}")
        rates = lc.match_rates(conn, RECORD_PERSON)
        table = parity.parity_table(conn, "__dl_lk_contributing")
        outcome_parity = parity.check_parity(table, margin)
        outcome_parity.details["attribute_basis"] = basis
        outcomes = [
            lc.check_match_rate(rates, expected, master),
            lc.check_multiple_matches(multiple_match_counts(conn)),
            lc.check_implausible(conn, "__dl_lk_evidence"),
            lc.check_cluster_size(conn, RECORD_PERSON, master, max_share=cluster_share),
            outcome_parity,
        ]
        rp, pr = None, None
        if frames or truth is not None:
            rp = load_record_person(conn)
        if truth is not None:
            records = conn.execute("select * from __dl_lk_records").df()
            judged = truth_outcomes(attach_truth(records, truth), master)
            pr = parity.precision_recall_by_group(judged) if judged is not None else None
    finally:
        for name in reversed(views):
            conn.execute(f"drop view if exists {name}")
    return LinkageEvaluation(outcomes, rp, rates, table, pr, basis)
