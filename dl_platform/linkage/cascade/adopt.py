"""New master records adopt the bucket persons earlier runs made for them.

A person first seen outside the master (say, in A&E before registering) gets a bucket ID.
When their master record arrives in a later delivery it must not start a second person:
the master record joins the existing bucket person (ID kept, nothing renumbered) if its
valid NHS number and date of birth agree with that person's records, or else the model links
it to exactly one such person above the master threshold (the one the last run chose).
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.blocking import adopt_rules
from dl_platform.linkage.cascade import ASSIGN, KNOWN, KNOWN_BUCKET, NEW, NEW_REF
from dl_platform.linkage.cascade.deterministic import MASTER_PERSON
from dl_platform.linkage.comparisons import COMPARISON_NAMES
from dl_platform.linkage.config import LinkageConfig
from dl_platform.linkage.predict import score_between

# Match weight given to an NHS number + date of birth agreement: above any the model gives.
DETERMINISTIC_WEIGHT = 99.0


def adopt_bucket_persons(
    conn: Any, db_api: Any, settings: dict[str, Any], fields: tuple[str, ...], cfg: LinkageConfig,
    threshold: float,
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
    # As in step 1: a valid NHS number and date of birth agreeing with a bucket record is the
    # same person (a full run would have placed that record on this master deterministically).
    # Only the rest are scored with the model.
    conn.execute(
        f"""create or replace temp table __dl_adopt_deterministic as
        select n.unique_id as unique_id_l, k.unique_id as unique_id_r,
               {DETERMINISTIC_WEIGHT} as match_weight, 1.0 as match_probability
        from __dl_adopt_new n join {KNOWN_BUCKET} k
            on k.nhs_number = n.nhs_number and k.date_of_birth = n.date_of_birth"""
    )
    conn.execute(
        """create or replace temp table __dl_adopt_scored as select * from __dl_adopt_new
        where unique_id not in (select unique_id_l from __dl_adopt_deterministic)"""
    )
    if conn.execute("select count(*) from __dl_adopt_scored").fetchall()[0][0]:
        score_between(conn, db_api, settings, "__dl_adopt_scored", KNOWN_BUCKET, adopt_rules(fields),
                      threshold, cfg, "__dl_adopt_edges", judged_at=threshold)
    else:
        conn.execute(
            f"""create or replace temp table __dl_adopt_edges as
            select *, {", ".join(f"null::integer as gamma_{c}" for c in COMPARISON_NAMES)}
            from __dl_adopt_deterministic limit 0"""
        )
    conn.execute("insert into __dl_adopt_edges by name select * from __dl_adopt_deterministic")
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
