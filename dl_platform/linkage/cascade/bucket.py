"""Step 3: the bucket. Records no master person took are clustered among themselves (and
attached to persons earlier runs already made in the bucket) into platform-issued IDs.

Connected components over the edges at or above the bucket threshold (the model's
expected-F1 choice over the bucket's own edges, unless configured): a household member
differs from a relative in given name and date of birth, which the trained weights count
against the edge. An incremental run never merges two existing persons; a new record
reaching two of them joins the one it is most strongly linked to, and the run counts it as
a deferred merge.
"""

from __future__ import annotations

from typing import Any

from splink.clustering import cluster_pairwise_predictions_at_threshold

from dl_platform.linkage.blocking import within_rules
from dl_platform.linkage.cascade import ASSIGN, DIAG, EXISTING, KNOWN, KNOWN_BUCKET, NEW_REF
from dl_platform.linkage.cascade.chains import split_chains
from dl_platform.linkage.cascade.probabilistic import CANDIDATES, attempted_sql, residual_table
from dl_platform.linkage.comparisons import COMPARISON_NAMES
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.inputs import LINK_INPUT, create_temp
from dl_platform.linkage.predict import add_removed, score_between, score_within
from dl_platform.linkage.thresholds import CANDIDATE_FLOOR, ThresholdChoice, ThresholdPolicy

BUCKET = "__dl_bucket"
EDGES_WITHIN = "__dl_bucket_edges"
EDGES_KNOWN = "__dl_bucket_known_edges"
NODES = "__dl_bucket_nodes"
GRAPH = "__dl_bucket_graph"
BEST = "__dl_bucket_best"
CLUSTERS = "__dl_bucket_clusters"
PERSON_NODE = "person:"
STEP = "bucket"


def build_known_bucket(conn: Any) -> None:
    """`KNOWN`: records earlier runs placed in the bucket, with their person; `KNOWN_BUCKET`: the
    same records Splink-ready (a view without the person).

    Read straight from the index (a filter, no join), so a run's cost does not grow with it.
    """
    create_temp(
        conn, KNOWN,
        f"select * exclude (linkable, link_step, match_probability) from {EXISTING} where link_step = 'bucket'",
    )
    create_temp(conn, KNOWN_BUCKET, f"select * exclude (person_id) from {KNOWN}", view=True)


def _score(conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], cfg: LinkageConfig,
           n_known: int, judged_at: float) -> tuple[int, dict[str, int]]:
    rules = within_rules(fields)
    removed: dict[str, int] = {}
    within = score_within(conn, db_api, settings, BUCKET, rules, CANDIDATE_FLOOR, cfg, EDGES_WITHIN, judged_at)
    add_removed(removed, within)
    n = within.kept
    if n_known:
        known = score_between(conn, db_api, settings, BUCKET, KNOWN_BUCKET, rules, CANDIDATE_FLOOR, cfg,
                              EDGES_KNOWN, judged_at=judged_at)
        add_removed(removed, known)
        n += known.kept
    else:
        conn.execute(f"create or replace temp table {EDGES_KNOWN} as select * from {EDGES_WITHIN} limit 0")
    return n, removed


def _cluster(conn: Any, db_api: Any, thr: float) -> None:
    """Connected components over new records plus only the known persons they reach (a
    known person no new record touches cannot change, so it is left out of the graph)."""
    conn.execute(
        f"""create or replace temp table {NODES} as
        select unique_id as node_id from {BUCKET}
        union all
        select distinct '{PERSON_NODE}' || k.person_id
        from {EDGES_KNOWN} e join {KNOWN} k on k.unique_id = e.unique_id_r where e.match_probability >= {thr}"""
    )
    conn.execute(
        f"""create or replace temp table {GRAPH} as
        select unique_id_l as node_id_l, unique_id_r as node_id_r, match_probability
        from {EDGES_WITHIN} where match_probability >= {thr}
        union all
        select e.unique_id_l, '{PERSON_NODE}' || k.person_id, e.match_probability
        from {EDGES_KNOWN} e join {KNOWN} k on k.unique_id = e.unique_id_r where e.match_probability >= {thr}"""
    )
    clusters = cluster_pairwise_predictions_at_threshold(
        NODES, GRAPH, db_api, node_id_column_name="node_id", threshold_match_probability=thr
    )
    conn.execute(
        f"""create or replace temp table {CLUSTERS} as
        select node_id, cluster_id::varchar as cluster_id from {clusters.physical_name}"""
    )
    clusters.drop_table_from_database_and_remove_from_cache()


def link_bucket(
    conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], cfg: LinkageConfig,
    policy: ThresholdPolicy,
) -> tuple[dict[str, Any], ThresholdChoice]:
    """Cluster the remaining linkable records into persons.

    Args:
        conn: Warehouse connection.
        db_api: Splink database API on `conn`.
        settings: Trained model settings.
        fields: Evidence fields with values.
        cfg: Guards.
        policy: How the threshold is set.

    Returns:
        Counts (records in the bucket, scored pairs, new persons, deferred merges, edges each
        guard removed) and the threshold used.
    """
    n_bucket = residual_table(conn, BUCKET, non_master_only=False)
    if n_bucket == 0:
        return {"records": 0, "pairs": 0, "new_persons": 0, "deferred_merges": 0}, policy.current(STEP)
    n_known = int(conn.execute(f"select count(*) from {KNOWN}").fetchall()[0][0])
    n_pairs, removed = _score(conn, db_api, settings, fields, cfg, n_known, policy.current(STEP).threshold)
    choice = policy.choose(
        conn, f"select match_probability as p from {EDGES_WITHIN} union all "
              f"select match_probability from {EDGES_KNOWN}", STEP)
    thr = choice.threshold
    _cluster(conn, db_api, thr)
    n_split = split_chains(conn, db_api, settings, cfg, BUCKET, CLUSTERS, EDGES_WITHIN, thr, PERSON_NODE)
    conn.execute(
        f"""
        create or replace temp table __dl_bucket_refs as
        with members as (
            select c.cluster_id, c.node_id, starts_with(c.node_id, '{PERSON_NODE}') as is_person
            from {CLUSTERS} c
        ), person_strength as (
            select m.cluster_id, k.person_id, count(*) as n_edges, sum(e.match_weight) as weight
            from {EDGES_KNOWN} e join {KNOWN} k on k.unique_id = e.unique_id_r
            join members m on m.node_id = e.unique_id_l
            where e.match_probability >= {thr}
            group by m.cluster_id, k.person_id
        ), chosen as (
            select cluster_id, arg_max(person_id, n_edges * 1000 + weight) as person_id,
                   count(*) as n_persons
            from person_strength group by cluster_id
        ), anchors as (
            select cluster_id, min(node_id) filter (where not is_person) as anchor from members group by cluster_id
        )
        select m.node_id as unique_id, coalesce(ch.person_id, '{NEW_REF}' || a.anchor) as person_ref,
               coalesce(ch.n_persons, 0) as n_persons
        from members m join anchors a using (cluster_id) left join chosen ch using (cluster_id)
        where not m.is_person
        """
    )
    gammas = ", ".join(f"gamma_{c}" for c in COMPARISON_NAMES)
    conn.execute(
        f"""
        create or replace temp table {BEST} as
        with all_edges as (
            select unique_id_l as unique_id, match_weight, match_probability, {gammas} from {EDGES_WITHIN}
            union all select unique_id_r, match_weight, match_probability, {gammas} from {EDGES_WITHIN}
            union all select unique_id_l, match_weight, match_probability, {gammas} from {EDGES_KNOWN}
        )
        select unique_id, arg_max(columns(* exclude (unique_id)), match_weight)
        from all_edges where match_probability >= {thr} group by unique_id
        """
    )
    conn.execute(
        f"""insert into {ASSIGN}
        select r.unique_id, r.person_ref, 'bucket', b.match_probability
        from __dl_bucket_refs r left join {BEST} b using (unique_id)"""
    )
    conn.execute(
        f"""insert into {DIAG}
        select r.unique_id,
               case when r.is_master then '' else {attempted_sql('r')} ||
                   case when (select count(*) from {LINK_INPUT} where is_master) > 0
                        then 'probabilistic>' else '' end end || 'bucket',
               null, b.match_weight, b.match_probability, {', '.join(f'b.gamma_{c}' for c in COMPARISON_NAMES)},
               coalesce(c.n_above, 0), coalesce(c.multiple_match, false)
        from {BUCKET} r left join {BEST} b using (unique_id) left join {CANDIDATES} c using (unique_id)"""
    )
    new_persons, deferred = conn.execute(
        f"""select count(distinct person_ref) filter (where starts_with(person_ref, '{NEW_REF}')),
                   count(distinct unique_id) filter (where n_persons > 1) from __dl_bucket_refs"""
    ).fetchall()[0]
    counts = {"records": n_bucket, "pairs": n_pairs, "new_persons": int(new_persons),
              "deferred_merges": int(deferred), "chains_split": n_split, "removed_by_guard": removed}
    return counts, choice
