"""The source registry (`sources.yml`): parsed and validated once, at load.

Every error names the file, the source and the key, because the person fixing a
registry typo is usually not the person who wrote the code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dl_platform.safe_yaml import MAX_BYTES, ConfigFileError, parse_yaml
from dl_platform.sources.names import column_name_problem, shown_name

STANDARD_FIELDS: tuple[str, ...] = (
    "record_id",
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
)
ROLES = ("master", "contributing")
LOADS = ("snapshot", "append")
SOURCE_KEYS = {
    "title",
    "owner",
    "role",
    "primacy",
    "load",
    "cadence",
    "period",
    "identifiers",
    "format",
    "link",
    "checks",
    "payload",
}
REQUIRED_KEYS = ("title", "role", "primacy", "load", "identifiers")
PERIOD_KEYS = {"start", "end", "date_column"}
FORMAT_KEYS = {"encoding", "delimiter", "compression"}
COMPRESSIONS = ("none", "gzip")
# Quality-check thresholds a source may override (defaults live in dl_platform.quality).
CHECK_KEYS = {
    "volume_tolerance",
    "completeness",
    "expected_match_rate",
    "trend_tolerance",
    "max_quarantine_share",
    "max_cluster_anomaly_share",
}
CADENCES = ("daily", "weekly", "monthly", "quarterly", "annual", "adhoc")
# What a declared payload column may promise (values are checked by `sources.contracts`).
PAYLOAD_KEYS = {"type", "required", "allowed", "pattern", "description"}
PAYLOAD_TYPES = ("text", "date", "integer", "decimal")


class RegistryError(ValueError):
    """A registry that cannot be used; the message names file, source and key."""


@dataclass(frozen=True)
class Period:
    """The coverage period a source promises, and the column that dates each record."""

    start: dt.date
    end: dt.date
    date_column: str


@dataclass(frozen=True)
class PayloadColumn:
    """A non-identifier column a delivery promises: its presence is structural (a delivery
    without a required column is rejected); its values are judged and counted, never dropped."""

    name: str
    type: str = "text"
    required: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Source:
    """One registered dataset."""

    name: str
    title: str
    role: str
    primacy: int
    load: str
    identifiers: dict[str, str]
    owner: str | None = None
    cadence: str | None = None
    period: Period | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    compression: str = "none"
    link: bool = True
    checks: dict[str, Any] = field(default_factory=dict)
    payload: tuple[PayloadColumn, ...] = ()

    @property
    def is_master(self) -> bool:
        return self.role == "master"

    @property
    def identifier_fields(self) -> tuple[str, ...]:
        """Standard fields this source carries, in the standard order."""
        return tuple(f for f in STANDARD_FIELDS if f in self.identifiers)

    @property
    def record_id_column(self) -> str:
        return self.identifiers["record_id"]

    def delivery_column(self, standard_field: str) -> str:
        return self.identifiers[standard_field]


@dataclass(frozen=True)
class Registry:
    """All registered sources, in registry order."""

    path: Path
    sources: dict[str, Source]

    @property
    def master(self) -> Source | None:
        return next((s for s in self.sources.values() if s.is_master), None)

    @property
    def linked_sources(self) -> list[Source]:
        return [s for s in self.sources.values() if s.link]

    def __iter__(self):
        return iter(self.sources.values())

    def __getitem__(self, name: str) -> Source:
        return self.sources[name]


def _fail(path: Path, source: str | None, key: str | None, message: str) -> RegistryError:
    where = f"{path}"
    if source:
        where += f": source '{source}'"
    if key:
        where += f", key '{key}'"
    return RegistryError(f"{where}: {message}")


def _date(path: Path, name: str, key: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(path, name, key, f"'{value}' is not an ISO date (YYYY-MM-DD)") from None


def _parse_source(path: Path, name: str, raw: Any) -> Source:
    if not isinstance(raw, dict):
        raise _fail(path, name, None, "an entry must be a mapping of keys")
    unknown = sorted(set(raw) - SOURCE_KEYS)
    if unknown:
        raise _fail(path, name, unknown[0], f"unknown key (allowed: {', '.join(sorted(SOURCE_KEYS))})")
    for key in REQUIRED_KEYS:
        if key not in raw or raw[key] in (None, ""):
            raise _fail(path, name, key, "is required")
    if raw["role"] not in ROLES:
        raise _fail(path, name, "role", f"'{raw['role']}' is not one of {', '.join(ROLES)}")
    if raw["load"] not in LOADS:
        raise _fail(path, name, "load", f"'{raw['load']}' is not one of {', '.join(LOADS)}")
    primacy = raw["primacy"]
    if not isinstance(primacy, int) or isinstance(primacy, bool) or primacy < 1:
        raise _fail(path, name, "primacy", f"'{primacy}' must be a whole number >= 1")
    cadence = raw.get("cadence")
    if cadence is not None and cadence not in CADENCES:
        raise _fail(path, name, "cadence", f"'{cadence}' is not one of {', '.join(CADENCES)}")

    identifiers = raw["identifiers"]
    if not isinstance(identifiers, dict):
        raise _fail(path, name, "identifiers", "must map standard fields to delivery columns")
    for key, column in identifiers.items():
        if key not in STANDARD_FIELDS:
            raise _fail(
                path, name, f"identifiers.{key}",
                f"unknown identifier field (allowed: {', '.join(STANDARD_FIELDS)})",
            )
        if not isinstance(column, str) or not column.strip():
            raise _fail(path, name, f"identifiers.{key}", "must name a delivery column")
        problem = column_name_problem(column)
        if problem:
            raise _fail(path, name, f"identifiers.{key}", f"column name {shown_name(column)} {problem}")
    if "record_id" not in identifiers:
        raise _fail(path, name, "identifiers.record_id", "is required")
    columns = list(identifiers.values())
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise _fail(path, name, "identifiers", f"column '{dupes[0]}' is mapped twice")

    period = None
    if raw.get("period") is not None:
        p = raw["period"]
        if not isinstance(p, dict) or set(p) != PERIOD_KEYS:
            raise _fail(path, name, "period", "needs exactly start, end and date_column")
        start = _date(path, name, "period.start", p["start"])
        end = _date(path, name, "period.end", p["end"])
        if end < start:
            raise _fail(path, name, "period.end", "is before period.start")
        problem = column_name_problem(p["date_column"])
        if problem:
            shown = shown_name(p["date_column"])
            raise _fail(path, name, "period.date_column", f"column name {shown} {problem}")
        if p["date_column"] in columns:
            raise _fail(path, name, "period.date_column", "must be a payload column, not an identifier")
        period = Period(start, end, str(p["date_column"]))

    fmt = raw.get("format") or {}
    if not isinstance(fmt, dict):
        raise _fail(path, name, "format", "must be a mapping")
    bad = sorted(set(fmt) - FORMAT_KEYS)
    if bad:
        raise _fail(path, name, f"format.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(FORMAT_KEYS))})")
    encoding = str(fmt.get("encoding", "utf-8"))
    try:
        "".encode(encoding)
    except LookupError:
        raise _fail(path, name, "format.encoding", f"'{encoding}' is not a known encoding") from None
    delimiter = str(fmt.get("delimiter", ","))
    if len(delimiter) != 1:
        raise _fail(path, name, "format.delimiter", "must be a single character")
    compression = "none" if fmt.get("compression") is None else str(fmt["compression"])
    if compression not in COMPRESSIONS:
        raise _fail(
            path, name, "format.compression", f"'{compression}' is not one of {', '.join(COMPRESSIONS)}"
        )

    link = raw.get("link", True)
    if not isinstance(link, bool):
        raise _fail(path, name, "link", "must be true or false")
    checks = raw.get("checks") or {}
    if not isinstance(checks, dict):
        raise _fail(path, name, "checks", "must be a mapping")
    bad = sorted(set(checks) - CHECK_KEYS)
    if bad:
        raise _fail(path, name, f"checks.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(CHECK_KEYS))})")

    payload = _payload_columns(path, name, raw.get("payload"), columns)

    return Source(
        name=name,
        title=str(raw["title"]),
        owner=None if raw.get("owner") is None else str(raw["owner"]),
        role=raw["role"],
        primacy=primacy,
        load=raw["load"],
        cadence=cadence,
        period=period,
        identifiers={k: str(v) for k, v in identifiers.items()},
        encoding=encoding,
        delimiter=delimiter,
        compression=compression,
        link=link,
        checks=dict(checks),
        payload=payload,
    )


def _payload_columns(path: Path, name: str, raw: Any, identifier_columns: list[str]) -> tuple[PayloadColumn, ...]:
    """`payload:` maps delivery column names to what the column promises."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(path, name, "payload", "must map delivery column names to their rules")
    out = []
    for column, spec in raw.items():
        key = f"payload.{column}"
        problem = column_name_problem(str(column))
        if problem:
            raise _fail(path, name, key, f"column name {shown_name(str(column))} {problem}")
        if column in identifier_columns:
            raise _fail(path, name, key, "is an identifier column; payload rules are for the other columns")
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            raise _fail(path, name, key, f"must be a mapping (keys: {', '.join(sorted(PAYLOAD_KEYS))})")
        bad = sorted(set(spec) - PAYLOAD_KEYS)
        if bad:
            raise _fail(path, name, f"{key}.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(PAYLOAD_KEYS))})")
        kind = str(spec.get("type", "text"))
        if kind not in PAYLOAD_TYPES:
            raise _fail(path, name, f"{key}.type", f"'{kind}' is not one of {', '.join(PAYLOAD_TYPES)}")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise _fail(path, name, f"{key}.required", "must be true or false")
        allowed = spec.get("allowed")
        if allowed is not None:
            if not isinstance(allowed, list) or not allowed or any(isinstance(v, (dict, list)) for v in allowed):
                raise _fail(path, name, f"{key}.allowed", "must be a non-empty list of values")
            allowed = tuple(str(v) for v in allowed)
        pattern = spec.get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise _fail(path, name, f"{key}.pattern", f"is not a regular expression: {exc}") from None
            pattern = str(pattern)
        out.append(PayloadColumn(str(column), kind, required, allowed, pattern, str(spec.get("description") or "")))
    return tuple(out)


def parse_registry(text: str, path: Path) -> Registry:
    """Parse registry YAML text; `path` is only used in error messages."""
    try:
        doc = parse_yaml(text, path)
    except ConfigFileError as exc:
        raise RegistryError(str(exc)) from None
    if not isinstance(doc, dict) or set(doc) != {"sources"}:
        raise _fail(path, None, "sources", "the file must have exactly one top-level key, 'sources'")
    entries = doc["sources"]
    if not isinstance(entries, dict) or not entries:
        raise _fail(path, None, "sources", "must map at least one source name to its entry")
    sources: dict[str, Source] = {}
    for name, raw in entries.items():
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
            raise _fail(path, str(name), None, "source names must be lower-case snake_case identifiers")
        sources[name] = _parse_source(path, name, raw)
    masters = [s.name for s in sources.values() if s.is_master]
    if len(masters) > 1:
        raise _fail(path, masters[1], "role", f"at most one master is allowed (also: {masters[0]})")
    if masters and not sources[masters[0]].link:
        raise _fail(path, masters[0], "link", "the master source must be linked")
    primacies = [s.primacy for s in sources.values()]
    dupe = next((s for s in sources.values() if primacies.count(s.primacy) > 1), None)
    if dupe:
        raise _fail(path, dupe.name, "primacy", f"{dupe.primacy} is used by more than one source")
    return Registry(path=path, sources=sources)


def load_registry(path: Path | str) -> Registry:
    """Read and validate the registry file."""
    path = Path(path)
    if not path.exists():
        raise RegistryError(f"{path}: registry file not found (set DL_SOURCES_FILE)")
    if path.stat().st_size > MAX_BYTES:
        raise RegistryError(f"{path}: larger than {MAX_BYTES // 1024} KB; a registry never is")
    return parse_registry(path.read_text(encoding="utf-8"), path)
