"""Aggregate disclosure control: thresholds, dominance, p-ratio, secondary suppression, rounding."""

import numpy as np
import pandas as pd
import pytest

from dl_platform.extracts.disclosure import (
    PRIMARY,
    SECONDARY,
    TOTAL,
    protect_table,
    secondary_suppress,
)
from dl_platform.extracts.spec import DISCLOSURE_DEFAULTS, Aggregate

RULES = dict(DISCLOSURE_DEFAULTS)


def population(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age_band": rng.choice(
                ["20-29", "30-39", "40-49", "90+"], n, p=[0.45, 0.35, 0.17, 0.03]
            ),
            "sex": rng.choice(["F", "M"], n),
            "region": rng.choice(["N", "S", "E"], n, p=[0.6, 0.37, 0.03]),
            "cost": rng.gamma(2, 100, n),
        }
    )


def lines_with_one_hidden(table: pd.DataFrame) -> list:
    """Rows or columns (with their margin) where exactly one value is hidden: recoverable by subtraction."""
    grid = table.pivot(index="row_value", columns="col_value", values="value")
    bad = [("row", r) for r, row in grid.iterrows() if row.isna().sum() == 1]
    if TOTAL in grid.columns and len(grid.columns) > 1:
        bad += [("col", c) for c in grid.columns if grid[c].isna().sum() == 1]
    return bad


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("columns", ["sex", "region", None])
def test_no_cell_below_threshold_and_no_recovery_via_totals(seed, columns):
    table = protect_table(population(seed), Aggregate("t", rows="age_band", columns=columns), RULES)
    released = table.dropna(subset=["value"])
    assert (released["n"] >= RULES["threshold"]).all()
    assert (released["value"] % RULES["rounding"] == 0).all()
    assert (table.loc[table["n"] < RULES["threshold"], "value"].isna()).all()
    if columns is None:
        assert table["value"].isna().sum() != 1
    else:
        assert lines_with_one_hidden(table) == []


def test_secondary_suppression_hides_a_second_cell_in_each_line():
    counts = np.array([[3, 20, 23], [30, 40, 70], [33, 60, 93]], dtype=float)
    primary = np.zeros(counts.shape, dtype=bool)
    primary[0, 0] = True
    mask = secondary_suppress(primary, counts, two_way=True)
    assert mask[0].sum() >= 2 and mask[:, 0].sum() >= 2
    for line in [*mask, *mask.T]:
        assert line.sum() != 1


def test_zero_cells_are_disclosive_unless_configured():
    frame = pd.DataFrame({"a": ["x"] * 20 + ["y"] * 20, "b": ["p"] * 20 + ["q"] * 20})
    agg = Aggregate("t", rows="a", columns="b")
    assert (protect_table(frame, agg, RULES)["status"] == PRIMARY).sum() == 2
    relaxed = protect_table(frame, agg, {**RULES, "zeros_disclosive": False})
    assert (relaxed["status"] == PRIMARY).sum() == 0


def test_dominance_and_p_ratio_suppress_a_sum():
    values = [1000.0, 900.0] + [1.0] * 18
    frame = pd.DataFrame({"g": ["a"] * 20 + ["b"] * 20, "v": values + [50.0] * 20})
    table = protect_table(frame, Aggregate("s", rows="g", statistic="sum", value="v"), RULES)
    a = table[table["row_value"] == "a"].iloc[0]
    b = table[table["row_value"] == "b"].iloc[0]
    assert a["status"] == PRIMARY and "top 2" in a["reason"]
    # b passes every rule but would give a away as total - b: hidden too.
    assert b["status"] == SECONDARY and pd.isna(b["value"])


def test_p_ratio_when_dominance_is_relaxed():
    values = [100.0, 100.0] + [0.5] * 18
    frame = pd.DataFrame({"g": ["a"] * 20, "v": values})
    agg = Aggregate("s", rows="g", statistic="sum", value="v")
    table = protect_table(frame, agg, {**RULES, "dominance_k": 0.99})
    assert table.iloc[0]["status"] == PRIMARY and "p-ratio" in table.iloc[0]["reason"]
    relaxed = protect_table(frame, agg, {**RULES, "dominance_k": 0.99, "p_ratio": 0.01})
    assert relaxed.iloc[0]["status"] == "ok" and relaxed.iloc[0]["value"] == pytest.approx(209.0)


def test_primary_suppression_agrees_with_acro():
    acro = pytest.importorskip("acro")
    frame = population(3)
    session = acro.ACRO(suppress=True)
    theirs = session.crosstab(frame["age_band"], frame["sex"])
    ours = protect_table(frame, Aggregate("t", rows="age_band", columns="sex"), RULES)
    ours = ours[(ours["row_value"] != TOTAL) & (ours["col_value"] != TOTAL)]
    ours_primary = {(r.row_value, r.col_value) for r in ours.itertuples() if r.status == PRIMARY}
    acro_hidden = {
        (r, c) for r in theirs.index for c in theirs.columns if pd.isna(theirs.loc[r, c])
    }
    assert ours_primary == acro_hidden
