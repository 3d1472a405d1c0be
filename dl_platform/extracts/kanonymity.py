"""k-anonymity on a record-level file's declared quasi-identifiers: generalise, then suppress.

Every combination of quasi-identifier values (age band, sex, region, ethnic group...) must be
shared by at least k records (DOMAIN.md; default k = 10). Full-domain generalisation first
(one step at a time, for every record alike, so the file stays consistent), while more than
`max_generalisation_share` of records sit in small classes; then local suppression (the
quasi-identifiers of the remaining small-class records are blanked) and, if the blanked
records themselves are fewer than k, they are withheld. Every step is counted for the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from dl_platform.extracts.coarsen import widen_band

MISSING = "(missing)"


def _decade(v: object) -> object:
    return None if v is None or pd.isna(v) else f"{int(v) // 10 * 10}s"


def _quintile(v: object) -> object:
    return None if v is None or pd.isna(v) else int((int(v) + 1) // 2)


ALL = "(all)"
# Generalisation ladders: each step replaces the column's values wholesale. Every ladder ends
# with the column generalised to one value (ALL): the quasi-identifier is then withheld.
LADDERS: dict[str, list[tuple[str, Callable[[object], object]]]] = {
    "age_band": [
        ("10-year bands", lambda v: widen_band(v, 10)),
        ("20-year bands", lambda v: widen_band(v, 20)),
    ],
    "year_of_birth": [("decade of birth", _decade)],
    "imd_decile": [("IMD quintile", _quintile)],
}


def _ladder(column: str) -> list[tuple[str, Callable[[object], object]]]:
    return [*LADDERS.get(column, []), ("withheld", lambda v: ALL)]


def _small_share(frame: pd.DataFrame, qis: tuple[str, ...], k: int) -> float:
    return float((class_sizes(frame, qis) < k).mean()) if len(frame) else 0.0


def class_sizes(frame: pd.DataFrame, qis: tuple[str, ...]) -> pd.Series:
    """For each record, how many records share its quasi-identifier combination (nulls count as a value)."""
    if not qis or frame.empty:
        return pd.Series(len(frame), index=frame.index, dtype="int64")
    keys = frame[list(qis)].astype("object").where(frame[list(qis)].notna(), MISSING).astype(str)
    return keys.groupby(list(qis), dropna=False)[qis[0]].transform("size")


def min_class_size(frame: pd.DataFrame, qis: tuple[str, ...]) -> int:
    """The smallest equivalence class (0 for an empty file)."""
    return int(class_sizes(frame, qis).min()) if len(frame) else 0


def anonymise(
    frame: pd.DataFrame, qis: tuple[str, ...], k: int, max_generalisation_share: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Make `frame` k-anonymous on `qis`.

    Args:
        frame: One row per person (study_id + variables).
        qis: Quasi-identifier columns.
        k: Minimum class size.
        max_generalisation_share: Generalise while more than this share of records is in small classes.

    Returns:
        The protected frame and a report of counts (no values).
    """
    out = frame.copy()
    before = int((class_sizes(out, qis) < k).sum())
    steps: list[str] = []
    ladders = {q: _ladder(q) for q in qis}
    # Greedy: take the next step on whichever quasi-identifier leaves fewest records in small
    # classes; a column is withheld entirely only when that is the best remaining step.
    while _small_share(out, qis, k) > max_generalisation_share and any(ladders.values()):
        trials = {}
        for column in (q for q in qis if ladders[q]):
            trial = out.copy()
            trial[column] = trial[column].map(ladders[column][0][1]).astype("object")
            withheld = ladders[column][0][0] == "withheld"
            trials[column] = (_small_share(trial, qis, k), withheld, trial)
        column = min(trials, key=lambda c: trials[c][:2])
        label = ladders[column].pop(0)[0]
        out = trials[column][2]
        steps.append(f"{column}: {label}")
    small = class_sizes(out, qis) < k
    suppressed = int(small.sum())
    if suppressed:
        out[list(qis)] = out[list(qis)].astype("object")
        out.loc[small, list(qis)] = None
    blanked = out[list(qis)].isna().all(axis=1) if qis else pd.Series(False, index=out.index)
    dropped = int(blanked.sum()) if 0 < blanked.sum() < k else 0
    if dropped:
        out = out.loc[~blanked]
    report = {
        "k": k,
        "quasi_identifiers": list(qis),
        "records_in": len(frame),
        "records_in_small_classes_before": before,
        "generalisations": steps,
        "records_suppressed": suppressed,
        "records_withheld": dropped,
        "records_out": len(out),
        "min_class_size_after": min_class_size(out, qis),
    }
    return out.reset_index(drop=True), report
