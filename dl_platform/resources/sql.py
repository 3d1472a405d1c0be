"""SQL text built from names the platform did not choose: quoted once, one statement at a time.

Column names arrive from delivery headers and the registry. Spliced into SQL unquoted, or
quoted by hand as `"{name}"`, a header such as `x" varchar; copy (...) to '...'; --` closes the
quote and runs a second statement — DuckDB runs every statement of one `execute`, and a COPY
is not undone by rollback. Every such name therefore goes through `quote_identifier`, and
every SQL text holding one through `single_statement`, which refuses a text that parses to
more than one statement (defence in depth should a name ever slip past quoting).
"""

from __future__ import annotations

import duckdb


def quote_identifier(name: str) -> str:
    """The name as a DuckDB quoted identifier, embedded double quotes doubled.

    Args:
        name: a column, table or schema name exactly as it should be spelled in the warehouse.

    Returns:
        `"name"`, safe to splice into SQL text whatever characters `name` holds.

    Raises:
        ValueError: `name` is empty or holds a NUL, which no quoting can carry.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError("an identifier cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal, embedded single quotes doubled (NUL refused, as above)."""
    if "\x00" in value:
        raise ValueError("a string literal cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


def quote_relation(qualified: str) -> str:
    """`schema.table` (or `table`) with each part quoted; parts are split on the dot."""
    return ".".join(quote_identifier(part) for part in qualified.split("."))


def single_statement(sql: str) -> str:
    """Return `sql` unchanged if it is exactly one statement.

    Args:
        sql: SQL text about to be executed.

    Returns:
        `sql`.

    Raises:
        ValueError: the text holds no statement or several; the text itself is not repeated
            in the message because it may carry delivery-supplied names.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ValueError(f"SQL text does not parse ({type(exc).__name__})") from None
    if len(statements) != 1:
        raise ValueError(f"SQL text holds {len(statements)} statements where exactly one is allowed")
    return sql
