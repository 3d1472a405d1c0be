"""Delivered dates: what makes one unusable, named once for raw metadata and the checks.

The rule itself is the dbt macro pair `parse_date` / `describe_date_issue` (ISO, DD/MM/YYYY
or YYYYMMDD, the shape deciding the format, so `01/02/2020` is always 1 February; an
impossible calendar date such as 31/02/1980 is unusable). Raw loading and the source checks
render those macros in SQL; the two helpers below apply the same SQL to a pandas Series for
callers that hold one (the generator's tests), so there is no second definition.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dl_platform.resources.dbt_macros import render

EARLIEST_PLAUSIBLE = pd.Timestamp("1880-01-01")

UNRECOGNISED_FORMAT = "unrecognised_format"
IMPOSSIBLE_DATE = "impossible_date"
BEFORE_EARLIEST = f"before_{EARLIEST_PLAUSIBLE.year}"
IN_THE_FUTURE = "in_the_future"
# Plain-language meaning of each kind of date issue (shown in asset metadata).
DATE_ISSUES = {
    UNRECOGNISED_FORMAT: "not in ISO, DD/MM/YYYY or YYYYMMDD form",
    IMPOSSIBLE_DATE: "in a recognised form but not a calendar date (e.g. 31/02/1980)",
    BEFORE_EARLIEST: f"before {EARLIEST_PLAUSIBLE.date().isoformat()}",
    IN_THE_FUTURE: "after the day of loading",
}
# describe_date_issue's kinds under the names above (it says 'missing' for an empty value).
MACRO_KINDS = {"before_minimum": BEFORE_EARLIEST, "after_maximum": IN_THE_FUTURE}


def _over(values: pd.Series, expression: str) -> pd.Series:
    """`expression` (SQL over column `v`) for each value, aligned with `values`."""
    conn = duckdb.connect()
    frame = pd.DataFrame({"v": values.astype("string").astype(object).where(values.notna(), None),
                          "i": range(len(values))})
    conn.register("vals", frame)
    out = conn.execute(f"select {expression} as x from vals order by i").df()["x"]
    out.index = values.index
    return out


def parse_delivery_dates(values: pd.Series) -> pd.Series:
    """Parse delivered strings to dates with the dbt macro `parse_date` (NaT where unusable)."""
    return pd.to_datetime(_over(values, render("parse_date", "v")))


def date_issues(values: pd.Series, today: pd.Timestamp | None = None) -> pd.Series:
    """What is wrong with each delivered date: one of DATE_ISSUES, or NA when it is usable or
    empty (the dbt macro `describe_date_issue`, bounded by 1880 and `today`)."""
    today = (pd.Timestamp.today() if today is None else today).normalize()
    bounds = (f"date '{EARLIEST_PLAUSIBLE.date().isoformat()}'", f"date '{today.date().isoformat()}'")
    kinds = _over(values, render("describe_date_issue", "v", *bounds)).astype("string")
    return kinds.replace(MACRO_KINDS).mask(kinds == "missing")
