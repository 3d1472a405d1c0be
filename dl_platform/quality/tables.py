"""Small read helpers over a warehouse connection: does a table exist, which columns has it.

Raw payload keeps delivery column names exactly (HES upper case), so lookups here are
case-insensitive. Those names come from supplier headers, so every name reaching SQL here is
quoted by `quote_identifier`. Every result is fully fetched before the next statement (DuckDB 2).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dl_platform.resources.sql import quote_identifier, quote_relation, single_statement


def table_exists(conn: Any, table: str) -> bool:
    """Whether `schema.table` exists."""
    schema, name = table.split(".")
    rows = conn.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    return bool(rows)


def table_columns(conn: Any, table: str) -> list[str]:
    """Column names of `schema.table`, in table order."""
    return [r[0] for r in conn.execute(single_statement(f"describe {quote_relation(table)}")).fetchall()]


def pick_column(columns: list[str], wanted: tuple[str, ...] | str) -> str | None:
    """The first of `wanted` present in `columns` (case-insensitive), as spelled in the table."""
    lower = {c.lower(): c for c in columns}
    for name in (wanted,) if isinstance(wanted, str) else wanted:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def select_columns(conn: Any, table: str, columns: list[str]) -> pd.DataFrame:
    """Only the named columns of a table, as a DataFrame."""
    quoted = ", ".join(quote_identifier(c) for c in columns)
    return conn.execute(single_statement(f"select {quoted} from {quote_relation(table)}")).df()
