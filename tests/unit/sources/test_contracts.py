"""The contract quarantines structural faults only; unusable dates are kept and counted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dl_platform.sources.contracts import REASONS, build_contract, flag_values, validate_delivery
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
TODAY = pd.Timestamp("2025-06-30")


def _rows(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["vid", "dob", "visit_date"], dtype="string")
    frame["_row_number"] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    return frame


def test_bad_dates_stay_valid_and_structural_faults_are_quarantined():
    rows = _rows([
        ("V1", "19450493", "2021-05-01"), ("V2", "29/02/1981", "2999-01-01"),
        ("V3", "1875-01-01", "x"), ("V4", "1980-01-01", "2021-05-01"),
        ("V4", "1980-01-01", "2021-05-02"), (None, "1980-01-01", "2021-05-01"),
    ])
    valid, quarantine = validate_delivery(rows, SOURCE)
    assert valid["vid"].tolist() == ["V1", "V2", "V3"]
    assert quarantine["rule"].tolist() == ["record_id_unique", "record_id_unique", "record_id_present"]
    assert flag_values(valid, SOURCE, TODAY) == {
        "date_of_birth": {"before_1880": 1, "impossible_date": 2},
        "visit_date": {"in_the_future": 1, "unrecognised_format": 1},
    }


def test_clean_rows_have_fields_with_no_flags():
    valid, quarantine = validate_delivery(_rows([("V1", "1980-01-01", "2021-05-01")]), SOURCE)
    assert quarantine.empty
    assert flag_values(valid, SOURCE, TODAY) == {"date_of_birth": {}, "visit_date": {}}


def test_the_contract_holds_no_date_rule():
    schema = build_contract(SOURCE)
    assert schema.columns["dob"].checks == [] and schema.columns["visit_date"].checks == []
    assert "flagged_values" in schema.columns["dob"].description
    assert set(REASONS) == {"record_id_present", "record_id_unique", "field_count"}
