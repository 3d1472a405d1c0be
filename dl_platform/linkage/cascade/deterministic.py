"""Step 1: master records anchor persons; NHS number + date of birth agreeing with exactly
one master person places a record there.

A valid NHS number whose date of birth disagrees is not trusted here (it may be a
keying error or a shared number); the record goes on to the probabilistic step, where
the NHS number is one piece of evidence among others.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.cascade import ASSIGN, DIAG, EXISTING, NEW, NEW_REF
from dl_platform.linkage.comparisons import COMPARISON_NAMES
from dl_platform.linkage.inputs import LINK_INPUT

MASTER_PERSON = "__dl_master_person"


def create_step_tables(conn: Any) -> None:
    """Empty assignment and diagnostics tables for this run."""
    conn.execute(
        f"""create or replace temp table {ASSIGN} (
            unique_id varchar, person_ref varchar, link_step varchar, match_probability double)"""
    )
    conn.execute(
        f"""create or replace temp table {DIAG} (
            unique_id varchar, steps_attempted varchar, matched_master_uid varchar, match_weight double,
            match_probability double, {", ".join(f"gamma_{c} integer" for c in COMPARISON_NAMES)},
            n_candidates_above_threshold integer, multiple_match boolean)"""
    )


def assign_master_records(conn: Any) -> int:
    """New master records join an existing person with the same NHS number and DOB, or
    anchor a new one (master duplicates sharing both become one person).

    Returns:
        The number of new master records placed.
    """
    conn.execute(
        f"""
        create or replace temp table {MASTER_PERSON} as
        select e.unique_id, e.person_id as person_ref
        from {EXISTING} e where e.is_master
        """
    )
    conn.execute(
        f"""
        insert into {ASSIGN}
        with new_master as (
            select n.* from {NEW} n where n.is_master
        ), known as (
            select nm.unique_id, min(mp.person_ref) as person_ref
            from new_master nm
            join {LINK_INPUT} m on m.is_master and m.nhs_number = nm.nhs_number
                and m.date_of_birth = nm.date_of_birth
            join {MASTER_PERSON} mp on mp.unique_id = m.unique_id
            group by nm.unique_id
        ), grouped as (
            select unique_id,
                case when nhs_number is not null and date_of_birth is not null
                     then min(unique_id) over (partition by nhs_number, date_of_birth)
                     else unique_id end as anchor
            from new_master
        )
        select g.unique_id, coalesce(k.person_ref, '{NEW_REF}' || g.anchor), 'deterministic', 1.0
        from grouped g left join known k using (unique_id)
        """
    )
    conn.execute(
        f"""insert into {MASTER_PERSON}
        select a.unique_id, a.person_ref from {ASSIGN} a join {NEW} n using (unique_id) where n.is_master"""
    )
    conn.execute(
        f"""insert into {DIAG} (unique_id, steps_attempted, match_probability, n_candidates_above_threshold,
            multiple_match)
        select a.unique_id, 'master', 1.0, 0, false from {ASSIGN} a join {NEW} n using (unique_id)
        where n.is_master"""
    )
    return int(conn.execute(f"select count(*) from {NEW} where is_master").fetchall()[0][0])


def link_deterministic(conn: Any) -> int:
    """New non-master records whose valid NHS number and DOB agree with exactly one master person.

    Returns:
        The number of records placed by this step.
    """
    conn.execute(
        f"""
        create or replace temp table __dl_det as
        select n.unique_id, min(mp.person_ref) as person_ref, min(m.unique_id) as master_uid,
               count(distinct mp.person_ref) as n_persons
        from {NEW} n
        join {LINK_INPUT} m on m.is_master and m.nhs_number = n.nhs_number and m.date_of_birth = n.date_of_birth
        join {MASTER_PERSON} mp on mp.unique_id = m.unique_id
        where not n.is_master and n.nhs_number is not null and n.date_of_birth is not null
        group by n.unique_id
        """
    )
    conn.execute(
        f"""insert into {ASSIGN}
        select unique_id, person_ref, 'deterministic', 1.0 from __dl_det where n_persons = 1"""
    )
    conn.execute(
        f"""insert into {DIAG} (unique_id, steps_attempted, matched_master_uid, match_probability,
            n_candidates_above_threshold, multiple_match)
        select unique_id, 'deterministic', master_uid, 1.0, n_persons, false from __dl_det where n_persons = 1"""
    )
    return int(conn.execute("select count(*) from __dl_det where n_persons = 1").fetchall()[0][0])
