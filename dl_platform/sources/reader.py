"""Read one delivery file into strings, keeping every row's file position.

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
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

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
    """A parsed delivery: well-formed rows as strings, plus rows that could not be split."""

    path: Path
    sha256: str
    size: int
    columns: list[str]
    rows: pd.DataFrame  # delivery columns as nullable strings + _row_number
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


def _read_csv(path: Path, data: bytes, source: Source) -> tuple[list[str], pd.DataFrame, list[dict]]:
    text = _decode(path, _unpack_csv(path, data, source), source.encoding)
    has_nul = "\x00" in text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter, strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DeliveryError(path, "not_empty", "file has no header line") from None
    if has_nul:
        _refuse_nul(path, header, 1, header, text)
    _check_header(path, header, source, source.delimiter)
    width = len(header)
    good: list[list[str]] = []
    lines: list[int] = []
    malformed: list[dict] = []
    try:
        for row in reader:
            if not row:
                continue
            if has_nul:
                _refuse_nul(path, row, reader.line_num, header, text)
            if len(row) == width:
                good.append(row)
                lines.append(reader.line_num)
            else:
                malformed.append({
                    ROW_NUMBER: reader.line_num,
                    "rule": "field_count",
                    "reason": f"row has {len(row)} fields, header has {width} (ragged or truncated line)",
                    "record": json.dumps(dict(zip(header, row, strict=False)) | {"_extra": row[width:]}),
                })
    except csv.Error as exc:
        raise DeliveryError(path, "csv_syntax", f"unreadable CSV: {exc}", reader.line_num) from None
    frame = pd.DataFrame(good, columns=header, dtype="string")
    frame[ROW_NUMBER] = pd.Series(lines, dtype="int64")
    return header, frame, malformed


def _read_parquet(path: Path, source: Source) -> tuple[list[str], pd.DataFrame, list[dict]]:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DeliveryError(path, "parquet_readable", f"not a readable Parquet file: {exc}") from None
    header = list(table.column_names)
    _check_header(path, header, source, source.delimiter)
    frame = table.to_pandas()
    for column in header:
        col = frame[column]
        if pd.api.types.is_datetime64_any_dtype(col):
            frame[column] = col.dt.strftime("%Y-%m-%d")
        frame[column] = frame[column].astype("string")
    frame[ROW_NUMBER] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    return header, frame, []


def read_delivery(path: Path, source: Source) -> Delivery:
    """Read a delivery for `source`.

    Args:
        path: a CSV (`.csv`, `.csv.gz`) or Parquet file in the source's landing folder.
        source: the registry entry (encoding, delimiter, compression, mapped columns).

    Returns:
        The parsed delivery; empty strings become nulls.

    Raises:
        DeliveryError: the file is empty, compressed unexpectedly, undecodable, holds NUL bytes,
            is unreadable, has an unusable header name or lacks a mapped column.
    """
    size = path.stat().st_size
    if size == 0:
        raise DeliveryError(path, "not_empty", "file is empty (0 bytes)")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".parquet":
        kind = _container(data)
        if kind is not None:
            raise DeliveryError(path, "compression", f"the file is {_DESCRIBED[kind]}; unpack it first "
                                "(Parquet compresses its own columns)")
        header, frame, malformed = _read_parquet(path, source)
    else:
        header, frame, malformed = _read_csv(path, data, source)
    for column in header:
        stripped = frame[column].str.strip()
        frame[column] = stripped.mask(stripped == "")
    return Delivery(path=path, sha256=sha, size=size, columns=header, rows=frame, malformed=malformed)
