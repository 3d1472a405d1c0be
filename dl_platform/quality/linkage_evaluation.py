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
    load_linked_evidence,
    load_multiple_match_flags,
    load_record_person,
    record_attributes,
    truth_outcomes,
)
from dl_platform.quality.outcome import ERROR, WARN, CheckDef, CheckOutcome, not_applicable
from dl_platform.quality.thresholds import MAX_CLUSTER_ANOMALY_SHARE, thresholds
from dl_platform.quality.truth import Truth, attach_truth
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
                     margin: float = parity.DEFAULT_MARGIN, truth: Truth | None = None) -> LinkageEvaluation:
    """Run every linkage check on `mpi.record_person`.

    Args:
        conn: a warehouse connection (read-only is enough).
        registry: the source registry (expected match rates, master, periods).
        today: the run date (for age bands from dates of birth).
        margin: the parity margin (0.02 = 2 percentage points).
        truth: a validated truth file, for precision/recall by group (the report only).

    Returns:
        A `LinkageEvaluation`; every check is not-applicable before linkage has run.
    """
    rp = load_record_person(conn)
    if rp is None or rp.empty:
        return LinkageEvaluation([not_applicable(n, "mpi.record_person has not been built yet") for n in NAMES])
    master = registry.master.name if registry.master else None
    rates = lc.match_rates(rp)
    expected = {s.name: float(thresholds(s)["expected_match_rate"]) for s in registry}
    cluster_share = (float(thresholds(registry.master)["max_cluster_anomaly_share"]) if registry.master
                     else MAX_CLUSTER_ANOMALY_SHARE)
    evidence = load_linked_evidence(conn, registry)
    records, basis = record_attributes(conn, today)
    contributing = records[records["source"] != master]
    table = parity.parity_table(contributing)
    outcome_parity = parity.check_parity(table, margin)
    outcome_parity.details["attribute_basis"] = basis
    judged = truth_outcomes(attach_truth(records, truth), master) if truth is not None else None
    pr = parity.precision_recall_by_group(judged) if judged is not None else None
    outcomes = [
        lc.check_match_rate(rates, expected, master),
        lc.check_multiple_matches(load_multiple_match_flags(conn)),
        lc.check_implausible(evidence),
        lc.check_cluster_size(rp, master, max_share=cluster_share),
        outcome_parity,
    ]
    return LinkageEvaluation(outcomes, rp, rates, table, pr, basis)
