"""The contract quarantines structural faults only; unusable dates are kept and counted.

Each rule is enforced in SQL (`apply_rules`) and stated in pandera (`build_contract`); the
two forms must judge every row alike, on hand-written rows and on generated ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dl_platform.sources.contracts import (
    REASONS,
    ContractDisagreement,
    accepted_sql,
    apply_rules,
    build_contract,
    flag_counts,
    pandera_agrees,
    validate_delivery,
)
from dl_platform.sources.registry import parse_registry

REGISTRY = """
sources:
  visits:
    title: Visits
    role: contributing
    primacy: 1
    load: append
    period: {start: 2020-01-01, end: 2024-12-31, date_column: visit_date}
    identifiers: {record_id: vid, date_of_birth: dob}
"""
SOURCE = parse_registry(REGISTRY, Path("sources.yml"))["visits"]
TODAY = dt.date(2025, 6, 30)


def _rows(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["vid", "dob", "visit_date"], dtype="string")
    frame["_row_number"] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    return frame


def _staged(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.register("frame", frame)
    conn.execute("create temp table staged as select * from frame")
    apply_rules(conn, "staged", SOURCE, "broken")
    return conn


def _sql_rules(conn: duckdb.DuckDBPyConnection) -> dict[int, str]:
    rows = conn.execute("select _row_number, _rules from broken").fetchall()
    return {n: ";".join(sorted(r)) for n, r in rows}


def _pandera_rules(frame: pd.DataFrame) -> dict[int, str]:
    _, quarantine = validate_delivery(frame, SOURCE)
    return dict(zip(quarantine["_row_number"], quarantine["rule"], strict=True))


def test_bad_dates_stay_valid_and_structural_faults_are_quarantined():
    rows = _rows([
        ("V1", "19450493", "2021-05-01"), ("V2", "29/02/1981", "2999-01-01"),
        ("V3", "1875-01-01", "x"), ("V4", "1980-01-01", "2021-05-01"),
        ("V4", "1980-01-01", "2021-05-02"), (None, "1980-01-01", "2021-05-01"),
    ])
    conn = _staged(rows)
    assert _sql_rules(conn) == {5: "record_id_unique", 6: "record_id_unique", 7: "record_id_present"}
    assert _pandera_rules(rows) == _sql_rules(conn)
    accepted = conn.execute(accepted_sql("staged", "broken", "vid") + " order by vid").fetchall()
    assert [r[0] for r in accepted] == ["V1", "V2", "V3"]
    assert flag_counts(conn, accepted_sql("staged", "broken"), SOURCE, TODAY) == {
        "date_of_birth": {"before_1880": 1, "impossible_date": 2},
        "visit_date": {"in_the_future": 1, "unrecognised_format": 1},
    }
    assert pandera_agrees(conn, "staged", "broken", SOURCE) == 6


def test_clean_rows_have_fields_with_no_flags():
    conn = _staged(_rows([("V1", "1980-01-01", "2021-05-01")]))
    assert _sql_rules(conn) == {}
    assert flag_counts(conn, accepted_sql("staged", "broken"), SOURCE, TODAY) == {"date_of_birth": {}, "visit_date": {}}


def test_a_rule_that_drifts_from_its_pandera_form_stops_the_load():
    conn = _staged(_rows([("V1", "1980-01-01", "2021-05-01"), ("V2", "1980-01-01", "2021-05-01")]))
    conn.execute("insert into broken values (3, ['record_id_unique'])")  # SQL now holds V2 back alone
    with pytest.raises(ContractDisagreement, match=r"disagree on 1 of 2 rows checked \(rows \[3\]\)"):
        pandera_agrees(conn, "staged", "broken", SOURCE)


def test_the_contract_holds_no_date_rule():
    schema = build_contract(SOURCE)
    assert schema.columns["dob"].checks == [] and schema.columns["visit_date"].checks == []
    assert "flagged_values" in schema.columns["dob"].description
    assert set(REASONS) == {"record_id_present", "record_id_unique", "field_count", "csv_syntax"}


# Few distinct ids, so duplicates and missing ids are common; text with blanks and odd characters.
_IDS = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "a", "A ", "Ä", "0", "00"]))
_TEXT = st.one_of(st.none(), st.text(max_size=6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_IDS, _TEXT, _TEXT), max_size=25))
def test_sql_rules_and_pandera_agree_on_generated_deliveries(records):
    rows = _rows(records)
    assert _sql_rules(_staged(rows)) == _pandera_rules(rows)


def test_sql_rules_and_pandera_agree_on_pandera_generated_rows():
    """Rows pandera's own hypothesis strategy draws from the contract (its checks filter out
    duplicate ids, so duplicates are added on purpose)."""
    schema = build_contract(SOURCE)
    drawn = schema.example(size=6)
    drawn = pd.concat([drawn, drawn.head(3)], ignore_index=True)  # three ids now appear twice
    frame = drawn.astype({c: "string" for c in drawn.columns if c != "_row_number"})
    frame["_row_number"] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    sql = _sql_rules(_staged(frame))
    assert sql == _pandera_rules(frame)
    assert sum(r == "record_id_unique" for r in sql.values()) >= 6
