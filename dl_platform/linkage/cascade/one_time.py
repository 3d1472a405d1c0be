"""Step 4: records with too little to link (see `inputs.linkable_sql`) get a one-time ID.

MPS issues one-time-use IDs for such records rather than guessing: two of them never
share a person, so they cannot create false links, and reports count them separately.
"""

from __future__ import annotations

from typing import Any

from dl_platform.linkage.cascade import ASSIGN, DIAG, NEW, NEW_REF


def assign_one_time(conn: Any) -> int:
    """Every new record still unplaced (the unlinkable ones) becomes its own person.

    Returns:
        The number of one-time IDs issued.
    """
    conn.execute(
        f"""create or replace temp table __dl_one_time as
        select unique_id from {NEW} where unique_id not in (select unique_id from {ASSIGN})"""
    )
    conn.execute(
        f"""insert into {ASSIGN}
        select unique_id, '{NEW_REF}' || unique_id, 'one_time', null from __dl_one_time"""
    )
    conn.execute(
        f"""insert into {DIAG} (unique_id, steps_attempted, n_candidates_above_threshold, multiple_match)
        select unique_id, 'one_time', 0, false from __dl_one_time"""
    )
    return int(conn.execute("select count(*) from __dl_one_time").fetchall()[0][0])
