"""What a completed run leaves behind, in a form two runs can be compared by.

Person IDs are salted per warehouse, so persons are compared as a partition of records and
marts with each person ID replaced by the person's lowest record key. Tables that log runs
(delivery log, check and linkage history) are compared by their rows' content, not counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dl_platform.resources import open_warehouse

SCHEMAS = ("raw", "intermediate", "mpi", "marts", "extracts")
# Columns that legitimately differ between two runs over the same deliveries.
RUN_SPECIFIC = ("run_id", "loaded_at", "_loaded_at", "linked_at", "changed_at", "created_at",
                "released_at", "built_at", "run_at", "salt")
PERSON_KEYS = ("person_id", "old_person_id", "new_person_id")


@dataclass
class WarehouseState:
    row_counts: dict[str, int]
    persons: set[frozenset[str]]
    steps: dict[str, str]
    marts: dict[str, str]


def _canonical(conn) -> None:
    conn.execute(
        """create or replace temp table __canon as
        select person_id, min(source || '|' || record_id) as canon from mpi.record_person group by person_id"""
    )


def _table_digest(conn, catalog_table: str, columns: list[str]) -> str:
    """Order-independent digest of a table's rows, person IDs canonicalised."""
    kept = [c for c in columns if c.lower() not in RUN_SPECIFIC]
    exprs = [
        f'coalesce((select canon from __canon where person_id = t."{c}"), t."{c}"::varchar)'
        if c in PERSON_KEYS else f't."{c}"::varchar' for c in kept
    ]
    row = " || chr(31) || ".join(f"coalesce({e}, chr(0))" for e in exprs) or "''"
    rows = conn.execute(f"select {row} from {catalog_table} t").fetchall()
    return hashlib.sha256("\n".join(sorted(r[0] for r in rows)).encode()).hexdigest()


def warehouse_state(data_dir: Path) -> WarehouseState:
    """Read the state of `data_dir` (warehouse and published marts)."""
    with open_warehouse(data_dir / "warehouse.duckdb", read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {SCHEMAS} and table_catalog = current_database()"
        ).fetchall()
        counts = {
            f"{s}.{t}": conn.execute(f'select count(*) from {s}."{t}"').fetchall()[0][0] for s, t in tables
        }
        rows = conn.execute("select person_id, source || '|' || record_id, link_step from mpi.record_person").fetchall()
        _canonical(conn)
        conn.execute(f"attach '{data_dir / 'marts.duckdb'}' as published (read_only)")
        marts = {}
        for (table,) in conn.execute(
            "select table_name from information_schema.tables where table_catalog = 'published'"
        ).fetchall():
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_catalog = 'published' "
                "and table_name = ? order by ordinal_position", [table]).fetchall()]
            marts[table] = _table_digest(conn, f'published.main."{table}"', columns)
    persons: dict[str, set[str]] = {}
    for person, record, _ in rows:
        persons.setdefault(person, set()).add(record)
    return WarehouseState(
        row_counts=counts,
        persons={frozenset(v) for v in persons.values()},
        steps={record: step for _, record, step in rows},
        marts=marts,
    )
