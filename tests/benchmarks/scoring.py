"""Score a linkage (one person_id per record) against the synthetic truth, overall and per
error kind: for each kind in truth's `errors`, the pairs involving a record that carries it —
their recall says what a kind of error costs, which overall F1 hides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dl_platform.linkage.accuracy import pairwise_scores


def read_truth(data_dir: Path) -> pd.DataFrame:
    """`truth.parquet` (source, record_id, person_key, errors) written by `dl-platform synth`."""
    return pd.read_parquet(data_dir / "truth.parquet")


def with_truth(linked: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Linked records (source, record_id, person_id) joined to their true person and errors."""
    frame = linked[["source", "record_id", "person_id"]].merge(
        truth, on=["source", "record_id"], how="inner", validate="one_to_one")
    if len(frame) != len(linked):
        raise ValueError(f"{len(linked) - len(frame)} linked records are missing from truth")
    return frame.reset_index(drop=True)


def error_kinds(frame: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per error kind present in `errors` (a record may carry several)."""
    lists = frame["errors"].fillna("").str.split(";")
    kinds = sorted({k for ks in lists for k in ks if k})
    return pd.DataFrame({k: lists.map(lambda ks, k=k: k in ks) for k in kinds}, index=frame.index)


def score(linked: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise precision/recall/F1 overall and per error kind.

    Args:
        linked: one row per record with source, record_id, person_id.
        truth: `read_truth` output.

    Returns:
        {precision, recall, f1, records, true_pairs, predicted_pairs, by_error_kind:
        {kind: {records, precision, recall, true_pairs}}}.
    """
    frame = with_truth(linked, truth)
    overall = pairwise_scores(frame)
    by_kind = {}
    for kind, mask in error_kinds(frame).items():
        s = pairwise_scores(frame, mask)
        by_kind[kind] = {"records": s["records"], "precision": s["precision"], "recall": s["recall"],
                         "true_pairs": s["true_pairs"]}
    return {**overall, "by_error_kind": by_kind}
