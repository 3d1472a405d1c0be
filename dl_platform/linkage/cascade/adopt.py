"""New master records adopt the bucket persons earlier runs made for them.

A person first seen outside the master (say, in A&E before registering) gets a bucket ID.
When their master record arrives in a later delivery it must not start a second person:
the master record joins the existing bucket person (ID kept, nothing renumbered) if the
model links it to exactly one such person above the master threshold.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.blocking import to_master_rules
from dl_platform.linkage.cascade import ASSIGN, KNOWN, KNOWN_BUCKET, NEW, NEW_REF
from dl_platform.linkage.cascade.deterministic import MASTER_PERSON
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.predict import score_between


def adopt_bucket_persons(
    conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], cfg: LinkageConfig
) -> int:
    """Point new master persons at the existing bucket person they match.

    Returns:
        The number of new master persons that adopted an existing bucket person.
    """
    conn.execute(
        f"""create or replace temp table __dl_adopt_new as
        select n.* exclude (linkable) from {NEW} n join {ASSIGN} a using (unique_id)
        where n.is_master and starts_with(a.person_ref, '{NEW_REF}')"""
    )
    sizes = conn.execute(f"select (select count(*) from {KNOWN_BUCKET}), (select count(*) from __dl_adopt_new)")
    n_known, n_new = sizes.fetchall()[0]
    if not n_known or not n_new:
        return 0
    score_between(conn, db_api, settings, "__dl_adopt_new", KNOWN_BUCKET, to_master_rules(fields),
                  cfg.master_match_probability, cfg, "__dl_adopt_edges")
    conn.execute(
        f"""create or replace temp table __dl_adopt_map as
        with by_ref as (
            select a.person_ref as new_ref, e.person_id, max(x.match_weight) as w
            from __dl_adopt_edges x join {ASSIGN} a on a.unique_id = x.unique_id_l
            join {KNOWN} e on e.unique_id = x.unique_id_r
            group by all
        )
        select new_ref, arg_max(person_id, w) as person_id from by_ref
        where new_ref not in (select new_ref from by_ref group by new_ref having count(*) > 1)
          and person_id not in (select person_id from by_ref group by person_id having count(*) > 1)
        group by new_ref"""
    )
    conn.execute(
        f"""update {ASSIGN} a set person_ref = m.person_id from __dl_adopt_map m where a.person_ref = m.new_ref"""
    )
    conn.execute(
        f"""update {MASTER_PERSON} p set person_ref = m.person_id from __dl_adopt_map m where p.person_ref = m.new_ref"""
    )
    return int(conn.execute("select count(*) from __dl_adopt_map").fetchall()[0][0])
