"""Publish the marts schema to `$DL_DATA_DIR/marts.duckdb`, the analysts' copy, atomically.

Analysts query marts while runs write the warehouse. DuckDB lets one process write a file and
blocks readers meanwhile, so analysts get their own file: written beside the old one under a
temporary name, closed, then renamed over it. A reader holding the old file keeps reading it;
the next connection sees the new one; neither ever waits for the other.

Before anything is written, a guard refuses marts that look identifying (the analyst zone holds
pseudonymous data only): a column named like an identifier, or text values shaped like an NHS
number or a postcode. Errors name the table and column, never a value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARTS_SCHEMA = "marts"
# Column-name parts that mean a direct identifier.
IDENTIFYING_NAME_PARTS = {"name", "forename", "surname", "postcode", "address", "dob", "nhs", "nhsno"}
IDENTIFYING_NAME_PHRASES = ("nhs_number", "date_of_birth", "birth_date", "given_name", "family_name")
NHS_NUMBER_PATTERN = r"[0-9]{3} ?[0-9]{3} ?[0-9]{4}"
POSTCODE_PATTERN = r"[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}"
TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR")


class IdentifyingDataError(ValueError):
    """Marts hold something that looks identifying; nothing was published."""


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]  # table -> row count


def looks_identifying(column: str) -> bool:
    """Does a column name say it holds a direct identifier?"""
    lowered = column.lower()
    return any(p in lowered for p in IDENTIFYING_NAME_PHRASES) or bool(
        IDENTIFYING_NAME_PARTS & set(re.split(r"[^a-z0-9]+", lowered))
    )


def _columns(conn: Any, schema: str) -> list[tuple[str, str, str]]:
    return conn.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_catalog = current_database() order by table_name, ordinal_position",
        [schema],
    ).fetchall()


def check_not_identifying(conn: Any, schema: str = MARTS_SCHEMA) -> None:
    """Raise if any column of `schema` is named or valued like a direct identifier.

    Args:
        conn: a warehouse connection.
        schema: the schema to inspect.

    Raises:
        IdentifyingDataError: naming the first offending table and column (never a value).
    """
    for table, column, data_type in _columns(conn, schema):
        if looks_identifying(column):
            raise IdentifyingDataError(f"{schema}.{table}.{column}: column name looks identifying; not published")
        if data_type.upper().split("(")[0] not in TEXT_TYPES:
            continue
        hits = conn.execute(
            f'select count(*) from {schema}."{table}" where regexp_full_match("{column}", ?) '
            f'or regexp_full_match(upper("{column}"), ?)',
            [NHS_NUMBER_PATTERN, POSTCODE_PATTERN],
        ).fetchall()[0][0]
        if hits:
            raise IdentifyingDataError(
                f"{schema}.{table}.{column}: {hits} value(s) shaped like an NHS number or postcode; not published"
            )


def publish_marts(conn: Any, target: Path, schema: str = MARTS_SCHEMA) -> PublishResult:
    """Copy every table of `schema` into a fresh DuckDB file and rename it over `target`.

    Tables land in the published file's default schema, so analysts write `from dim_person`
    (or `marts.dim_person`, the file's catalog name).

    Args:
        conn: a writable warehouse connection (DuckDB ATTACH needs one).
        target: the published file, e.g. `$DL_DATA_DIR/marts.duckdb`.
        schema: the warehouse schema to publish.

    Returns:
        The published path and each table's row count.

    Raises:
        IdentifyingDataError: the guard refused; the previous published file is untouched.
    """
    check_not_identifying(conn, schema)
    tables = sorted({t for t, _, _ in _columns(conn, schema)})
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    # A run killed while publishing leaves its half-written copy: never renamed, safe to delete
    # (the caller holds the warehouse writer lock, so no other publish is under way).
    for leftover in target.parent.glob(f"{target.name}.tmp-*"):
        leftover.unlink(missing_ok=True)
    alias = "dl_publish"
    counts: dict[str, int] = {}
    conn.execute(f"attach '{staging}' as {alias}")
    try:
        for table in tables:
            conn.execute(f'create table {alias}.main."{table}" as select * from {schema}."{table}"')
            counts[table] = conn.execute(f'select count(*) from {alias}.main."{table}"').fetchall()[0][0]
        conn.execute(f"checkpoint {alias}")
    except Exception:
        conn.execute(f"detach {alias}")
        staging.unlink(missing_ok=True)
        raise
    conn.execute(f"detach {alias}")
    os.replace(staging, target)
    return PublishResult(path=target, tables=counts)
