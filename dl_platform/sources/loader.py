"""Load new deliveries of one source into the raw schema, idempotently.

For each file in `landing/<source>/` not yet seen (by name and sha256): stage it in DuckDB
(`reader.stage_delivery`), apply the contract's rules in SQL (`contracts.apply_rules`, cross-
checked by pandera on a sample), and in one transaction write, with `insert ... select`, the valid rows split into
`raw.<source>__identifiers` and `raw.<source>__payload` (the split-file principle), the
structurally invalid rows to `raw.<source>__quarantine`, and a row to `raw.delivery_log`.
Rows with unusable dates load like any other and are counted per field and kind
(`flagged_values`). A snapshot replaces the tables; an append upserts by record_id (the
later delivery wins). An append with no data rows is logged as `empty` and changes nothing.
A file whose bytes were already loaded under another name is logged as a duplicate and
changes nothing; a file that cannot be read is logged as rejected and reported to the caller.

Delivery column names reach SQL only through `quote_identifier`, in statements checked by
`single_statement`: a header cannot end the quoted name and run SQL of its own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dl_platform.resources.sql import quote_identifier, quote_literal, single_statement
from dl_platform.sources.contracts import (
    RULES_COLUMN,
    accepted_sql,
    apply_rules,
    flag_counts,
    held_sql,
    pandera_agrees,
    reason_sql,
)
from dl_platform.sources.reader import (
    PROVENANCE,
    ROW_NUMBER,
    Delivery,
    DeliveryError,
    drop_staged,
    file_sha256,
    list_deliveries,
    stage_delivery,
)
from dl_platform.sources.registry import Source

STAGED, BROKEN = "__dl_staged", "__dl_broken"
_PROVENANCE_TYPES = dict(zip(PROVENANCE, ("varchar", "varchar", "bigint", "timestamp"), strict=True))

DELIVERY_LOG_DDL = """
create table if not exists raw.delivery_log (
    source varchar, delivery_file varchar, file_sha256 varchar, bytes bigint,
    rows_read bigint, rows_accepted bigint, rows_quarantined bigint,
    outcome varchar, message varchar, loaded_at timestamp, run_id varchar
)"""


@dataclass
class DeliveryOutcome:
    """What happened to one delivery file (no identifier values)."""

    file: str
    sha256: str
    outcome: str  # loaded | empty | duplicate | rejected
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    message: str = ""
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> date issue -> count


@dataclass
class LoadResult:
    """The outcome of one load of a source."""

    source: str
    deliveries: list[DeliveryOutcome]

    @property
    def rejected(self) -> list[DeliveryOutcome]:
        return [d for d in self.deliveries if d.outcome == "rejected"]

    def total(self, attr: str) -> int:
        return sum(getattr(d, attr) for d in self.deliveries)

    def reasons(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for d in self.deliveries:
            counts.update(d.reasons)
        return dict(counts)

    def flagged(self) -> dict[str, dict[str, int]]:
        """Flagged date values over this call's deliveries, per field and kind (counts only)."""
        out: dict[str, Counter[str]] = {}
        for d in self.deliveries:
            for name, kinds in d.flagged.items():
                out.setdefault(name, Counter()).update(kinds)
        return {name: {k: kinds[k] for k in sorted(kinds) if kinds[k]} for name, kinds in out.items()}


def table_names(source: Source) -> dict[str, str]:
    base = f"raw.{source.name}"
    return {
        "identifiers": f"{base}__identifiers",
        "payload": f"{base}__payload",
        "quarantine": f"{base}__quarantine",
    }


def ensure_tables(conn: Any, source: Source) -> None:
    """Create the raw schema, the delivery log and this source's tables if absent.

    Table names come from the source name, which the registry holds to a lower-case snake_case
    identifier; column names are quoted all the same.
    """
    t = table_names(source)
    conn.execute("create schema if not exists raw")
    conn.execute(DELIVERY_LOG_DDL)
    prov = ", ".join(f"{quote_identifier(c)} {kind}" for c, kind in _PROVENANCE_TYPES.items())
    ident_cols = ", ".join(f"{quote_identifier(f)} varchar" for f in source.identifier_fields)
    conn.execute(single_statement(f"create table if not exists {t['identifiers']} ({ident_cols}, {prov})"))
    conn.execute(single_statement(f"create table if not exists {t['payload']} (record_id varchar, {prov})"))
    conn.execute(single_statement(
        f"create table if not exists {t['quarantine']} (_delivery_file varchar, _file_sha256 varchar, "
        "_row_number bigint, rule varchar, reason varchar, record varchar, _loaded_at timestamp)"
    ))
    # A registry entry that gained an identifier field keeps its history: add the column.
    existing = {r[0] for r in conn.execute(single_statement(f"describe {t['identifiers']}")).fetchall()}
    for f in source.identifier_fields:
        if f not in existing:
            sql = f"alter table {t['identifiers']} add column {quote_identifier(f)} varchar"
            conn.execute(single_statement(sql))


def _add_missing_columns(conn: Any, table: str, columns: list[str]) -> None:
    """A new payload column widens the table (names compared ignoring case, as DuckDB does)."""
    existing = {r[0].lower() for r in conn.execute(single_statement(f"describe {table}")).fetchall()}
    for column in columns:
        if column.lower() not in existing:
            sql = f"alter table {table} add column {quote_identifier(column)} varchar"
            conn.execute(single_statement(sql))


def _write(conn: Any, table: str, select: dict[str, str], replace: bool) -> None:
    """Insert the accepted staged rows into `table`: `select` maps target column to SQL.

    A snapshot replaces the table; an append replaces the records it redelivers."""
    _add_missing_columns(conn, table, list(select))
    columns = ", ".join(f"{expr} as {quote_identifier(name)}" for name, expr in select.items())
    if replace:
        conn.execute(f"delete from {table}")
    elif conn.execute(f"select count(*) from {table}").fetchall()[0][0]:
        ids = accepted_sql(STAGED, BROKEN, select["record_id"])
        conn.execute(single_statement(f"delete from {table} where record_id in ({ids})"))
    conn.execute(single_statement(f"insert into {table} by name {accepted_sql(STAGED, BROKEN, columns)}"))


def _provenance(path: Path, sha: str, loaded_at: dt.datetime) -> dict[str, str]:
    return {"_delivery_file": quote_literal(path.name), "_file_sha256": quote_literal(sha),
            ROW_NUMBER: ROW_NUMBER, "_loaded_at": f"timestamp '{loaded_at.isoformat(sep=' ')}'"}


def _write_quarantine(conn: Any, table: str, delivery: Delivery, prov: dict[str, str]) -> None:
    """Rows breaking a contract rule (with the whole row as JSON) and the lines the reader could
    not split, each with file, row number, rule and reason."""
    fields = ", ".join(f"{quote_literal(c)}, {quote_identifier(c)}" for c in delivery.columns)
    conn.execute(single_statement(
        f"""insert into {table} (_delivery_file, _file_sha256, _row_number, rule, reason, record, _loaded_at)
        select {prov['_delivery_file']}, {prov['_file_sha256']}, {ROW_NUMBER}, rules,
               {reason_sql('rules')}, json_object({fields})::varchar, {prov['_loaded_at']}
        from ({held_sql(STAGED, BROKEN, f"*, array_to_string({RULES_COLUMN}, ';') as rules")})"""
    ))
    if delivery.malformed:
        frame = pd.DataFrame(delivery.malformed)
        conn.register("__dl_malformed", frame)
        try:
            conn.execute(
                f"""insert into {table} (_delivery_file, _file_sha256, _row_number, rule, reason, record, _loaded_at)
                select {prov['_delivery_file']}, {prov['_file_sha256']}, {ROW_NUMBER}, rule, reason, record,
                       {prov['_loaded_at']} from __dl_malformed"""
            )
        finally:
            conn.unregister("__dl_malformed")


def _log(conn: Any, source: Source, d: DeliveryOutcome, size: int, at: dt.datetime, run_id: str) -> None:
    conn.execute(
        "insert into raw.delivery_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source.name, d.file, d.sha256, size, d.rows_read, d.rows_accepted,
         d.rows_quarantined, d.outcome, d.message, at, run_id],
    )


def _load_file(conn: Any, source: Source, path: Path, sha: str, run_id: str) -> DeliveryOutcome:
    try:
        return _load_staged(conn, source, path, sha, run_id)
    finally:
        drop_staged(conn, STAGED)
        conn.execute(f"drop table if exists {BROKEN}")


def _load_staged(conn: Any, source: Source, path: Path, sha: str, run_id: str) -> DeliveryOutcome:
    delivery = stage_delivery(conn, path, source, STAGED, sha)
    rows_read = delivery.rows + len(delivery.malformed)
    if source.load == "append" and rows_read == 0:
        # A quiet month: legitimate, nothing to write, and logged so it is not read again.
        empty = DeliveryOutcome(file=path.name, sha256=delivery.sha256, outcome="empty",
                                message="no data rows")
        _log(conn, source, empty, delivery.size, dt.datetime.now(dt.UTC).replace(tzinfo=None), run_id)
        return empty
    held = apply_rules(conn, STAGED, source, BROKEN)
    pandera_agrees(conn, STAGED, BROKEN, source)
    by_rule = conn.execute(
        f"select r, count(*) from (select unnest({RULES_COLUMN}) as r from {BROKEN}) group by r"
    ).fetchall()
    reasons = Counter({str(r): int(n) for r, n in by_rule})
    reasons.update(m["rule"] for m in delivery.malformed)
    accepted = delivery.rows - held
    if source.load == "snapshot" and accepted == 0:
        raise DeliveryError(
            path, "snapshot_not_empty",
            "has no valid data rows; loading it would empty the snapshot — fix or remove the file",
        )
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    t = table_names(source)
    outcome = DeliveryOutcome(
        file=path.name, sha256=delivery.sha256, outcome="loaded",
        rows_read=rows_read, rows_accepted=accepted, rows_quarantined=held + len(delivery.malformed),
        reasons=dict(reasons), flagged=flag_counts(conn, accepted_sql(STAGED, BROKEN), source),
    )
    prov = _provenance(path, delivery.sha256, loaded_at)
    mapped = {col: fld for fld, col in source.identifiers.items()}
    identifiers = {fld: quote_identifier(col) for col, fld in mapped.items()} | prov
    payload = {"record_id": quote_identifier(source.record_id_column)}
    payload |= {c: quote_identifier(c) for c in delivery.columns if c not in mapped} | prov
    conn.execute("begin transaction")
    try:
        replace = source.load == "snapshot"
        _write(conn, t["identifiers"], identifiers, replace)
        _write(conn, t["payload"], payload, replace)
        _write_quarantine(conn, t["quarantine"], delivery, prov)
        _log(conn, source, outcome, delivery.size, loaded_at, run_id)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return outcome


def load_source(conn: Any, source: Source, landing_dir: Path, run_id: str = "") -> LoadResult:
    """Load every delivery of `source` not loaded before.

    Args:
        conn: a writable warehouse connection.
        source: the registry entry.
        landing_dir: `$DL_DATA_DIR/landing`; deliveries are read from `<landing_dir>/<source>/`.
        run_id: recorded in the delivery log for lineage.

    Returns:
        One outcome per delivery considered in this call (already-loaded files are not listed).
    """
    ensure_tables(conn, source)
    seen = conn.execute(
        "select delivery_file, file_sha256, outcome, message from raw.delivery_log where source = ?",
        [source.name],
    ).fetchall()
    by_name = {(f, h): (o, m) for f, h, o, m in seen}
    # Empty deliveries stay out: two quiet months have identical (header-only) bytes, and
    # the second is another empty delivery, not a duplicate of the first.
    loaded_hashes = {h for _, h, o, _ in seen if o == "loaded"}
    outcomes: list[DeliveryOutcome] = []
    for path in list_deliveries(landing_dir / source.name):
        sha = file_sha256(path)
        previous = by_name.get((path.name, sha))
        if previous and previous[0] != "rejected":
            continue
        if previous:  # still the same bad bytes: report again, log once
            outcomes.append(DeliveryOutcome(path.name, sha, "rejected", message=previous[1]))
            continue
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if sha in loaded_hashes:
            d = DeliveryOutcome(path.name, sha, "duplicate", message="same bytes already loaded under another name")
            _log(conn, source, d, path.stat().st_size, now, run_id)
        else:
            try:
                d = _load_file(conn, source, path, sha, run_id)
                if d.outcome == "loaded":
                    loaded_hashes.add(sha)
            except DeliveryError as exc:
                d = DeliveryOutcome(path.name, sha, "rejected", message=str(exc))
                _log(conn, source, d, path.stat().st_size, now, run_id)
        outcomes.append(d)
    return LoadResult(source=source.name, deliveries=outcomes)
