"""Person-ID reconciliation after a relink: merges and splits are recorded, IDs kept."""

import pandas as pd
import pytest

from dl_platform.linkage.cascade import ASSIGN
from dl_platform.linkage.ids import RESOLVED, id_salt, reconcile_with_previous, resolve_new_refs


@pytest.fixture
def conn(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    from dl_platform.resources import open_warehouse

    with open_warehouse() as c:
        yield c


def _assign(conn, rows):
    conn.execute(f"create or replace temp table {ASSIGN} (unique_id varchar, person_ref varchar, "
                 "link_step varchar, match_probability double)")
    for uid, ref in rows:
        conn.execute(f"insert into {ASSIGN} values (?, ?, 'bucket', null)", [uid, ref])


def test_new_ids_are_opaque_salted_and_stable(conn):
    _assign(conn, [("s|1", "new:s|1"), ("s|2", "new:s|1"), ("s|3", "new:s|3")])
    resolve_new_refs(conn)
    first = dict(conn.execute(f"select unique_id, person_id from {RESOLVED}").fetchall())
    resolve_new_refs(conn)
    assert dict(conn.execute(f"select unique_id, person_id from {RESOLVED}").fetchall()) == first
    assert first["s|1"] == first["s|2"] != first["s|3"]
    assert all(len(p) == 17 and p.startswith("P") for p in first.values())
    assert id_salt(conn) not in str(first)


def test_relink_keeps_majority_ids_and_records_merge_and_split(conn):
    prev = pd.DataFrame({"unique_id": ["a", "b", "c", "d", "e"],
                         "person_id": ["P1", "P1", "P2", "P3", "P3"]})
    conn.register("__prev_df", prev)
    conn.execute("create or replace temp table __prev as select * from __prev_df")
    # a,b,c now one person (P1 + P2 merged); d and e split apart
    _assign(conn, [("a", "new:a"), ("b", "new:a"), ("c", "new:a"), ("d", "new:d"), ("e", "new:e")])
    resolve_new_refs(conn)
    changes = reconcile_with_previous(conn, "__prev", "run-x")
    ids = dict(conn.execute(f"select unique_id, person_id from {RESOLVED}").fetchall())
    assert ids["a"] == ids["b"] == ids["c"] == "P1"
    assert {ids["d"], ids["e"]} & {"P3"} and ids["d"] != ids["e"]
    assert changes == {"merge": 1, "split": 1}
    rows = conn.execute("select change, old_person_id, new_person_id from mpi.id_changes").fetchall()
    assert ("merge", "P2", "P1") in rows
