"""Raw loading of hostile or unusual files through the real Dagster assets.

A header that tries to run SQL, NUL bytes, compressed files and archives, and empty appends:
each file is either rejected as a whole — logged, and failing the asset with a message naming
the file, the line or column and the rule — or loaded exactly like a plain CSV, and valid
deliveries in the same run still load.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import zipfile

import pandas as pd
import pytest

from dl_platform.quality.tables import select_columns, table_columns
from dl_platform.resources import open_warehouse
from tests.integration.test_raw_bad_input import (
    PEOPLE,
    VISITS,
    failure_message,
    land,
    make_env,
    metadata,
    query,
    run,
)

VISITS_HEADER = "vid,nhs,dob,visit_date,code"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _log() -> dict[str, tuple]:
    rows = query("select delivery_file, outcome, rows_read, message from raw.delivery_log")
    return {f: (o, n, m) for f, o, n, m in rows}


def _zip(name: str, content: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def test_sql_in_a_header_runs_nothing_and_rejects_the_file(env, tmp_path):
    outside = tmp_path / "outside"  # beside DL_DATA_DIR, not in it
    outside.mkdir()
    leak = outside / "leak.csv"
    land(env, "people", "people_1.csv", PEOPLE)
    assert run("people").success
    hostile = f"x\" varchar; copy (select * from raw.people__identifiers) to '{leak}'; --"
    land(env, "visits", "visits_2024-01.csv", VISITS)
    land(env, "visits", "visits_2024-02.csv", f"{VISITS_HEADER},{hostile}\nV9,,19800201,2021-05-01,X9,a\n")
    result = run("visits")
    assert not result.success
    msg = failure_message(result)
    assert "visits_2024-02.csv, line 1" in msg and "column 6" in msg
    assert "quote character" in msg and "rule: header_names" in msg
    assert str(leak) not in msg  # the header is shown shortened and escaped, not replayed whole
    assert list(outside.iterdir()) == []
    log = _log()
    assert log["visits_2024-01.csv"][0] == "loaded" and log["visits_2024-02.csv"][0] == "rejected"
    assert "header_names" in log["visits_2024-02.csv"][2]
    assert query("select record_id from raw.visits__identifiers order by 1") == [("V1",), ("V2",)]
    assert not [c for c, *_ in query("describe raw.visits__payload") if "copy" in c]
    # The next run reports the same file again without running it or logging it twice.
    assert not run("visits").success
    assert list(outside.iterdir()) == []
    assert query("select count(*) from raw.delivery_log where delivery_file = 'visits_2024-02.csv'") == [(1,)]


def test_unusual_payload_column_names_load_and_are_queryable(env):
    odd = ["Clinic Name (site)/ward", "a;b -- c", "pct%é"]
    body = f"{VISITS_HEADER},{','.join(odd)}\nV1,,19800201,2021-05-01,X1,North,1,5%\n"
    land(env, "visits", "visits_1.csv", body)
    assert run("visits").success
    assert query('select "Clinic Name (site)/ward", "a;b -- c", "pct%é" from raw.visits__payload') == [
        ("North", "1", "5%")]
    with open_warehouse(read_only=True) as conn:
        assert set(odd) <= set(table_columns(conn, "raw.visits__payload"))
        frame = select_columns(conn, "raw.visits__payload", ["record_id", *odd])
    assert frame.columns.tolist() == ["record_id", *odd] and frame.iloc[0]["a;b -- c"] == "1"


def test_nul_in_the_header_rejects_the_file_naming_the_column(env):
    land(env, "visits", "visits_1.csv", "vid,nhs,dob,visit_date,site\x00code\nV1,,19800201,2021-05-01,S1\n")
    land(env, "visits", "visits_2.csv", VISITS.replace("V1", "V7").replace("V2", "V8"))
    result = run("visits")
    msg = failure_message(result)
    assert "visits_1.csv, line 1" in msg and "column 5 ('site\\x00code')" in msg and "rule: nul_byte" in msg
    assert "UTF-16" not in msg  # one stray NUL is not an encoding problem
    assert not [c for c, *_ in query("describe raw.visits__payload") if "site" in c]
    assert query("select record_id from raw.visits__identifiers order by 1") == [("V7",), ("V8",)]


def test_nul_in_a_data_row_rejects_the_file_naming_line_and_column(env):
    body = VISITS + "V3,,19800201,2021-05-01,X\x003\n"
    land(env, "visits", "visits_1.csv", body)
    msg = failure_message(run("visits"))
    assert "visits_1.csv, line 4" in msg and "column 5 ('code')" in msg and "rule: nul_byte" in msg
    assert query("select count(*) from raw.visits__identifiers") == [(0,)]
    assert _log()["visits_1.csv"][0] == "rejected"


def test_utf16_files_get_an_encoding_hint(env):
    land(env, "visits", "visits_1.csv", VISITS.encode("utf-16-le"))  # no byte-order mark: NULs everywhere
    land(env, "visits", "visits_2.csv", VISITS.encode("utf-16"))  # with a byte-order mark
    msg = failure_message(run("visits"))
    first, second = msg.split(" | ")
    assert "visits_1.csv" in first and "rule: nul_byte" in first and "format.encoding: utf-16" in first
    assert "visits_2.csv" in second and "byte-order mark" in second and "rule: encoding" in second


def test_gzip_named_csv_is_rejected_with_the_fix(env):
    land(env, "visits", "visits_1.csv", gzip.compress(VISITS.encode()))
    msg = failure_message(run("visits"))
    assert "visits_1.csv" in msg and "rule: compression" in msg
    assert "gzip-compressed; name it .csv.gz or set format.compression: gzip" in msg
    assert "utf-8" not in msg


def test_csv_gz_is_read_and_logged_with_the_hash_of_its_bytes(env):
    packed = gzip.compress(VISITS.encode())
    land(env, "visits", "visits_1.csv.gz", packed)
    result = run("visits")
    assert result.success and metadata(result)["rows_accepted"] == 2
    assert query("select record_id, _delivery_file from raw.visits__identifiers order by 1") == [
        ("V1", "visits_1.csv.gz"), ("V2", "visits_1.csv.gz")]
    assert query("select file_sha256 from raw.delivery_log") == [(hashlib.sha256(packed).hexdigest(),)]
    land(env, "visits", "visits_2.csv.gz", VISITS.encode())  # named .csv.gz, but plain text
    msg = failure_message(run("visits"))
    assert "visits_2.csv.gz" in msg and "named .csv.gz but is not gzip-compressed" in msg


def test_registry_declared_gzip_is_read_and_a_plain_file_refused(env):
    land(env, "packed", "packed_1.csv", gzip.compress(b"vid,nhs,note\nP1,9434765919,a\nP2,,b\n"))
    assert run("packed").success
    assert query("select record_id from raw.packed__identifiers order by 1") == [("P1",), ("P2",)]
    land(env, "packed", "packed_2.csv", "vid,nhs,note\nP3,,c\n")
    msg = failure_message(run("packed"))
    assert "packed_2.csv" in msg and "declares format.compression: gzip" in msg


def test_archives_and_other_compression_are_rejected_with_what_they_are(env):
    land(env, "visits", "visits_1.csv", _zip("visits_1.csv", VISITS))
    land(env, "visits", "visits_2.csv", bz2.compress(VISITS.encode()))
    land(env, "visits", "visits_3.csv", VISITS)
    result = run("visits")
    msg = failure_message(result)
    assert "visits_1.csv: the file is a zip archive; unpack it first (rule: compression)" in msg
    assert "visits_2.csv: the file is bzip2-compressed; unpack it first (rule: compression)" in msg
    log = _log()
    assert [log[f][0] for f in ("visits_1.csv", "visits_2.csv", "visits_3.csv")] == [
        "rejected", "rejected", "loaded"]


def test_empty_appends_are_logged_as_empty_and_not_reread(env):
    header_only = f"{VISITS_HEADER}\n"
    land(env, "visits", "visits_2024-01.csv", header_only)
    land(env, "visits", "visits_2024-02.csv", header_only)  # same bytes: another quiet month, not a duplicate
    folder = env / "landing" / "visits"
    pd.DataFrame({c: pd.Series(dtype="string") for c in VISITS_HEADER.split(",")}).to_parquet(
        folder / "visits_2024-03.parquet", index=False)
    land(env, "visits", "visits_2024-04.csv", VISITS)
    result = run("visits")
    assert result.success
    md = metadata(result)
    assert md["deliveries_new"] == 4 and md["deliveries_empty"] == 3 and md["rows_accepted"] == 2
    assert "| visits_2024-03.parquet |" in md["deliveries"] and "| empty |" in md["deliveries"]
    log = _log()
    assert {f: log[f][:2] for f in log} == {
        "visits_2024-01.csv": ("empty", 0), "visits_2024-02.csv": ("empty", 0),
        "visits_2024-03.parquet": ("empty", 0), "visits_2024-04.csv": ("loaded", 2)}
    again = run("visits")
    assert again.success and metadata(again)["deliveries_new"] == 0
    assert query("select count(*) from raw.delivery_log") == [(4,)]
