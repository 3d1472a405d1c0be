"""The golden record: one row per person, each field's best value with its provenance.

Best = from the most trusted source (registry primacy, 1 = most trusted), then the most
recently loaded record (`_loaded_at` of the raw identifiers, when the raw table exists).
A field counts as a conflict when the person's records carry more than one distinct
value for it: a number for data-quality review, never the values themselves.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.inputs import INPUT_TABLE, table_columns

GOLDEN_RECORD = "mpi.golden_record"
GOLDEN_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode", "address")


def _loaded_at_sql(conn: Any, sources: list[str]) -> str:
    parts = [
        f"select '{s}' as source, record_id, max(_loaded_at) as loaded_at from raw.{s}__identifiers group by record_id"
        for s in sources
        if "_loaded_at" in table_columns(conn, f"raw.{s}__identifiers")
    ]
    return " union all ".join(parts) or (
        "select null::varchar as source, null::varchar as record_id, null::timestamp as loaded_at where false"
    )


def build_golden_record(conn: Any, sources: list[str], input_table: str = INPUT_TABLE) -> int:
    """Create `mpi.golden_record` from `mpi.record_person` and the standardised identifiers.

    Args:
        conn: Writer connection to the warehouse.
        sources: Linked source names (to find their raw `_loaded_at`).
        input_table: The standardised identifiers table.

    Returns:
        Number of persons written.
    """
    present = set(table_columns(conn, input_table))
    value = {f: (f"cast(s.{f} as varchar)" if f in present else "null::varchar") for f in GOLDEN_FIELDS}
    if "nhs_number" in present and "nhs_number_valid" in present:
        value["nhs_number"] = "case when s.nhs_number_valid then s.nhs_number end"
    if "date_of_birth" in present:
        value["date_of_birth"] = "cast(s.date_of_birth as date)"
    rank = "struct_pack(p := s.source_primacy, r := -coalesce(epoch(l.loaded_at), 0), id := s.record_id)"
    picks = ",\n".join(
        f"arg_min({value[f]}, {rank}) filter (where {value[f]} is not null) as {f},\n"
        f"arg_min(s.source, {rank}) filter (where {value[f]} is not null) as {f}_source,\n"
        f"count(distinct {value[f]}) as _n_{f}"
        for f in GOLDEN_FIELDS
    )
    conflicts = " + ".join(f"case when _n_{f} > 1 then 1 else 0 end" for f in GOLDEN_FIELDS)
    keep = ", ".join(f"{f}, {f}_source" for f in GOLDEN_FIELDS)
    conn.execute("create schema if not exists mpi")
    conn.execute(
        f"""
        create or replace table {GOLDEN_RECORD} as
        with picked as (
            select rp.person_id, count(*) as n_records, {picks}
            from mpi.record_person rp
            join {input_table} s on s.source = rp.source and s.record_id = rp.record_id
            left join ({_loaded_at_sql(conn, sources)}) l on l.source = s.source and l.record_id = s.record_id
            group by rp.person_id
        )
        select person_id, {keep}, {conflicts} as n_conflicts, n_records from picked order by person_id
        """
    )
    return int(conn.execute(f"select count(*) from {GOLDEN_RECORD}").fetchall()[0][0])
