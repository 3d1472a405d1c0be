"""Split chains in the bucket: connected components over pairwise links join two people
whenever ONE pair between them looks like a match.

Without a master record to choose between candidates, one weak record is enough to chain
people: a record whose date of birth is missing and whose names are swapped agrees with
every "JUAN ROMERO" in the register, and connected components then make one person of all
of them. Each component that is not already a clique of links is therefore re-clustered by
average linkage over ALL its record pairs (each scored by the model): two groups join only if
their records match each other on average at the bucket threshold. A person's own records
agree with each other; a bridge agrees with each side but the sides disagree with each other.
Components touching persons made by earlier runs are left as they are (an incremental run
never splits or merges existing persons).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.predict import score_within
from dl_platform.linkage.thresholds import CANDIDATE_FLOOR

CHAIN_RECORDS = "__dl_chain_records"
CHAIN_PAIRS = "__dl_chain_pairs"


def average_linkage(ids: list[str], pairs: pd.DataFrame, threshold: float) -> np.ndarray:
    """Flat clusters of `ids`: groups merge while their records' mean match probability is at
    least `threshold` (pairs not listed count as 0). Returns one label per id."""
    if len(ids) < 2:
        return np.ones(len(ids), dtype=int)
    position = {uid: k for k, uid in enumerate(ids)}
    probability = np.zeros((len(ids), len(ids)))
    left = pairs["unique_id_l"].map(position).to_numpy()
    right = pairs["unique_id_r"].map(position).to_numpy()
    probability[left, right] = probability[right, left] = pairs["match_probability"].to_numpy()
    distance = 1.0 - probability
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return fcluster(tree, t=1.0 - threshold, criterion="distance")


def split_chains(
    conn: Any, db_api: Any, settings: dict[str, Any], cfg: LinkageConfig, bucket: str, clusters: str,
    edges: str, threshold: float, person_prefix: str,
) -> int:
    """Re-cluster, in place in `clusters` (node_id, cluster_id), every component of 3+ records
    of `bucket` that is not a clique of `edges` at `threshold` and holds no existing person.

    Returns:
        How many components were split into more than one person.
    """
    conn.execute(
        f"""create or replace temp table __dl_chain_components as
        with members as (
            select cluster_id, count(*) as n, bool_or(starts_with(node_id, '{person_prefix}')) as has_person
            from {clusters} group by cluster_id
        ), links as (
            select c.cluster_id, count(*) as n_links
            from {edges} e join {clusters} c on c.node_id = e.unique_id_l
            where e.match_probability >= {threshold} group by c.cluster_id
        )
        select m.cluster_id from members m left join links l using (cluster_id)
        where m.n >= 3 and not m.has_person and coalesce(l.n_links, 0) < m.n * (m.n - 1) / 2"""
    )
    conn.execute(
        f"""create or replace temp table {CHAIN_RECORDS} as
        select b.*, c.cluster_id::varchar as chain_id
        from {bucket} b join {clusters} c on c.node_id = b.unique_id
        where c.cluster_id in (select cluster_id from __dl_chain_components)"""
    )
    if not conn.execute(f"select count(*) from {CHAIN_RECORDS}").fetchall()[0][0]:
        return 0
    score_within(conn, db_api, settings, CHAIN_RECORDS, ["l.chain_id = r.chain_id"], CANDIDATE_FLOOR, cfg,
                 CHAIN_PAIRS, judged_at=threshold)
    nodes = conn.execute(f"select unique_id, chain_id from {CHAIN_RECORDS} order by chain_id, unique_id").df()
    pairs = conn.execute(
        f"""select p.unique_id_l, p.unique_id_r, p.match_probability, r.chain_id
        from {CHAIN_PAIRS} p join {CHAIN_RECORDS} r on r.unique_id = p.unique_id_l"""
    ).df()
    by_chain = dict(tuple(pairs.groupby("chain_id", sort=False)))
    relabelled: list[pd.DataFrame] = []
    split = 0
    for chain_id, members in nodes.groupby("chain_id", sort=False):
        ids = members["unique_id"].tolist()
        labels = average_linkage(ids, by_chain.get(chain_id, pairs.iloc[0:0]), threshold)
        split += int(len(set(labels)) > 1)
        relabelled.append(pd.DataFrame({"node_id": ids, "cluster_id": [f"{chain_id}#{k}" for k in labels]}))
    conn.register("__dl_chain_labels", pd.concat(relabelled, ignore_index=True))
    conn.execute(
        f"""update {clusters} c set cluster_id = l.cluster_id
        from __dl_chain_labels l where c.node_id = l.node_id"""
    )
    conn.unregister("__dl_chain_labels")
    return split
