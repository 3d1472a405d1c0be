"""Stable, opaque person IDs.

A new person's ID is `P` + 16 hex of SHA-256(secret salt | anchor record), where the
anchor is a record of that person (its master record, or the lowest record key of a
bucket cluster). The salt is generated once and kept in `mpi.id_salt`, so IDs are not
derivable from identifiers without it, and rebuilding from the same data yields the same
IDs. Records already in the index keep their person (incremental runs); a full relink
maps each new person to the previous ID most of its records had, and writes merges and
splits to `mpi.id_changes`.
"""

from __future__ import annotations

import secrets
from typing import Any

from dl_platform.linkage.cascade import ASSIGN, NEW_REF

RESOLVED = "__dl_resolved"
ID_CHANGES = "mpi.id_changes"


def id_salt(conn: Any) -> str:
    """The secret salt for person IDs, created on first use."""
    conn.execute("create schema if not exists mpi")
    conn.execute("create table if not exists mpi.id_salt (salt varchar, created_at timestamp)")
    rows = conn.execute("select salt from mpi.id_salt limit 1").fetchall()
    if rows:
        return rows[0][0]
    salt = secrets.token_hex(32)
    conn.execute("insert into mpi.id_salt values (?, now())", [salt])
    return salt


def person_id_sql(salt_param: str, anchor_expr: str) -> str:
    """SQL for the person ID of an anchor (salt passed as a bound parameter)."""
    return f"'P' || left(sha256({salt_param} || '|' || {anchor_expr}), 16)"


def resolve_new_refs(conn: Any) -> None:
    """Turn `new:<anchor>` references in the assignments into person IDs (`RESOLVED`)."""
    salt = id_salt(conn)
    conn.execute(
        f"""create or replace temp table {RESOLVED} as
        select unique_id,
               case when starts_with(person_ref, '{NEW_REF}')
                    then {person_id_sql('?', f"substr(person_ref, {len(NEW_REF) + 1})")}
                    else person_ref end as person_id,
               link_step, match_probability
        from {ASSIGN}""",
        [salt],
    )


def ensure_id_changes(conn: Any) -> None:
    """Create `mpi.id_changes` if absent (one row per old->new person ID change)."""
    conn.execute("create schema if not exists mpi")
    conn.execute(
        f"""create table if not exists {ID_CHANGES} (
            changed_at timestamp, run_id varchar, change varchar, old_person_id varchar,
            new_person_id varchar, n_records bigint, reason varchar)"""
    )


def reconcile_with_previous(conn: Any, previous: str, run_id: str) -> dict[str, int]:
    """After a full relink, keep previous IDs where the person is recognisably the same.

    A new person takes the previous ID most of its records had, if it holds the largest
    share of that previous person; otherwise it keeps its fresh ID. Merges (one new
    person from several previous ones) and splits (one previous person across several
    new ones) are appended to `mpi.id_changes`.

    Args:
        conn: Warehouse connection with `RESOLVED` built.
        previous: Table (unique_id, person_id) of the previous assignment.
        run_id: The run recording the changes.

    Returns:
        Counts of merge and split rows written.
    """
    ensure_id_changes(conn)
    conn.execute(
        f"""
        create or replace temp table __dl_overlap as
        select r.person_id as fresh_id, p.person_id as prev_id, count(*) as n
        from {RESOLVED} r join {previous} p using (unique_id) group by all
        """
    )
    conn.execute(
        """
        create or replace temp table __dl_id_map as
        with best_prev as (
            select fresh_id, arg_max(prev_id, n * 1e6 - hash(prev_id) % 1000000) as prev_id from __dl_overlap
            group by fresh_id
        ), best_fresh as (
            select prev_id, arg_max(fresh_id, n * 1e6 - hash(fresh_id) % 1000000) as fresh_id from __dl_overlap
            group by prev_id
        )
        select bp.fresh_id, coalesce(bf.prev_id, bp.fresh_id) as final_id
        from best_prev bp left join best_fresh bf on bf.prev_id = bp.prev_id and bf.fresh_id = bp.fresh_id
        """
    )
    # A fresh ID can equal a previous ID now kept by another person (its anchor record
    # moved): re-key it so two persons never share an ID.
    conn.execute(
        """update __dl_id_map set final_id = 'P' || left(sha256(fresh_id || '|rekeyed'), 16)
        where final_id = fresh_id and fresh_id in (select final_id from __dl_id_map where final_id <> fresh_id)"""
    )
    conn.execute(
        f"""update {RESOLVED} r set person_id = m.final_id from __dl_id_map m
        where r.person_id = m.fresh_id and m.final_id <> m.fresh_id"""
    )
    conn.execute(
        f"""
        insert into {ID_CHANGES}
        with o as (
            select o.*, coalesce(m.final_id, o.fresh_id) as final_id,
                   count(*) over (partition by o.fresh_id) as n_prev,
                   count(*) over (partition by o.prev_id) as n_fresh
            from __dl_overlap o left join __dl_id_map m using (fresh_id)
        )
        select now(), ?, case when n_prev > 1 then 'merge' else 'split' end, prev_id, final_id, n,
               case when n_prev > 1 then 'relink joined records of several previous persons'
                    else 'relink separated records of a previous person' end
        from o where prev_id <> final_id and (n_prev > 1 or n_fresh > 1)
        """,
        [run_id],
    )
    rows = conn.execute(
        f"select change, count(*) from {ID_CHANGES} where run_id = ? group by change", [run_id]
    ).fetchall()
    return {k: int(v) for k, v in rows}
