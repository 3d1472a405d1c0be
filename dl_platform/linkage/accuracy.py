"""Pairwise linkage accuracy against known truth (synthetic populations).

Pairs are counted, never enumerated: within a group of n records there are n(n-1)/2
pairs, so a 1M-person run is scored in seconds. For a subset S of records (one step, one
source, one subgroup) a pair counts if either record is in S: a group with n records of
which s are in S has C(n,2) - C(n-s,2) such pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUBGROUPS = ("ethnic_group", "age_band", "sex", "imd_quintile")


def _pairs(n: np.ndarray) -> np.ndarray:
    return n * (n - 1) // 2


class _Groups:
    """Integer group codes for linked persons, true persons and their intersection.

    Factorised once so each subset is scored with `np.bincount` (vectorised, ~10 ms per
    million records) instead of a pandas group-by per subset.
    """

    def __init__(self, frame: pd.DataFrame):
        pid = pd.factorize(frame["person_id"])[0].astype(np.int64)
        key = pd.factorize(frame["person_key"])[0].astype(np.int64)
        both = pd.factorize(pid * (int(key.max(initial=0)) + 1) + key)[0]
        self.codes = {"person_id": pid, "person_key": key, "both": both}
        self.sizes = {k: np.bincount(v) for k, v in self.codes.items()}

    def touching(self, which: str, mask: np.ndarray) -> int:
        size = self.sizes[which]
        inside = np.bincount(self.codes[which], weights=mask, minlength=len(size)).astype(np.int64)
        return int((_pairs(size) - _pairs(size - inside)).sum())


def pairwise_scores(frame: pd.DataFrame, mask: pd.Series | None = None, groups: _Groups | None = None) -> dict:
    """Precision, recall and F1 over record pairs (those touching `mask` if given).

    Args:
        frame: One row per record with `person_id` (linked) and `person_key` (truth).
        mask: Boolean per row selecting the subset; None for all records.
        groups: Pre-factorised groups of `frame` (reused across many subsets).

    Returns:
        Dict with precision, recall, f1, true_pairs, predicted_pairs, correct_pairs, records.
    """
    groups = groups or _Groups(frame)
    m = np.ones(len(frame)) if mask is None else np.asarray(mask, dtype=float)
    predicted = groups.touching("person_id", m)
    true = groups.touching("person_key", m)
    correct = groups.touching("both", m)
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true,
            "predicted_pairs": predicted, "correct_pairs": correct, "records": int(m.sum())}


def accuracy_report(record_person: pd.DataFrame, truth: pd.DataFrame, persons: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accuracy overall, per link step, per source and per truth subgroup.

    Args:
        record_person: `mpi.record_person` rows (source, record_id, person_id, link_step).
        truth: (source, record_id, person_key) for the same records.
        persons: Optional truth per person (person_key plus any of `SUBGROUPS`).

    Returns:
        One row per (dimension, value) with the `pairwise_scores` columns.
    """
    frame = record_person.merge(truth, on=["source", "record_id"], how="inner", validate="one_to_one")
    frame = frame.reset_index(drop=True)
    if persons is not None:
        if "imd_quintile" not in persons.columns and "imd_decile" in persons.columns:
            persons = persons.assign(imd_quintile=(pd.to_numeric(persons["imd_decile"]) + 1) // 2)
        cols = ["person_key"] + [c for c in SUBGROUPS if c in persons.columns]
        frame = frame.merge(persons[cols], on="person_key", how="left")
    groups = _Groups(frame)
    rows = [{"dimension": "overall", "value": "all", **pairwise_scores(frame, groups=groups)}]
    for dim in ["link_step", "source"] + [c for c in SUBGROUPS if c in frame.columns]:
        for value in sorted(frame[dim].dropna().unique(), key=str):
            scores = pairwise_scores(frame, frame[dim] == value, groups=groups)
            rows.append({"dimension": dim, "value": str(value), **scores})
    return pd.DataFrame(rows)


def scores_by_dimension(report: pd.DataFrame, digits: int = 6) -> dict[str, dict[str, dict]]:
    """`accuracy_report` rows as {dimension: {value: {precision, recall, f1, records}}}.

    Args:
        report: from `accuracy_report`.
        digits: decimals kept for the rates.

    Returns:
        A nested dict, ready for JSON metadata.
    """
    out: dict[str, dict[str, dict]] = {}
    for row in report.itertuples():
        out.setdefault(row.dimension, {})[str(row.value)] = {
            "precision": round(float(row.precision), digits), "recall": round(float(row.recall), digits),
            "f1": round(float(row.f1), digits), "records": int(row.records)}
    return out
