"""File-level faults the reader names before any row is loaded, and what it stages (no Dagster,
tiny files, an in-memory DuckDB)."""

from __future__ import annotations

import gzip
import hashlib
import lzma
from pathlib import Path

import duckdb
import pytest

from dl_platform.sources.reader import DeliveryError, drop_staged, list_deliveries, stage_delivery
from dl_platform.sources.registry import parse_registry

REGISTRY = """
sources:
  visits:
    title: Visits
    role: contributing
    primacy: 1
    load: append
    identifiers: {record_id: vid, nhs_number: nhs}
"""
SOURCE = parse_registry(REGISTRY, Path("sources.yml"))["visits"]
CSV = b"vid,nhs,code\nV1,,a\n"


def _read(tmp_path: Path, name: str, data: bytes, source=SOURCE):
    path = tmp_path / name
    path.write_bytes(data)
    conn = duckdb.connect()
    conn.execute(f"set temp_directory = '{tmp_path / 'spill'}'")
    delivery = stage_delivery(conn, path, source, "staged")
    delivery.staged = conn.execute("select * from staged order by _row_number").df()
    drop_staged(conn, "staged")
    assert not conn.execute("select * from duckdb_tables() where temporary").fetchall()
    return delivery


def _error(tmp_path: Path, name: str, data: bytes) -> DeliveryError:
    with pytest.raises(DeliveryError) as exc:
        _read(tmp_path, name, data)
    return exc.value


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (lzma.compress(CSV), "xz-compressed"),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 16, "zstd-compressed"),
        (b"PK\x05\x06" + b"\x00" * 18, "a zip archive"),
    ],
)
def test_compressed_files_are_named_by_their_bytes(tmp_path, data, what):
    err = _error(tmp_path, "visits_1.csv", data)
    assert err.rule == "compression" and f"the file is {what}; unpack it first" in str(err)


def test_gzip_is_read_only_when_expected_and_hash_is_of_the_file(tmp_path):
    packed = gzip.compress(CSV)
    delivery = _read(tmp_path, "visits_1.CSV.GZ", packed)
    assert delivery.staged["vid"].tolist() == ["V1"] and delivery.size == len(packed)
    assert delivery.sha256 == hashlib.sha256(packed).hexdigest()
    assert _error(tmp_path, "visits_2.csv.gz", packed[:20]).rule == "compression"  # truncated stream
    assert _error(tmp_path, "visits_3.parquet", packed).rule == "compression"


def test_list_deliveries_includes_csv_gz_only_among_compressed(tmp_path):
    for name in ("a.csv", "b.csv.gz", "c.parquet", "d.zip", "e.gz", ".f.csv"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_deliveries(tmp_path)] == ["a.csv", "b.csv.gz", "c.parquet"]


def test_a_tab_delimited_file_gets_the_delimiter_hint_not_a_name_error(tmp_path):
    err = _error(tmp_path, "visits_1.csv", CSV.replace(b",", b"\t"))
    assert err.rule == "mapped_column_present" and "delimiter '\\t'" in str(err)


@pytest.mark.parametrize(
    ("header", "rule", "fragment"),
    [
        (b"vid,nhs,code,Code", "header", "'code' appears more than once (names are compared ignoring case)"),
        (b"vid,nhs,_loaded_at", "header_names", "'_loaded_at' has a name the platform reserves"),
        (b"vid,nhs,RECORD_ID", "header_names", "'RECORD_ID' has a name the platform reserves"),
        (b"vid,nhs,code,", "header_names", "column 4 name '' is empty or blank"),
        (b"vid,nhs,a\x0bb", "header_names", "column 3 name 'a\\x0bb' contains a control character"),
    ],
)
def test_header_names_that_would_break_the_tables_are_refused(tmp_path, header, rule, fragment):
    err = _error(tmp_path, "visits_1.csv", header + b"\nV1,,a,b\n")
    assert err.rule == rule and err.line == 1 and fragment in str(err)


def test_rows_are_numbered_by_their_line_and_malformed_lines_come_back(tmp_path):
    body = (b"vid,nhs,code\r\nV1, 943 ,a\r\n\r\nV2,,\"b, quoted\"\r\nV3,x\r\nV4,,c,extra\r\n"
            b"V5,,\"q\"\"uote\"\r\n  V6  ,,d")
    delivery = _read(tmp_path, "visits_1.csv", body)
    rows = delivery.staged
    assert rows["vid"].tolist() == ["V1", "V2", "V5", "V6"]
    assert rows["_row_number"].tolist() == [2, 4, 7, 8]  # line 3 is blank
    assert rows["nhs"].tolist()[:2] == ["943", None]  # spaces trimmed, blank is NULL
    assert rows["code"].tolist() == ["a", "b, quoted", 'q"uote', "d"]
    assert [(m["_row_number"], m["rule"]) for m in delivery.malformed] == [(5, "field_count"), (6, "field_count")]
    assert "row has 4 fields, header has 3" in delivery.malformed[1]["reason"]


def test_latin1_and_utf16_are_read_as_declared(tmp_path):
    text = "vid,nhs,code\nV1,,Zoë\nV2,,José\n"
    latin = parse_registry(REGISTRY.replace("identifiers:", "format: {encoding: latin-1}\n    identifiers:"),
                           Path("sources.yml"))["visits"]
    assert _read(tmp_path, "visits_1.csv", text.encode("latin-1"), latin).staged["code"].tolist() == ["Zoë", "José"]
    wide = parse_registry(REGISTRY.replace("identifiers:", "format: {encoding: utf-16}\n    identifiers:"),
                          Path("sources.yml"))["visits"]
    assert _read(tmp_path, "visits_2.csv", text.encode("utf-16"), wide).staged["code"].tolist() == ["Zoë", "José"]
    assert not list((tmp_path / "spill").glob("*.csv"))  # the UTF-8 copy is removed


def test_parquet_rows_keep_their_position_and_dates_read_as_iso(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"vid": ["V1", " V2 ", ""], "nhs": [None, "1", "2"],
                          "code": pd.to_datetime(["2020-01-02", None, "1999-12-31"])})
    path = tmp_path / "visits_1.parquet"
    frame.to_parquet(path)
    rows = _read(tmp_path, "visits_1.parquet", path.read_bytes()).staged
    assert rows["vid"].tolist() == ["V1", "V2", None] and rows["_row_number"].tolist() == [1, 2, 3]
    assert rows["code"].tolist() == ["2020-01-02", None, "1999-12-31"]
