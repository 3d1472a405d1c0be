"""Step 2: residual records scored against the master persons with the trained model.

A master person is searched through all its records placed so far (the master record and
the records steps 1-2 gave it), as MPS searches its cache of traced records: an A&E
record with an old postcode still meets the hospital episode that carried it.

The best master person at or above the threshold wins. Two persons both above it whose
match weights are within the configured margin are a multiple match: flagged and left
unresolved (the record goes to the bucket), as MPS does, rather than guessed. The threshold
is the model's expected-F1 choice over the best candidates (`thresholds.py`) unless configured.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.blocking import to_master_rules
from dl_platform.linkage.cascade import ASSIGN, DIAG, NEW
from dl_platform.linkage.cascade.deterministic import MASTER_PERSON
from dl_platform.linkage.cascade.index import PLACEMENT_COLUMNS, search_relation
from dl_platform.linkage.comparisons import COMPARISON_NAMES
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import is_table
from dl_platform.linkage.predict import reachable_sql, score_between
from dl_platform.linkage.thresholds import CANDIDATE_FLOOR, ThresholdChoice, ThresholdPolicy

RESIDUAL = "__dl_residual"
MASTER = "__dl_master"
PLACED_PERSON = "__dl_placed_person"
EDGES = "__dl_master_edges"
CANDIDATES = "__dl_master_candidates"
STEP = "probabilistic"


def attempted_sql(alias: str) -> str:
    """The steps a residual record has been through before the current one."""
    return (
        f"case when {alias}.nhs_number is not null and {alias}.date_of_birth is not null "
        "then 'deterministic>' else '' end"
    )


def residual_table(conn: Any, out: str, non_master_only: bool = True) -> int:
    """New linkable records not yet placed, as a Splink-ready table `out`."""
    master = "and not n.is_master" if non_master_only else ""
    conn.execute(
        f"""create or replace temp table {out} as
        select n.* exclude (linkable) from {NEW} n
        where n.linkable {master} and n.unique_id not in (select unique_id from {ASSIGN})"""
    )
    return int(conn.execute(f"select count(*) from {out}").fetchall()[0][0])


def _placed_tables(conn: Any, rules: list[str]) -> int:
    """`MASTER`: records of master persons (Splink input); `PLACED_PERSON`: their person.

    Only records some blocking rule pairs with a residual record can be candidates, so the
    search is cut to those before anything is joined to persons (`reachable_sql`): in the
    index (records placed by earlier runs) and among the records placed earlier in this run.
    A small delivery never copies the whole index.
    """
    existing, key = search_relation(conn)
    new_key = "rowid" if is_table(conn, NEW) else "unique_id"
    # Keys first (row key, unique_id, person): the records themselves are copied once, at the end,
    # and only those of persons with a master record.
    earlier = reachable_sql(RESIDUAL, existing, rules, key, select=f"r.{key} as k, r.unique_id, r.person_id as person_ref")
    this_run = reachable_sql(RESIDUAL, NEW, rules, new_key, select=f"r.{new_key} as k, r.unique_id")
    conn.execute(
        f"""create or replace temp table __dl_reachable as
        select k as k_index, null as k_new, unique_id, person_ref from ({earlier})
        union all by name
        select r.k as k_new, r.unique_id, a.person_ref from ({this_run}) r join {ASSIGN} a using (unique_id)"""
    )
    conn.execute(  # each reachable person's master record (the first, for diagnostics)
        f"""create or replace temp table __dl_master_anchor as
        select person_ref, min(unique_id) as master_uid from {MASTER_PERSON}
        where person_ref in (select person_ref from __dl_reachable) group by person_ref"""
    )
    conn.execute(
        f"""create or replace temp table {PLACED_PERSON} as
        select r.k_index, r.k_new, r.unique_id, r.person_ref, a.master_uid
        from __dl_reachable r join __dl_master_anchor a using (person_ref)"""
    )
    conn.execute(
        f"""create or replace temp table {MASTER} as
        select r.* exclude (linkable, {PLACEMENT_COLUMNS}) from {existing} r
        where r.{key} in (select k_index from {PLACED_PERSON} where k_index is not null)
        union all by name
        select n.* exclude (linkable) from {NEW} n where n.{new_key} in (select k_new from {PLACED_PERSON} where k_new is not null)"""
    )
    return int(conn.execute(f"select count(*) from {MASTER}").fetchall()[0][0])


def link_to_master(
    conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], cfg: LinkageConfig,
    policy: ThresholdPolicy,
) -> tuple[dict[str, Any], ThresholdChoice]:
    """Place residual records on master persons by probabilistic match.

    Args:
        conn: Warehouse connection.
        db_api: Splink database API on `conn`.
        settings: Trained model settings.
        fields: Evidence fields with values.
        cfg: Margin and guards.
        policy: How the threshold is set.

    Returns:
        Counts (residual records, scored pairs, records placed, multiple matches, edges each
        guard removed) and the threshold used.
    """
    n_residual = residual_table(conn, RESIDUAL)
    rules = to_master_rules(fields)
    n_master = _placed_tables(conn, rules) if n_residual else 0
    if n_residual == 0 or n_master == 0:
        conn.execute(
            f"""create or replace temp table {CANDIDATES} as
            select null::varchar as unique_id, null::double as match_probability, 0 as n_above,
                   false as multiple_match where false"""
        )
        counts = {"residual": n_residual, "pairs": 0, "placed": 0, "multiple_match": 0}
        return counts, policy.current(STEP)
    # MASTER holds only records the rules reach from RESIDUAL (_placed_tables): no second cut.
    edges = score_between(conn, db_api, settings, RESIDUAL, MASTER, rules, CANDIDATE_FLOOR, cfg, EDGES,
                          prefilter=False, judged_at=policy.current(STEP).threshold)
    gammas = ", ".join(f"e.gamma_{c}" for c in COMPARISON_NAMES)
    conn.execute(
        f"""
        create or replace temp table __dl_ranked as
        with per_person as (
            select e.unique_id_l as unique_id, pp.person_ref, pp.master_uid,
                   e.match_weight, e.match_probability, {gammas},
                   row_number() over (partition by e.unique_id_l, pp.person_ref
                                      order by e.match_weight desc, e.unique_id_r) as rn_in_person
            from {EDGES} e join {PLACED_PERSON} pp on pp.unique_id = e.unique_id_r
        )
        select *, row_number() over (partition by unique_id order by match_weight desc, person_ref) as rk
        from per_person where rn_in_person = 1
        """
    )
    choice = policy.choose(conn, "select match_probability as p from __dl_ranked where rk = 1", STEP)
    thr = choice.threshold
    conn.execute(
        f"""
        create or replace temp table {CANDIDATES} as
        with ranked as (
            select *, count(*) filter (where match_probability >= {thr}) over (partition by unique_id) as n_above
            from __dl_ranked
        ), second as (
            select unique_id, match_weight as second_weight, match_probability as second_probability
            from ranked where rk = 2
        )
        select r.*, s.second_weight, s.second_probability,
               (r.n_above >= 2 and r.match_weight - s.second_weight < {cfg.multiple_match_weight_margin})
                   as multiple_match
        from ranked r left join second s using (unique_id)
        where r.rk = 1
        """
    )
    conn.execute(
        f"""insert into {ASSIGN}
        select unique_id, person_ref, 'probabilistic', match_probability from {CANDIDATES}
        where match_probability >= {thr} and not multiple_match"""
    )
    conn.execute(
        f"""insert into {DIAG}
        select r.unique_id, {attempted_sql('r')} || 'probabilistic', c.master_uid, c.match_weight,
               c.match_probability, {', '.join(f'c.gamma_{n}' for n in COMPARISON_NAMES)},
               coalesce(c.n_above, 0), coalesce(c.multiple_match, false)
        from {RESIDUAL} r left join {CANDIDATES} c using (unique_id)
        where c.unique_id is not null and c.match_probability >= {thr} and not c.multiple_match"""
    )
    placed, multiple = conn.execute(
        f"""select count(*) filter (where match_probability >= {thr} and not multiple_match),
                   count(*) filter (where multiple_match) from {CANDIDATES}"""
    ).fetchall()[0]
    counts = {"residual": n_residual, "pairs": edges.kept, "placed": int(placed), "multiple_match": int(multiple),
              "removed_by_guard": edges.removed_by_guard}
    return counts, choice
