"""Read one delivery file into strings, keeping every row's file position.

Reading never drops a row: rows whose field count differs from the header (ragged or
truncated lines) come back separately so they can be quarantined with their line
number. File-level problems (empty file, undecodable bytes, a missing mapped column)
raise `DeliveryError` naming the file, the line and the rule.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from dl_platform.sources.registry import Source

DELIVERY_SUFFIXES = (".csv", ".parquet")
ROW_NUMBER = "_row_number"


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
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DELIVERY_SUFFIXES
        and not p.name.startswith(".")
    )


def _decode(path: Path, data: bytes, encoding: str) -> str:
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


def _check_header(path: Path, header: list[str], source: Source, delimiter: str) -> None:
    if len(set(header)) != len(header):
        dupes = sorted({c for c in header if header.count(c) > 1})
        raise DeliveryError(path, "header", f"column '{dupes[0]}' appears more than once", 1)
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
    near = [f"'{m}' (found '{lower[m.lower()]}')" for m in missing if m.lower() in lower]
    if near:
        hint += f"; case differs for {', '.join(near)}"
    raise DeliveryError(
        path, "mapped_column_present",
        f"mapped column(s) missing: {', '.join(repr(m) for m in missing)}{hint}", 1,
    )


def _read_csv(path: Path, data: bytes, source: Source) -> tuple[list[str], pd.DataFrame, list[dict]]:
    text = _decode(path, data, source.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter, strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DeliveryError(path, "not_empty", "file has no header line") from None
    _check_header(path, header, source, source.delimiter)
    width = len(header)
    good: list[list[str]] = []
    lines: list[int] = []
    malformed: list[dict] = []
    try:
        for row in reader:
            if not row:
                continue
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
        path: a CSV or Parquet file in the source's landing folder.
        source: the registry entry (encoding, delimiter, mapped columns).

    Returns:
        The parsed delivery; empty strings become nulls.

    Raises:
        DeliveryError: the file is empty, undecodable, unreadable or lacks a mapped column.
    """
    size = path.stat().st_size
    if size == 0:
        raise DeliveryError(path, "not_empty", "file is empty (0 bytes)")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".parquet":
        header, frame, malformed = _read_parquet(path, source)
    else:
        header, frame, malformed = _read_csv(path, data, source)
    for column in header:
        stripped = frame[column].str.strip()
        frame[column] = stripped.mask(stripped == "")
    return Delivery(path=path, sha256=sha, size=size, columns=header, rows=frame, malformed=malformed)
