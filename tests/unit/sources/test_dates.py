"""Each kind of unusable delivered date is named; usable and empty values are not (through the
dbt macros, the one definition)."""

from __future__ import annotations

import pandas as pd

from dl_platform.sources.dates import DATE_ISSUES, EARLIEST_PLAUSIBLE, date_issues

TODAY = pd.Timestamp("2025-06-30")


def test_date_issues_name_each_kind():
    values = pd.Series([
        "1980-02-01", "01/02/1980", "19800201", "2020-01-01 10:00",  # usable
        None, "", "  ",  # missing is not flagged here (completeness checks count it)
        "19450493", "29/02/1981", "31/02/1980",  # impossible
        "not-a-date", "1/2/80", "1980.02.01",  # unrecognised shape (1/2/1980 is a date: D/M accepted)
        "1875-01-01", "0001-01-01",  # before 1880
        "2025-07-01", "2999-01-01",  # future, including beyond pandas' timestamp range
        "2025-06-30", "1880-01-01",  # boundaries are plausible
    ], dtype="string")
    expected = [None] * 7 + ["impossible_date"] * 3 + ["unrecognised_format"] * 3 + [
        "before_1880"] * 2 + ["in_the_future"] * 2 + [None] * 2
    got = [None if pd.isna(v) else v for v in date_issues(values, TODAY)]
    assert got == expected


def test_every_kind_is_described_and_the_lower_bound_is_1880():
    assert EARLIEST_PLAUSIBLE == pd.Timestamp("1880-01-01")
    assert set(DATE_ISSUES) == {"impossible_date", "unrecognised_format", "before_1880", "in_the_future"}


def test_date_issues_keep_the_index():
    values = pd.Series(["19450493", "1980-01-01"], index=[10, 20], dtype="string")
    assert date_issues(values, TODAY).index.tolist() == [10, 20]
