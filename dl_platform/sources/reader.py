"""Stage one delivery file as a DuckDB temp view of strings, keeping every row's file position.

DuckDB parses the rows (`read_csv` with its rejects table, `read_parquet`); Python only
looks at the bytes as a whole (size, hash, compression, encoding, NUL bytes, the header).
Reading never drops a row: rows whose field count differs from the header (ragged or
truncated lines) come back separately so they can be quarantined with their line
number. File-level problems raise `DeliveryError` naming the file, the line and the rule:
an empty file, undecodable bytes, NUL bytes (a sign of UTF-16 or a corrupt export), a
compressed file or archive the registry did not declare, a header name that is blank,
too long or carries quotes or control characters (it would become a warehouse column),
and a missing mapped column. Compression is recognised by the file's magic bytes, never
its name alone; gzip is read when the file is named `.csv.gz` or the registry declares
`format.compression: gzip`.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from dl_platform.resources.sql import quote_identifier, quote_literal, single_statement
from dl_platform.sources.names import column_name_problem, shown_name
from dl_platform.sources.registry import Source

DELIVERY_SUFFIXES = (".csv", ".csv.gz", ".parquet")
ROW_NUMBER = "_row_number"
# Columns the loader adds to every raw row; a delivery column of the same name would be overwritten.
PROVENANCE = ("_delivery_file", "_file_sha256", ROW_NUMBER, "_loaded_at")
# Leading bytes of the compressed and archive formats suppliers send (bzip2 also checks its block magic).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x1f\x8b", 0, "gzip"),
    (b"PK\x03\x04", 0, "zip"),
    (b"PK\x05\x06", 0, "zip"),
    (b"1AY&SY", 4, "bzip2"),
    (b"\xfd7zXZ\x00", 0, "xz"),
    (b"\x28\xb5\x2f\xfd", 0, "zstd"),
)
_DESCRIBED = {"zip": "a zip archive", "bzip2": "bzip2-compressed", "xz": "xz-compressed",
              "zstd": "zstd-compressed", "gzip": "gzip-compressed"}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# A NUL in more than this share of characters means the whole file is in a wider encoding.
_NUL_SHARE_FOR_UTF16 = 0.2
_uid = itertools.count()
# Python codec name -> the name DuckDB's CSV reader knows it by (same bytes per line break).
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "iso8859-1": "latin-1"}


class DeliveryError(ValueError):
    """A delivery that cannot be loaded at all; the message names file, line and rule."""

    def __init__(self, file: Path, rule: str, message: str, line: int | None = None):
        where = f"{file.name}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message} (rule: {rule})")
        self.file = file
        self.rule = rule
        self.line = line


@dataclass
class Delivery:
    """A staged delivery: its well-formed rows are in a temp table, the others listed here."""

    path: Path
    sha256: str
    size: int
    columns: list[str]
    rows: int  # well-formed rows staged
    malformed: list[dict]  # {_row_number, rule, reason, record}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_deliveries(folder: Path) -> list[Path]:
    """Delivery files in a landing folder, oldest name first (names carry the delivery date)."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(DELIVERY_SUFFIXES)
        and not p.name.startswith(".")
    )


def _container(data: bytes) -> str | None:
    """The compression or archive format `data` starts with, if any."""
    for magic, offset, kind in _MAGIC:
        if data[offset:offset + len(magic)] == magic and (kind != "bzip2" or data[:3] == b"BZh"):
            return kind
    return None


def _unpack_csv(path: Path, data: bytes, source: Source) -> bytes:
    """CSV bytes from the file's bytes: gunzipped when gzip is expected, refused when unexpected."""
    named_gz = path.name.lower().endswith(".csv.gz")
    declared = source.compression == "gzip"
    kind = _container(data)
    if kind == "gzip" and (named_gz or declared):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise DeliveryError(path, "compression", "the gzip stream is corrupt or truncated") from None
        if not data:
            raise DeliveryError(path, "not_empty", "file is empty once decompressed")
        return data
    if kind == "gzip":
        raise DeliveryError(path, "compression", "the file is gzip-compressed; name it .csv.gz or set "
                            "format.compression: gzip in the registry")
    if kind is not None:
        raise DeliveryError(path, "compression", f"the file is {_DESCRIBED[kind]}; unpack it first")
    if named_gz:
        raise DeliveryError(path, "compression", "the file is named .csv.gz but is not gzip-compressed")
    if declared:
        raise DeliveryError(path, "compression", "the file is not gzip-compressed, but the registry "
                            "declares format.compression: gzip; fix the file or the registry")
    return data


def _decode(path: Path, data: bytes, encoding: str) -> str:
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    if not wide and data.startswith(_UTF16_BOMS):
        raise DeliveryError(
            path, "encoding", "the file starts with a UTF-16 byte-order mark; it looks UTF-16 — declare "
            "format.encoding: utf-16 in the registry", 1,
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DeliveryError(
            path, "encoding",
            f"bytes are not valid {encoding}; declare the file's encoding in the registry "
            "(format.encoding, e.g. latin-1)", line,
        ) from None
    return text.removeprefix("\ufeff")


def _refuse_nul(path: Path, fields: list[str], line: int, header: list[str], text: str) -> None:
    """Reject the file at the first field holding a NUL; hint at UTF-16 when NULs are everywhere."""
    position = next((i for i, value in enumerate(fields) if "\x00" in value), None)
    if position is None:
        return
    where = f"column {position + 1}"
    if position < len(header):
        where += f" ({shown_name(header[position])})"
    hint = ""
    if text.count("\x00") > _NUL_SHARE_FOR_UTF16 * len(text):
        hint = "; NUL bytes run through the whole file — it looks UTF-16: declare format.encoding: utf-16"
    raise DeliveryError(
        path, "nul_byte", f"{where} holds a NUL byte (\\x00), which no text column may carry{hint}", line,
    )


def _check_names(path: Path, header: list[str], source: Source) -> None:
    """Header names become warehouse columns: refuse unusable, duplicate or reserved ones."""
    for position, name in enumerate(header, start=1):
        problem = column_name_problem(name)
        if problem:
            raise DeliveryError(
                path, "header_names", f"column {position} name {shown_name(name)} {problem}; "
                "the file cannot be loaded until its header is fixed", 1,
            )
    # The warehouse compares column names ignoring case, so 'Code' and 'code' are one column there.
    lowered = [c.lower() for c in header]
    if len(set(lowered)) != len(lowered):
        dupe = next(c for c in header if lowered.count(c.lower()) > 1)
        raise DeliveryError(
            path, "header", f"column {shown_name(dupe)} appears more than once (names are compared "
            "ignoring case)", 1,
        )
    reserved = {c.lower() for c in PROVENANCE}
    if source.record_id_column.lower() != "record_id":
        reserved.add("record_id")  # the payload renames the record_id column to this
    clash = next((c for c in header if c.lower() in reserved), None)
    if clash is not None:
        raise DeliveryError(
            path, "header_names", f"column {shown_name(clash)} has a name the platform reserves for "
            "its own columns; rename it in the delivery", 1,
        )


def _check_header(path: Path, header: list[str], source: Source, delimiter: str) -> None:
    # Missing mapped columns first: a wrong delimiter (a tab, say) shows up there with its hint.
    _check_mapped_columns(path, header, source, delimiter)
    required = [c.name for c in source.payload if c.required and c.name not in header]
    if required:
        raise DeliveryError(
            path, "required_column_present",
            f"required payload column(s) missing: {', '.join(repr(c) for c in required)} "
            "(declared under payload: in the registry)", 1,
        )
    _check_names(path, header, source)


def _check_mapped_columns(path: Path, header: list[str], source: Source, delimiter: str) -> None:
    missing = [c for c in source.identifiers.values() if c not in header]
    if source.period and source.period.date_column not in header:
        missing.append(source.period.date_column)
    if not missing:
        return
    hint = ""
    if len(header) == 1:
        guess = next((d for d in (";", "|", "\t", ",") if d != delimiter and d in header[0]), None)
        if guess:
            hint = f"; the header has a single column — is the delimiter {guess!r}? (format.delimiter)"
    lower = {c.lower(): c for c in header}
    near = [f"{m!r} (found {shown_name(lower[m.lower()])})" for m in missing if m.lower() in lower]
    if near:
        hint += f"; case differs for {', '.join(near)}"
    raise DeliveryError(
        path, "mapped_column_present",
        f"mapped column(s) missing: {', '.join(repr(m) for m in missing)}{hint}", 1,
    )


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        # The header is the first record: a slice is enough (StringIO would copy the whole file).
        return [h.strip() for h in next(csv.reader(io.StringIO(text[: 1 << 20], newline=""), delimiter=delimiter))]
    except StopIteration:
        return []


def _find_nul(path: Path, text: str, header: list[str], delimiter: str) -> None:
    """Name the first field holding a NUL (only run when the file has one: a Python pass)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    for row in reader:
        _refuse_nul(path, row, reader.line_num, header, text)


def _record_lines(data: bytes) -> np.ndarray:
    """1-based numbers of the non-blank lines after the header: each is one record's line
    when no quoted field spans lines (`_number_rows` checks)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord("\n"))
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    length = stops - starts
    # A line holding only "\r" (CRLF files) is blank too.
    cr_only = (length == 1) & (buf[np.minimum(starts, max(len(buf) - 1, 0))] == ord("\r"))
    lines = np.flatnonzero((length > 0) & ~cr_only) + 1
    return lines[lines > 1]


def _clean(column: str, expression: str | None = None) -> str:
    """Delivered text as stored: surrounding spaces removed, blank as NULL."""
    return f"nullif(trim({expression or quote_identifier(column)}), '') as {quote_identifier(column)}"


def _reject_reason(error_type: str, message: str, fields: int, width: int) -> tuple[str, str]:
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        return "field_count", f"row has {fields} fields, header has {width} (ragged or truncated line)"
    return "csv_syntax", f"unreadable line: {message}"


def _stage_csv(conn: Any, path: Path, data: bytes, source: Source, table: str) -> tuple[list[str], list[dict]]:
    raw = _unpack_csv(path, data, source)
    text = _decode(path, raw, source.encoding)
    header = _first_record(text, source.delimiter)
    if not header:
        raise DeliveryError(path, "not_empty", "file has no header line")
    if "\x00" in text:
        _find_nul(path, text, header, source.delimiter)
    _check_header(path, header, source, source.delimiter)
    # DuckDB reads UTF-8 and Latin-1 files itself; anything else (or a gzip stream, checked
    # above) it gets as a UTF-8 copy in its spill folder.
    native = _DUCKDB_ENCODINGS.get(codecs.lookup(source.encoding).name)
    target, encoding, lines_of = path, native, raw
    if raw is not data or native is None:
        spill = Path(conn.execute("select current_setting('temp_directory')").fetchall()[0][0] or ".")
        spill.mkdir(parents=True, exist_ok=True)
        target, encoding = spill / f"__dl_delivery_{next(_uid)}.csv", "utf-8"
        lines_of = text.encode("utf-8")
        target.write_bytes(lines_of)
    rejects, scans, scanned = f"{table}__rejects", f"{table}__reject_scans", f"{table}__scan"
    columns = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in header) + "}"
    try:
        conn.execute(single_statement(
            f"""create or replace temp table {scanned} as select {', '.join(_clean(c) for c in header)} from read_csv(
                {quote_literal(str(target))}, header = true, auto_detect = false, columns = {columns},
                delim = {quote_literal(source.delimiter)}, quote = '"', escape = '"',
                encoding = {quote_literal(encoding)},
                store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}')"""
        ))
        rejected = conn.execute(
            f"select line, any_value(error_type), any_value(error_message), any_value(csv_line) "
            f"from {rejects} group by line order by line"
        ).fetchall()
    finally:
        if target != path:
            target.unlink(missing_ok=True)
    malformed = []
    for line, error_type, message, csv_line in rejected:
        # DuckDB may keep the line break before the line (CRLF files): not part of the record.
        line_text = (csv_line or "").strip("\r\n")
        fields = next(csv.reader(io.StringIO(line_text, newline=""), delimiter=source.delimiter), [])
        rule, reason = _reject_reason(str(error_type), str(message), len(fields), len(header))
        record = dict(zip(header, fields, strict=False)) | ({"_extra": fields[len(header):]}
                                                             if len(fields) > len(header) else {})
        malformed.append({ROW_NUMBER: int(line), "rule": rule, "reason": reason, "record": json.dumps(record)})
    for name in (rejects, scans):
        conn.execute(f"drop table if exists {name}")
    _number_rows(conn, scanned, _record_lines(lines_of), [m[ROW_NUMBER] for m in malformed], table)
    return header, malformed


def _number_rows(conn: Any, scanned: str, lines: np.ndarray, rejected: list[int], table: str) -> None:
    """View `table`: the scanned rows, each with the line it came from (`_row_number`).

    DuckDB keeps file order (rowid) but not line numbers. Every non-blank line after the
    header is one record unless a quoted field spans lines; then records are numbered in order
    instead (header = 1), which is what DuckDB's rejects count too. Usually the lines run on
    without a gap (line = rowid + 2); otherwise each row looks its line up in one list.
    """
    n_rows = conn.execute(f"select count(*) from {scanned}").fetchall()[0][0]
    bad = np.array(sorted(set(rejected)), dtype="int64")
    if len(lines) != n_rows + len(bad) or not np.isin(bad, lines).all():
        lines = np.arange(2, n_rows + len(bad) + 2)
    accepted = lines[~np.isin(lines, bad)]
    if len(accepted) == 0 or accepted[-1] - accepted[0] == len(accepted) - 1:
        start = int(accepted[0]) if len(accepted) else 2
        conn.execute(f"create or replace temp view {table} as select *, rowid + {start} as {ROW_NUMBER} from {scanned}")
        return
    conn.register("__dl_lines", pd.DataFrame({ROW_NUMBER: accepted.astype("int64")}))
    try:
        conn.execute(f"create or replace temp table {table}__lines as "
                     f"select list({ROW_NUMBER} order by {ROW_NUMBER}) as lines from __dl_lines")
    finally:
        conn.unregister("__dl_lines")
    conn.execute(
        f"""create or replace temp view {table} as
        select s.*, l.lines[s.rowid + 1] as {ROW_NUMBER} from {scanned} s cross join {table}__lines l"""
    )


def _stage_parquet(conn: Any, path: Path, data: bytes, source: Source, table: str) -> list[str]:
    kind = _container(data)
    if kind is not None:
        raise DeliveryError(path, "compression", f"the file is {_DESCRIBED[kind]}; unpack it first "
                            "(Parquet compresses its own columns)")
    scan = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
    try:
        described = conn.execute(f"describe select * from {scan}").fetchall()
    except duckdb.Error as exc:
        raise DeliveryError(path, "parquet_readable", f"not a readable Parquet file: {exc}") from None
    types = {name: kind for name, kind, *_ in described if name != "file_row_number"}
    header = list(types)
    _check_header(path, header, source, source.delimiter)

    def text(column: str) -> str:
        q, kind = quote_identifier(column), types[column].upper()
        if kind.startswith(("DATE", "TIMESTAMP")):
            return f"strftime({q}, '%Y-%m-%d') as {q}"
        # Only text can carry surrounding spaces or be blank.
        return _clean(column) if kind == "VARCHAR" else f"cast({q} as varchar) as {q}"

    try:
        conn.execute(single_statement(
            f"""create or replace temp table {table}__scan as
            select {', '.join(text(c) for c in header)}, file_row_number + 1 as {ROW_NUMBER} from {scan}"""
        ))
    except duckdb.Error as exc:
        raise DeliveryError(path, "parquet_readable", f"not a readable Parquet file: {exc}") from None
    conn.execute(f"create or replace temp view {table} as select * from {table}__scan")
    return header


@contextmanager
def _file_order(conn: Any) -> Iterator[None]:
    """Staged rows must keep file order (rowid numbers CSV rows): warehouse connections
    drop insertion order for speed, so it is switched back on while staging."""
    before = conn.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    conn.execute("set preserve_insertion_order = true")
    try:
        yield
    finally:
        conn.execute(f"set preserve_insertion_order = {'true' if before else 'false'}")


def drop_staged(conn: Any, table: str) -> None:
    """Drop what `stage_delivery` created for `table` (safe when nothing was)."""
    conn.execute(f"drop view if exists {table}")
    for suffix in ("__scan", "__lines", "__rejects", "__reject_scans"):
        conn.execute(f"drop table if exists {table}{suffix}")


def stage_delivery(conn: Any, path: Path, source: Source, table: str, sha256: str | None = None) -> Delivery:
    """Stage a delivery for `source` as temp view `table` of the DuckDB connection `conn`
    (backed by temp tables `drop_staged` removes).

    The view holds every well-formed row: the delivery's columns as text (surrounding
    spaces removed, blank as NULL) and `_row_number` (the CSV line, or the Parquet row).
    DuckDB parses the file (`read_csv` with its rejects table, `read_parquet`): no Python
    loop over rows. Rows that could not be split come back in `malformed`.

    Raises:
        DeliveryError: the file is empty, compressed unexpectedly, undecodable, holds NUL bytes,
            is unreadable, has an unusable header name or lacks a mapped column.
    """
    size = path.stat().st_size
    if size == 0:
        raise DeliveryError(path, "not_empty", "file is empty (0 bytes)")
    data = path.read_bytes()
    sha = sha256 or hashlib.sha256(data).hexdigest()  # the caller may have hashed the file already
    malformed: list[dict] = []
    with _file_order(conn):
        if path.suffix.lower() == ".parquet":
            header = _stage_parquet(conn, path, data, source, table)
        else:
            header, malformed = _stage_csv(conn, path, data, source, table)
    rows = int(conn.execute(f"select count(*) from {table}").fetchall()[0][0])
    return Delivery(path=path, sha256=sha, size=size, columns=header, rows=rows, malformed=malformed)
