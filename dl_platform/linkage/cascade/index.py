"""The record index `mpi.record_index`: every linked record's Splink-ready identifiers and its
placement (person, step, probability), kept from run to run inside the linkage zone.

Why it is persisted: an incremental run must cost what its delivery costs. With the index
on disk a run shapes only the records loaded since the last run (`loaded_at` after the
source's watermark) and finds master records, known bucket persons and candidates in the
index itself, instead of re-shaping millions of standardised rows every time.

The watermark is never trusted blindly: per source, indexed + new - withdrawn must equal
the input. When it does not (a record loaded earlier but never linked), the run compares
every record instead; when records have left the input they are found and withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dl_platform.linkage.cascade import EXISTING, NEW
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import (
    INPUT_TABLE,
    LINK_INPUT,
    create_temp,
    shaped_sql,
    table_columns,
)
from dl_platform.resources.sql import quote_literal

RECORD_PERSON = "mpi.record_person"
RECORD_INDEX = "mpi.record_index"
# Where an indexed record was placed: column -> type.
PLACEMENT = {"person_id": "varchar", "link_step": "varchar", "match_probability": "double"}
PLACEMENT_COLUMNS = ", ".join(PLACEMENT)
# Shaped rows loaded since the watermark (or every row when the watermark cannot be used).
CANDIDATES = "__dl_candidates"
# Candidates already in the index (re-delivered): fresh identifiers, placement kept.
REDELIVERED = "__dl_redelivered"
# Indexed records no longer in the input (withdrawn by their source or the registry).
WITHDRAWN = "__dl_withdrawn"
LINKED = "coalesce(link_enabled, true)"
# Bucket records are stored together: each run reads them all (`build_known_bucket`), and
# DuckDB then skips every row group of placed records (min/max) instead of scanning them.
CLUSTER = "order by link_step = 'bucket'"


@dataclass(frozen=True)
class Staged:
    """What an incremental run found: counts only, never identifier values."""

    new: int
    redelivered: int
    withdrawn: int
    compared_every_record: bool


def index_sql(shaped: str, placed: str) -> str:
    """SELECT of index rows: shaped records `shaped` (alias i) with their placement from
    `placed` (unique_id, person_id, link_step, match_probability; alias r)."""
    cols = ", ".join(f"r.{c}" for c in PLACEMENT)
    return f"select i.*, {cols} from {shaped} i join {placed} r using (unique_id)"


def sync_record_index(conn: Any, cfg: LinkageConfig) -> bool:
    """Rebuild `mpi.record_index` when it is missing, lacks a column, or does not hold one row
    per `mpi.record_person` row (an index from an older version, or tables edited by hand).

    A record in record_person but no longer in the input keeps a row (identifiers NULL), so
    the next stage finds it withdrawn instead of forgetting it.

    Returns:
        Whether the index was rebuilt.
    """
    shaped = shaped_sql(conn, cfg)
    wanted = {r[0] for r in conn.execute(f"describe {shaped}").fetchall()} | set(PLACEMENT)
    present = set(table_columns(conn, RECORD_INDEX))
    if wanted <= present:
        n_person, n_index = conn.execute(
            f"select (select count(*) from {RECORD_PERSON}), (select count(*) from {RECORD_INDEX})"
        ).fetchall()[0]
        if n_person == n_index:
            return False
    conn.execute(
        f"""create or replace table {RECORD_INDEX} as
        select p.source || '|' || p.record_id as unique_id, p.source, p.record_id,
               i.* exclude (unique_id, source, record_id), {", ".join(f"p.{c}" for c in PLACEMENT)}
        from {RECORD_PERSON} p left join ({shaped}) i on i.source = p.source and i.record_id = p.record_id
        {CLUSTER}"""
    )
    return True


def since_watermark_sql(marks: dict[str, Any], unmarked: list[str], null_loaded_at: bool) -> str:
    """Predicate over the standardised table: loaded after its source's watermark (`marks`), or
    from a source without one (`unmarked`: new to the registry or re-enabled), or of unknown
    load time. The lower bound on `loaded_at` comes first so DuckDB filters in the scan and
    reads the other columns only for rows loaded since the oldest watermark.
    """
    parts = []
    if marks:
        after = " or ".join(
            f"(source = {quote_literal(s)} and loaded_at > timestamp {quote_literal(t.isoformat(sep=' '))})"
            for s, t in marks.items()
        )
        parts.append(f"(loaded_at > timestamp {quote_literal(min(marks.values()).isoformat(sep=' '))} and ({after}))")
    if unmarked:
        parts.append(f"source in ({', '.join(map(quote_literal, unmarked))})")
    if null_loaded_at:
        parts.append("loaded_at is null")
    return " or ".join(parts) or "false"


def _stage(conn: Any, cfg: LinkageConfig, where: str) -> dict[str, int]:
    """Candidates, re-delivered and new records for `where`; indexed + new records per source."""
    create_temp(conn, CANDIDATES, shaped_sql(conn, cfg, where=where))
    # Index rows are found by a semi-join first (cheap even over millions), then joined.
    create_temp(
        conn, REDELIVERED,
        f"""select c.*, {", ".join(f"x.{c}" for c in PLACEMENT)} from {CANDIDATES} c
        join (select unique_id, {PLACEMENT_COLUMNS} from {RECORD_INDEX}
              semi join {CANDIDATES} using (unique_id)) x using (unique_id)""",
    )
    create_temp(conn, NEW, f"select c.* from {CANDIDATES} c anti join {REDELIVERED} r using (unique_id)")
    rows = conn.execute(
        f"""select source, sum(n) from (
            select source, count(*) as n from {RECORD_INDEX} group by source
            union all select source, count(*) from {NEW} group by source
        ) group by source"""
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


def stage_incremental(conn: Any, cfg: LinkageConfig) -> Staged:
    """Create `NEW` (records to link), `EXISTING` (the index as this run sees it), `LINK_INPUT`
    (both: the whole population) and the `REDELIVERED` / `WITHDRAWN` tables.

    Only rows loaded since each source's watermark are shaped. Per source, indexed + new must
    equal the input: fewer means the watermark missed records (then every record is compared),
    more means records were withdrawn (then they are found).
    """
    has_loaded_at = "loaded_at" in table_columns(conn, INPUT_TABLE)
    nulls = "count(*) filter (where loaded_at is null)" if has_loaded_at else "count(*)"
    inputs = {
        str(s): (int(n), int(n_null))
        for s, n, n_null in conn.execute(
            f"select source, count(*), {nulls} from {INPUT_TABLE} where {LINKED} group by source"
        ).fetchall()
    }
    where = "true"
    if has_loaded_at:
        marks = {str(s): t for s, t in conn.execute(
            f"select source, max(loaded_at) from {RECORD_INDEX} group by source having max(loaded_at) is not null"
        ).fetchall()}
        unmarked = sorted(s for s in inputs if s not in marks)
        where = since_watermark_sql(marks, unmarked, any(n_null for _, n_null in inputs.values()))
    def surplus_after(where: str) -> dict[str, int]:  # indexed + new - input, per source
        staged = _stage(conn, cfg, where)
        return {s: staged.get(s, 0) - inputs.get(s, (0, 0))[0] for s in set(staged) | set(inputs)}

    surplus = surplus_after(where)
    if where != "true" and any(n < 0 for n in surplus.values()):
        where = "true"  # a record loaded before the watermark was never linked: compare everything
        surplus = surplus_after(where)
    withdrawn_from = [s for s, n in surplus.items() if n > 0]
    sources = ", ".join(map(quote_literal, withdrawn_from)) or "null"
    create_temp(
        conn, WITHDRAWN,
        f"""select x.unique_id, x.source, x.record_id from {RECORD_INDEX} x
        anti join (select source, record_id from {INPUT_TABLE} where {LINKED} and source in ({sources})) i
            using (source, record_id)
        where x.source in ({sources})""",
    )
    n_new, n_redelivered, n_withdrawn = conn.execute(
        f"select (select count(*) from {NEW}), (select count(*) from {REDELIVERED}), (select count(*) from {WITHDRAWN})"
    ).fetchall()[0]
    if n_redelivered or n_withdrawn:  # the index as it will be: fresh identifiers, withdrawn left out
        create_temp(
            conn, EXISTING,
            f"""select x.* from {RECORD_INDEX} x anti join (
                select unique_id from {REDELIVERED} union all select unique_id from {WITHDRAWN}) c using (unique_id)
            union all by name select * from {REDELIVERED}""",
            view=True,
        )
    else:
        create_temp(conn, EXISTING, f"select * from {RECORD_INDEX}", view=True)
    create_temp(
        conn, LINK_INPUT, f"select * exclude ({PLACEMENT_COLUMNS}) from {EXISTING} union all by name select * from {NEW}",
        view=True,
    )
    return Staged(int(n_new), int(n_redelivered), int(n_withdrawn), where == "true")


def stage_full(conn: Any) -> None:
    """A first run or relink: every record in `LINK_INPUT` is new; nothing exists yet."""
    create_temp(conn, NEW, f"select * from {LINK_INPUT}", view=True)  # no copy of the whole input
    create_temp(conn, EXISTING, f"select *, {', '.join(f'null::{t} as {c}' for c, t in PLACEMENT.items())} from {LINK_INPUT} where false")
    for name in (REDELIVERED, WITHDRAWN):
        create_temp(conn, name, f"select * from {EXISTING} where false")


def search_relation(conn: Any) -> tuple[str, str]:
    """Where to search existing records, and the key to select rows by.

    `rowid` on a table is much cheaper than the text `unique_id` when millions of rows are
    probed; it is available when the index is read as it stands (nothing re-delivered or
    withdrawn this run) or on a full run (`EXISTING` is then an empty table).
    """
    kinds = conn.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = ?", [EXISTING]
    ).fetchall()[0][0]
    if kinds:
        return EXISTING, "rowid"
    changed = conn.execute(
        f"select (select count(*) from {REDELIVERED}) + (select count(*) from {WITHDRAWN})"
    ).fetchall()[0][0]
    return (RECORD_INDEX, "rowid") if changed == 0 else (EXISTING, "unique_id")


def write_index(conn: Any, placed: str, incremental: bool) -> None:
    """Write the index rows of this run (inside the caller's transaction): the whole index on a
    full run; otherwise withdrawn rows out, re-delivered rows refreshed, new rows in."""
    if not incremental:
        conn.execute(f"create or replace table {RECORD_INDEX} as {index_sql(NEW, placed)} {CLUSTER}")
        return
    n_redelivered, n_withdrawn = conn.execute(
        f"select (select count(*) from {REDELIVERED}), (select count(*) from {WITHDRAWN})"
    ).fetchall()[0]
    if n_redelivered or n_withdrawn:
        conn.execute(
            f"""delete from {RECORD_INDEX} x where x.unique_id in (
                select unique_id from {WITHDRAWN} union all select unique_id from {REDELIVERED})"""
        )
        conn.execute(f"insert into {RECORD_INDEX} by name select * from {REDELIVERED}")
    conn.execute(f"insert into {RECORD_INDEX} by name {index_sql(NEW, placed)}")
