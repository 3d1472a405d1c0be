"""Aggregate statistical disclosure control: the SACRO/ACRO rules plus secondary suppression.

Primary rules (same parameters and meaning as `acro`'s default.yaml, DOMAIN.md):
- threshold: a cell built from fewer than `threshold` persons is suppressed (zeros too when
  `zeros_disclosive`);
- dominance (n, k): for sums/means, the top `dominance_n` contributors must make < k of the total;
- p-ratio: the contributions other than the top two must be at least p of the largest.
Then secondary suppression: every row and column of the table with its margin is a sum, so no
line may hold exactly one suppressed element (it could be recovered by subtraction). Released
counts are rounded to `rounding`. Our own implementation rather than `acro` itself because acro
keeps session state, logs to the root logger and writes output folders; a unit test checks
that both agree on primary suppression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dl_platform.extracts.spec import Aggregate

TOTAL = "All"
PRIMARY, SECONDARY, ROUNDED, OK = "suppressed_primary", "suppressed_secondary", "rounded", "ok"


def _cells(frame: pd.DataFrame, agg: Aggregate) -> tuple[pd.DataFrame, list, list]:
    """Per-cell contributions: the full grid of observed row x column values (zeros included)."""
    data = frame.copy()
    data["_row"] = (
        data[agg.rows].astype("object").where(data[agg.rows].notna(), "(missing)").astype(str)
    )
    data["_col"] = (
        data[agg.columns].astype("object").where(data[agg.columns].notna(), "(missing)").astype(str)
        if agg.columns
        else TOTAL
    )
    rows, cols = sorted(data["_row"].unique()), sorted(data["_col"].unique())
    return data, rows, cols


def _primary(values: np.ndarray, rules: dict[str, Any], statistic: str) -> str | None:
    """Why a cell fails a primary rule (None if it passes). `values` are its contributions."""
    n = len(values)
    if n == 0:
        return "zero cell" if rules["zeros_disclosive"] else None
    if n < rules["threshold"]:
        return f"fewer than {rules['threshold']} persons"
    if statistic == "count":
        return None
    contrib = np.sort(np.abs(values.astype(float)))[::-1]
    total = contrib.sum()
    if total > 0 and contrib[: rules["dominance_n"]].sum() >= rules["dominance_k"] * total:
        return f"top {rules['dominance_n']} contributors >= {rules['dominance_k']:.0%} of total"
    if contrib[0] > 0 and (total - contrib[:2].sum()) < rules["p_ratio"] * contrib[0]:
        return f"p-ratio below {rules['p_ratio']:.0%}"
    return None


def _statistic(values: np.ndarray, statistic: str) -> float:
    if statistic == "count":
        return float(len(values))
    if len(values) == 0:
        return float("nan")
    return float(values.sum() if statistic == "sum" else values.mean())


def secondary_suppress(suppressed: np.ndarray, counts: np.ndarray, two_way: bool) -> np.ndarray:
    """Suppress more elements until no line (row or column with its margin) has exactly one.

    Args:
        suppressed: (R+1) x (C+1) booleans, last row/column the margins.
        counts: Same shape, the raw counts (smallest is sacrificed first: least information lost).
        two_way: False for a one-way table (only the column of cells + total is a line).

    Returns:
        The new mask (primary and secondary).
    """
    mask = suppressed.copy()
    n_rows, n_cols = mask.shape
    lines = [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    if two_way:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [c for c in line if mask[c]]
            if len(hidden) != 1:
                continue
            interior = [
                c
                for c in line
                if not mask[c] and c[0] < n_rows - 1 and (c[1] < n_cols - 1 or not two_way)
            ]
            pool = interior or [c for c in line if not mask[c]]
            if not pool:
                continue
            victim = min(pool, key=lambda c: (counts[c], c))
            mask[victim] = True
            changed = True
    return mask


def protect_table(frame: pd.DataFrame, agg: Aggregate, rules: dict[str, Any]) -> pd.DataFrame:
    """One aggregate, checked and protected.

    Args:
        frame: One row per person, with the aggregate's variables.
        agg: The aggregate to produce.
        rules: The project's disclosure rules.

    Returns:
        Long table, one row per cell incl. margins: aggregate, row_value, col_value, n (raw
        count; internal, never released), raw_value, value (released; null if suppressed),
        status (ok|rounded|suppressed_primary|suppressed_secondary) and reason.
    """
    data, rows, cols = _cells(frame, agg)
    two_way = agg.columns is not None
    row_labels, col_labels = rows + [TOTAL], cols + ([TOTAL] if two_way else [])
    shape = (len(row_labels), len(col_labels))
    counts, raw, primary = np.zeros(shape), np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    reasons: dict[tuple[int, int], str] = {}
    value_col = agg.value or agg.rows
    groups = {k: g[value_col].to_numpy() for k, g in data.groupby(["_row", "_col"])}
    for i, r in enumerate(row_labels):
        for j, c in enumerate(col_labels):
            if r != TOTAL and c != TOTAL:
                values = groups.get((r, c), np.array([]))
            else:
                sel = (data["_row"].eq(r) | (r == TOTAL)) & (data["_col"].eq(c) | (c == TOTAL))
                values = data.loc[sel, value_col].to_numpy()
            if agg.statistic != "count":
                values = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy()
            counts[i, j], raw[i, j] = len(values), _statistic(values, agg.statistic)
            reason = _primary(values, rules, agg.statistic)
            if reason:
                primary[i, j], reasons[(i, j)] = True, reason
    mask = secondary_suppress(primary, counts, two_way)
    out = []
    for i, r in enumerate(row_labels):
        for j, c in enumerate(col_labels):
            if primary[i, j]:
                status, value = PRIMARY, None
            elif mask[i, j]:
                status, value, reasons[(i, j)] = (
                    SECONDARY,
                    None,
                    "protects a suppressed cell from subtraction",
                )
            elif agg.statistic == "count":
                value = float(rules["rounding"] * round(raw[i, j] / rules["rounding"]))
                status = ROUNDED if value != raw[i, j] else OK
            else:
                value, status = round(raw[i, j], 2), OK
            out.append(
                {
                    "aggregate": agg.name,
                    "statistic": agg.statistic,
                    "row_variable": agg.rows,
                    "row_value": r,
                    "col_variable": agg.columns or "",
                    "col_value": c if two_way else TOTAL,
                    "n": int(counts[i, j]),
                    "raw_value": raw[i, j],
                    "value": value,
                    "status": status,
                    "reason": reasons.get((i, j), ""),
                }
            )
    return pd.DataFrame(out)


def released_view(table: pd.DataFrame) -> pd.DataFrame:
    """The columns that may leave: no raw counts or raw values."""
    return table.drop(columns=["n", "raw_value"])


def protect_all(
    frame: pd.DataFrame, aggregates: tuple[Aggregate, ...], rules: dict[str, Any]
) -> pd.DataFrame:
    """Every aggregate of a project, protected, stacked into one long table."""
    tables = [protect_table(frame, agg, rules) for agg in aggregates]
    if not tables:
        return pd.DataFrame(
            columns=[
                "aggregate",
                "statistic",
                "row_variable",
                "row_value",
                "col_variable",
                "col_value",
                "n",
                "raw_value",
                "value",
                "status",
                "reason",
            ]
        )
    return pd.concat(tables, ignore_index=True)
