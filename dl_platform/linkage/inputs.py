"""The linkage input: `intermediate.int_identifiers_standardised` shaped for Splink.

Why a separate step: the standardised model is generic over the registry, so a field no
source carries is a NULL column (or, for an older model, absent). Here every field the
comparisons use is guaranteed to exist, invalid NHS numbers are blanked (an invalid
number is not evidence), and each record is marked linkable or not (MPS gives records
with too little to trace a one-time ID).
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.config import LinkageConfig

INPUT_TABLE = "intermediate.int_identifiers_standardised"
LINK_INPUT = "__dl_link_input"
TF_TABLE_PREFIX = "__dl_tf_"
# Columns whose agreement is weighted by how common the value is.
TF_COLUMNS = ("given_name", "family_name", "postcode")
NAME_COLUMNS = ("given_name", "family_name")
# Standardised columns the linkage reads, with their SQL type when absent.
FIELD_TYPES: dict[str, str] = {
    "nhs_number": "varchar",
    "nhs_number_valid": "boolean",
    "given_name": "varchar",
    "given_name_formal": "varchar",
    "given_name_phonetic": "varchar",
    "family_name": "varchar",
    "family_name_phonetic": "varchar",
    "date_of_birth": "date",
    "date_of_birth_year_month": "integer",
    "sex": "varchar",
    "postcode": "varchar",
    "postcode_sector": "varchar",
    "postcode_outward": "varchar",
    "address": "varchar",
    "loaded_at": "timestamp",
}
# Fields that may carry evidence; a field with no values anywhere gets no comparison.
EVIDENCE_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode", "address")


def table_columns(conn: Any, qualified: str) -> list[str]:
    """Column names of `schema.table` (empty when the table does not exist)."""
    schema, table = qualified.split(".", 1)
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _column(present: list[str], name: str) -> str:
    if name in present:
        return f"cast({name} as {FIELD_TYPES[name]})" if name in ("date_of_birth", "loaded_at") else name
    return f"cast(null as {FIELD_TYPES[name]})"


def linkable_sql(cfg: LinkageConfig) -> str:
    """SQL predicate: the record carries enough to link (else it gets a one-time ID)."""
    n = cfg.min_fields_without_nhs_number
    # A date of birth that is not a real date still gives its year and month.
    count = (
        "(case when coalesce(date_of_birth::varchar, date_of_birth_year_month::varchar) is not null then 1 else 0 end"
        " + case when given_name is not null then 1 else 0 end"
        " + case when family_name is not null then 1 else 0 end"
        " + case when postcode is not null then 1 else 0 end)"
    )
    needs_anchor = (
        "(date_of_birth is not null or date_of_birth_year_month is not null"
        " or (given_name is not null and family_name is not null))"
    )
    return f"(nhs_number is not null or ({count} >= {n} and {needs_anchor}))"


def _frequency_sql(col: str) -> str:
    return (f"select {col} as value, count(*) / sum(count(*)) over () as tf "
            f"from {LINK_INPUT} where {col} is not null group by {col}")


def tf_table_sql(col: str) -> str:
    """SQL creating `__dl_tf_<col>`: term frequency of `col` over all linked records.

    Computed here, once, so scoring a small delivery against the index uses the
    frequencies of the whole population rather than of the delivery. A name is as common
    as it is in either name field: with given and family names swapped, "COOPER DAVID" would
    otherwise make two common names look like two rare ones, and two different people whose
    names were both swapped would agree on "rare" names.
    """
    if col not in NAME_COLUMNS:
        return (f"create or replace temp table {TF_TABLE_PREFIX}{col} as "
                f"select value as {col}, tf as tf_{col} from ({_frequency_sql(col)})")
    other = next(c for c in NAME_COLUMNS if c != col)
    return (
        f"create or replace temp table {TF_TABLE_PREFIX}{col} as "
        f"select own.value as {col}, greatest(own.tf, coalesce(other.tf, 0)) as tf_{col} "
        f"from ({_frequency_sql(col)}) own left join ({_frequency_sql(other)}) other using (value)"
    )


def is_table(conn: Any, name: str) -> bool:
    """`name` (temp, or `schema.table`) is a table, not a view: it has a cheap `rowid`."""
    schema, _, table = name.rpartition(".")
    where = "schema_name = ?" if schema else "temporary"
    params = [table, schema] if schema else [table]
    return bool(conn.execute(f"select count(*) from duckdb_tables() where table_name = ? and {where}", params)
                .fetchall()[0][0])


def create_temp(conn: Any, name: str, select_sql: str, view: bool = False) -> None:
    """(Re)create temp relation `name` as a table or a view, whichever it was before.

    DuckDB will not replace a table with a view of the same name, and one connection may
    build `LINK_INPUT` as a table (full run) and then as a view (incremental run).
    """
    if is_table(conn, name):
        conn.execute(f"drop table {name}")
    if conn.execute("select count(*) from duckdb_views() where temporary and view_name = ?", [name]).fetchall()[0][0]:
        conn.execute(f"drop view {name}")
    conn.execute(f"create temp {'view' if view else 'table'} {name} as {select_sql}")


def shaped_sql(conn: Any, cfg: LinkageConfig, source_table: str = INPUT_TABLE, where: str = "true") -> str:
    """SELECT of the Splink-ready rows of `source_table` (linked sources only) matching `where`.

    `loaded_at` (when the record's delivery was loaded) is kept so that an incremental run
    can find what arrived since the last one.
    """
    present = table_columns(conn, source_table)
    if not present:
        raise RuntimeError(f"{source_table} does not exist: materialise the standardise stage first")
    cols = {name: _column(present, name) for name in FIELD_TYPES}
    valid = cols["nhs_number_valid"]
    given = cols["given_name"]
    return f"""
        with base as (
            select
                source || '|' || record_id as unique_id,
                source, record_id,
                coalesce(is_master, false) as is_master,
                coalesce(source_primacy, 999) as source_primacy,
                case when coalesce({valid}, false) then {cols['nhs_number']} end as nhs_number,
                {given} as given_name,
                coalesce({cols['given_name_formal']}, {given}) as given_name_formal,
                {cols['given_name_phonetic']} as given_name_phonetic,
                {cols['family_name']} as family_name,
                {cols['family_name_phonetic']} as family_name_phonetic,
                {cols['date_of_birth']} as date_of_birth,
                {cols['date_of_birth_year_month']} as date_of_birth_year_month,
                {cols['sex']} as sex,
                {cols['postcode']} as postcode,
                coalesce({cols['postcode_sector']}, left({cols['postcode']}, length({cols['postcode']}) - 2))
                    as postcode_sector,
                coalesce({cols['postcode_outward']}, split_part({cols['postcode']}, ' ', 1))
                    as postcode_outward,
                {cols['address']} as address,
                {cols['loaded_at']} as loaded_at
            from {source_table}
            where coalesce(link_enabled, true) and ({where})
        )
        select *, {linkable_sql(cfg)} as linkable from base
        """


def build_link_input(
    conn: Any, cfg: LinkageConfig, source_table: str = INPUT_TABLE, materialize: bool = True
) -> dict[str, int]:
    """Create `LINK_INPUT` from the standardised table: one row per linked record, Splink-ready.

    Args:
        conn: An open warehouse connection.
        cfg: Linkage configuration (for the linkable rule).
        source_table: The standardised identifiers table.
        materialize: a temp table (training, full runs: every row is read many times) or
            a view (read once, e.g. to rebuild the record index).

    Returns:
        Non-null counts per evidence field (which fields the model can use).
    """
    create_temp(conn, LINK_INPUT, shaped_sql(conn, cfg, source_table), view=not materialize)
    return describe_link_input(conn)


def describe_link_input(conn: Any) -> dict[str, int]:
    """Term-frequency tables and non-null counts per evidence field of `LINK_INPUT`.

    The frequencies are those of the whole population, so scoring a small delivery against
    the index weighs a common name as common.
    """
    for col in TF_COLUMNS:
        conn.execute(tf_table_sql(col))
    selects = ", ".join(f"count({f}) as {f}" for f in EVIDENCE_FIELDS)
    row = conn.execute(f"select count(*) as n, {selects} from {LINK_INPUT}").fetchall()[0]
    counts = dict(zip(("records",) + EVIDENCE_FIELDS, row, strict=True))
    return {k: int(v) for k, v in counts.items()}


def available_fields(counts: dict[str, int]) -> tuple[str, ...]:
    """Evidence fields with at least one value: the model compares only these."""
    return tuple(f for f in EVIDENCE_FIELDS if counts.get(f, 0) > 0)
