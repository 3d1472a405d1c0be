"""Raw loading through the real Dagster assets: every kind of bad delivery is handled.

Each case either quarantines rows with a reason, loads and flags them, or fails the asset
with a message naming the file, the line and the rule — and nothing valid is lost.
Hostile headers, NUL bytes, compression and empty appends: test_raw_hostile_input.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dl_platform.resources import WarehouseResource, open_warehouse
from dl_platform.sources.factory import build_raw_assets
from dl_platform.sources.registry import load_registry

REGISTRY = """
sources:
  people:
    title: Test master
    owner: Test Team
    role: master
    primacy: 1
    load: snapshot
    identifiers: {record_id: pid, nhs_number: nhs, given_name: first, date_of_birth: dob}
  visits:
    title: Test visits
    role: contributing
    primacy: 2
    load: append
    period: {start: 2020-01-01, end: 2024-12-31, date_column: visit_date}
    identifiers: {record_id: vid, nhs_number: nhs, date_of_birth: dob}
  legacy:
    title: Latin-1 feed
    role: contributing
    primacy: 3
    load: append
    format: {encoding: latin-1}
    identifiers: {record_id: id, given_name: name}
  idonly:
    title: Identifier-only feed, no payload
    role: contributing
    primacy: 4
    load: append
    identifiers: {record_id: rid, postcode: pc}
  packed:
    title: Gzip-compressed feed
    role: contributing
    primacy: 5
    load: append
    format: {compression: gzip}
    identifiers: {record_id: vid, nhs_number: nhs}
"""

PEOPLE = "pid,nhs,first,dob,ethnic\nP1,9434765919,ANNA,1980-02-01,A\nP2,9876544321,BEN,01/02/1990,B\n"
VISITS = "vid,nhs,dob,visit_date,code\nV1,9434765919,19800201,2021-05-01,X1\nV2,,19900201,2022-01-01,X2\n"


def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DL_DATA_DIR (`tmp_path/data`) and the test registry; returns the data dir."""
    data = tmp_path / "data"
    reg = tmp_path / "sources.yml"
    reg.write_text(REGISTRY)
    monkeypatch.setenv("DL_DATA_DIR", str(data))
    monkeypatch.setenv("DL_SOURCES_FILE", str(reg))
    return data


@pytest.fixture()
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def land(data: Path, source: str, name: str, content: str | bytes) -> Path:
    folder = data / "landing" / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def run(source: str) -> dg.ExecuteInProcessResult:
    registry = load_registry(__import__("dl_platform.settings", fromlist=["x"]).get_settings().sources_file)
    assets = [a for a in build_raw_assets(registry) if a.key.path[-1] in (source, f"{source}_quarantine")]
    return dg.materialize(
        assets, resources={"warehouse": WarehouseResource.from_settings()}, raise_on_error=False
    )


def query(sql: str) -> list[tuple]:
    with open_warehouse() as conn:
        return conn.execute(sql).fetchall()


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    events = [e for e in result.all_events if e.is_step_failure]
    assert events, "expected the asset to fail"
    return events[0].step_failure_data.error.message


def metadata(result: dg.ExecuteInProcessResult, key: str = "") -> dict:
    mats = result.get_asset_materialization_events()
    return {k: v.value for k, v in mats[0].materialization.metadata.items()}


def test_clean_delivery_splits_identifiers_and_payload(env):
    land(env, "people", "people_2024-01.csv", PEOPLE)
    result = run("people")
    assert result.success
    ident = query("select record_id, nhs_number, given_name, date_of_birth, _row_number, _delivery_file "
                  "from raw.people__identifiers order by record_id")
    assert [r[0] for r in ident] == ["P1", "P2"]
    assert ident[1][3] == "01/02/1990"  # as delivered; dbt parses
    assert ident[0][4] == 2 and ident[0][5] == "people_2024-01.csv"
    payload_cols = [r[0] for r in query("describe raw.people__payload")]
    assert "ethnic" in payload_cols and "nhs" not in payload_cols and "first" not in payload_cols
    md = metadata(result)
    assert md["rows_accepted"] == 2 and md["rows_quarantined"] == 0
    # Metadata never carries identifier values.
    assert "9434765919" not in json.dumps({k: str(v) for k, v in md.items()})


def test_empty_file_fails_naming_file_and_rule_and_keeps_valid_delivery(env):
    land(env, "visits", "visits_2024-01.csv", VISITS)
    land(env, "visits", "visits_2024-02.csv", "")
    result = run("visits")
    assert not result.success
    msg = failure_message(result)
    assert "visits_2024-02.csv" in msg and "empty (0 bytes)" in msg and "rule: not_empty" in msg
    assert query("select count(*) from raw.visits__identifiers")[0][0] == 2
    outcomes = dict(query("select delivery_file, outcome from raw.delivery_log"))
    assert outcomes == {"visits_2024-01.csv": "loaded", "visits_2024-02.csv": "rejected"}


def test_header_only(env):
    land(env, "people", "people_2024-01.csv", PEOPLE)
    assert run("people").success
    land(env, "people", "people_2024-02.csv", "pid,nhs,first,dob,ethnic\n")
    result = run("people")
    assert "people_2024-02.csv" in failure_message(result)
    assert "would empty the snapshot" in failure_message(result)
    assert query("select count(*) from raw.people__identifiers")[0][0] == 2  # snapshot not wiped
    land(env, "visits", "visits_2024-01.csv", "vid,nhs,dob,visit_date,code\n")
    assert run("visits").success  # an append with no activity is a legitimate (empty) delivery
    assert query("select outcome, rows_read from raw.delivery_log where source = 'visits'") == [("empty", 0)]


def test_missing_mapped_column_fails_naming_file_and_column(env):
    land(env, "visits", "visits_2024-01.csv", VISITS.replace("dob", "birth"))
    msg = failure_message(run("visits"))
    assert "visits_2024-01.csv, line 1" in msg and "'dob'" in msg and "mapped_column_present" in msg


def test_extra_columns_are_kept_as_payload(env):
    land(env, "visits", "visits_2024-01.csv", VISITS.replace("code\n", "code,new_col\n")
         .replace("X1\n", "X1,a\n").replace("X2\n", "X2,b\n"))
    assert run("visits").success
    assert query("select new_col from raw.visits__payload order by record_id") == [("a",), ("b",)]


def test_latin1_bytes(env):
    text = "id,name,note\n1,Zoë,x\n2,José,y\n"
    land(env, "legacy", "legacy_1.csv", text.encode("latin-1"))
    assert run("legacy").success
    assert query("select given_name from raw.legacy__identifiers order by record_id") == [("Zoë",), ("José",)]
    # The same bytes declared as UTF-8 fail with the line named.
    land(env, "visits", "visits_1.csv", ("vid,nhs,dob,visit_date,code\nV1,,19800201,2021-05-01,Zoë\n").encode("latin-1"))
    msg = failure_message(run("visits"))
    assert "visits_1.csv, line 2" in msg and "not valid utf-8" in msg


def test_wrong_delimiter_gets_a_hint(env):
    land(env, "visits", "visits_1.csv", VISITS.replace(",", ";"))
    msg = failure_message(run("visits"))
    assert "delimiter ';'" in msg and "visits_1.csv" in msg


def test_ragged_and_truncated_lines_are_quarantined(env):
    body = VISITS + "V3,9434765919,19800201,2023-01-01,X3,EXTRA\nV4,943476"
    land(env, "visits", "visits_1.csv", body)
    result = run("visits")
    assert result.success
    assert query("select record_id from raw.visits__identifiers order by 1") == [("V1",), ("V2",)]
    rows = query("select _row_number, rule, reason from raw.visits__quarantine order by 1")
    assert [(r[0], r[1]) for r in rows] == [(4, "field_count"), (5, "field_count")]
    assert "header has 5" in rows[0][2]


def test_duplicate_ids_are_quarantined_and_bad_dates_kept_and_flagged(env):
    body = (
        "vid,nhs,dob,visit_date,code\n"
        "V1,,19800201,2021-05-01,a\n"
        "V2,,31/02/1980,2021-05-01,b\n"  # impossible date: kept, flagged
        "V3,,not-a-date,2021-05-01,c\n"  # unparseable: kept, flagged
        "V4,,19800201,2021-13-45,d\n"  # impossible period date: kept, flagged
        "V5,,19800201,2021-05-01,e\n"
        "V5,,19800201,2021-05-02,f\n"  # duplicate record_id: both held back
        ",,19800201,2021-05-01,g\n"  # missing record_id
    )
    land(env, "visits", "visits_1.csv", body)
    result = run("visits")
    assert result.success
    assert query("select record_id, date_of_birth from raw.visits__identifiers order by 1") == [
        ("V1", "19800201"), ("V2", "31/02/1980"), ("V3", "not-a-date"), ("V4", "19800201")]
    assert query("select visit_date from raw.visits__payload where record_id = 'V4'") == [("2021-13-45",)]
    rules = query("select _row_number, rule from raw.visits__quarantine order by 1")
    assert rules == [(6, "record_id_unique"), (7, "record_id_unique"), (8, "record_id_present")]
    md = metadata(result)
    assert md["rows_read"] == 7 and md["rows_accepted"] == 4 and md["rows_quarantined"] == 3
    assert md["quarantine_reasons"] == {"record_id_unique": 2, "record_id_present": 1}
    assert md["flagged_values"] == {
        "date_of_birth": {"impossible_date": 1, "unrecognised_format": 1},
        "visit_date": {"impossible_date": 1},
    }


def test_every_bad_date_loads_and_is_counted(env):
    body = (
        "vid,nhs,dob,visit_date,code\n"
        "V1,,19450493,2021-05-01,a\n"  # month 04, day 93
        "V2,,29/02/1981,2021-05-01,b\n"  # 1981 is not a leap year
        "V3,,1875-01-01,2021-05-01,c\n"  # before 1880
        "V4,,2999-01-01,2999-12-31,d\n"  # in the future (beyond pandas' timestamp range too)
        "V5,,19800201,2021-05-01,e\n"
    )
    land(env, "visits", "visits_1.csv", body)
    result = run("visits")
    assert result.success
    assert query("select record_id from raw.visits__identifiers order by 1") == [
        ("V1",), ("V2",), ("V3",), ("V4",), ("V5",)]
    assert query("select count(*) from raw.visits__quarantine")[0][0] == 0
    md = metadata(result)
    assert md["rows_accepted"] == 5 and md["rows_quarantined"] == 0
    assert md["flagged_values"] == {
        "date_of_birth": {"impossible_date": 2, "before_1880": 1, "in_the_future": 1},
        "visit_date": {"in_the_future": 1},
    }
    # Counts only: no date as delivered reaches the metadata.
    assert "19450493" not in json.dumps({k: str(v) for k, v in md.items()})


def test_same_file_twice_changes_nothing(env):
    land(env, "visits", "visits_1.csv", VISITS)
    assert run("visits").success
    before = query("select * from raw.visits__identifiers order by record_id")
    assert run("visits").success  # rerun: nothing new
    land(env, "visits", "visits_1_resent.csv", VISITS)  # the same bytes under a new name
    result = run("visits")
    assert result.success
    assert query("select * from raw.visits__identifiers order by record_id") == before
    log = query("select delivery_file, outcome from raw.delivery_log order by delivery_file")
    assert log == [("visits_1.csv", "loaded"), ("visits_1_resent.csv", "duplicate")]


def test_append_later_delivery_wins_and_snapshot_replaces(env):
    land(env, "visits", "visits_1.csv", VISITS)
    land(env, "visits", "visits_2.csv", "vid,nhs,dob,visit_date,code\nV2,,19900201,2022-01-01,CHANGED\n")
    assert run("visits").success
    assert query("select record_id, code from raw.visits__payload order by 1") == [("V1", "X1"), ("V2", "CHANGED")]
    land(env, "people", "people_1.csv", PEOPLE)
    assert run("people").success
    land(env, "people", "people_2.csv", "pid,nhs,first,dob,ethnic\nP9,,ZED,1970-01-01,C\n")
    assert run("people").success
    assert query("select record_id from raw.people__identifiers") == [("P9",)]


def test_parquet_and_identifier_only_source(env):
    frame = pd.DataFrame({"rid": ["R1", "R2"], "pc": ["LS1 1AA", None]})
    folder = env / "landing" / "idonly"
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "idonly_1.parquet", index=False)
    assert run("idonly").success
    assert query("select record_id, postcode from raw.idonly__identifiers order by 1") == [("R1", "LS1 1AA"), ("R2", None)]
    assert [r[0] for r in query("describe raw.idonly__payload")][0] == "record_id"
    assert query("select count(*) from raw.idonly__payload")[0][0] == 2
