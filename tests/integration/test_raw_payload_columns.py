"""Declared payload columns: a missing required column rejects the delivery naming file and
column; values breaking a declared type, list or pattern are loaded and counted, never dropped."""

from __future__ import annotations

import pytest

from dl_platform.sources.contracts import build_contract
from dl_platform.sources.registry import RegistryError, load_registry, parse_registry
from tests.integration.test_raw_bad_input import failure_message, land, metadata, query, run

REGISTRY = """
sources:
  clinic:
    title: Clinic attendances
    role: contributing
    primacy: 2
    load: append
    period: {start: 2020-01-01, end: 2024-12-31, date_column: seen_on}
    identifiers: {record_id: id, nhs_number: nhs}
    payload:
      seen_on: {type: date, required: true}
      attendances: {type: integer}
      outcome: {allowed: [discharged, follow_up], required: true}
      site: {pattern: "R[A-Z0-9]{2,4}"}
"""
HEADER = "id,nhs,seen_on,attendances,outcome,site\n"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (tmp_path / "sources.yml").write_text(REGISTRY)
    monkeypatch.setenv("DL_DATA_DIR", str(data))
    monkeypatch.setenv("DL_SOURCES_FILE", str(tmp_path / "sources.yml"))
    return data


def test_missing_required_column_fails_naming_file_and_column(env):
    land(env, "clinic", "clinic_1.csv", "id,nhs,seen_on,attendances,site\nC1,,2021-01-01,1,RAE\n")
    msg = failure_message(run("clinic"))
    assert "clinic_1.csv, line 1" in msg and "'outcome'" in msg and "required_column_present" in msg
    assert query("select outcome, rows_read from raw.delivery_log") == [("rejected", 0)]


def test_values_breaking_the_declaration_are_kept_and_counted(env):
    body = HEADER + (
        "C1,,2021-01-01,1,discharged,RAE\n"
        "C2,,31/02/2021,x,lost,Q12\n"  # impossible date, not an integer, not allowed, wrong pattern
        "C3,,2021-02-01,2.5,,RAE1\n"  # not an integer; required outcome blank
        "C4,,2021-03-01,,follow_up,\n"  # optional columns may be blank
    )
    land(env, "clinic", "clinic_1.csv", body)
    result = run("clinic")
    assert result.success
    assert query("select record_id from raw.clinic__payload order by 1") == [("C1",), ("C2",), ("C3",), ("C4",)]
    flagged = metadata(result)["flagged_values"]
    assert flagged["attendances"] == {"not_an_integer": 2}
    assert flagged["outcome"] == {"missing": 1, "not_allowed": 1}
    assert flagged["site"] == {"pattern_mismatch": 1}
    assert flagged["seen_on"] == {"impossible_date": 1}
    assert "lost" not in str(flagged) and "Q12" not in str(flagged)  # counts only


def test_the_contract_shows_the_declarations_and_the_registry_refuses_bad_ones(env):
    source = load_registry(env.parent / "sources.yml")["clinic"]
    schema = build_contract(source)
    assert schema.columns["outcome"].required and not schema.columns["site"].required
    assert "one of discharged, follow_up" in schema.columns["outcome"].description
    bad = REGISTRY.replace("{type: integer}", "{type: money}")
    with pytest.raises(RegistryError, match=r"key 'payload.attendances.type': 'money' is not one of"):
        parse_registry(bad, env.parent / "sources.yml")
    with pytest.raises(RegistryError, match=r"payload.nhs'.*identifier column"):
        parse_registry(REGISTRY.replace("site: {pattern", "nhs: {pattern"), env.parent / "sources.yml")
