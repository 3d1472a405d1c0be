"""The raw delivery contract: one rule registry, enforced in SQL, stated and cross-checked in pandera.

Rules here are structural only (the row cannot be trusted as a record: no record_id, one
shared with another row of the delivery, a line that cannot be split). Weak values are kept
and flagged instead, because a record with a bad date or an NHS number failing Modulus 11 can
still be linked on its other identifiers and still belongs in analysts' data: dbt flags them
per record, and `flag_counts` counts bad dates per field and kind for the raw asset's metadata,
with the dbt macro `describe_date_issue` (one definition of a usable date).

Each rule has a name, a plain-language reason, the SQL that finds the rows breaking it (run
by DuckDB over the whole delivery: `apply_rules`) and its pandera form (`build_contract`:
the Dagster type, the contract shown in the UI). `pandera_agrees` validates a sample of the
accepted rows and the quarantined rows with pandera on every load, so the two forms cannot
drift apart unnoticed.

The date rules are deliberately not in the pandera schema, not even as warning checks: a
pandera warning carries its failure cases (the dates themselves) into the logs, and a
check that never decides anything would only make the contract shown in the UI claim a
rule the door does not enforce. The date columns' descriptions say what happens instead.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from dl_platform.resources.dbt_macros import render
from dl_platform.resources.sql import quote_identifier, quote_literal
from dl_platform.sources.dates import EARLIEST_PLAUSIBLE, MACRO_KINDS
from dl_platform.sources.reader import ROW_NUMBER
from dl_platform.sources.registry import PayloadColumn, Source


@dataclass(frozen=True)
class Rule:
    """A contract rule. `breaks`: SQL true for a row breaking it (`{rid}` is the quoted
    record_id column); None for rules the reader applies while splitting lines."""

    name: str
    reason: str
    breaks: str | None = None


RULES: tuple[Rule, ...] = (
    Rule("record_id_present", "record_id is missing", "{rid} is null"),
    Rule("record_id_unique", "record_id appears more than once in this delivery",
         "{rid} is not null and count(*) over (partition by {rid}) > 1"),
    Rule("field_count", "the line has more or fewer fields than the header (ragged or truncated)"),
    Rule("csv_syntax", "the line cannot be parsed as CSV (e.g. a quote that is never closed)"),
)
# Plain-language reasons for every rule that sends a row to quarantine; shown in quarantine and metadata.
REASONS = {rule.name: rule.reason for rule in RULES}
RULES_COLUMN = "_rules"
_FLAGGED_DATE = (
    "kept as delivered; an impossible, unrecognised, pre-1880 or future date is counted in the raw "
    "asset's flagged_values, not quarantined"
)
# Kinds of flagged payload values (declared columns), beside the date kinds of DATE_ISSUES.
PAYLOAD_ISSUES = {
    "missing": "a required column left blank",
    "not_an_integer": "not a whole number", "not_a_number": "not a number",
    "not_allowed": "not one of the declared values", "pattern_mismatch": "does not match the declared pattern",
}
_FLAGGED_VALUE = "a value that breaks it is kept as delivered and counted in the raw asset's flagged_values"
PANDERA_SAMPLE = 1000
PANDERA_QUARANTINE_CAP = 20_000


class ContractDisagreement(RuntimeError):
    """SQL and pandera judged the same rows differently: a platform fault, never bad input."""


def build_contract(source: Source) -> pa.DataFrameSchema:
    """The pandera schema a delivery of `source` must satisfy (columns by delivery name)."""
    rid = source.record_id_column
    columns: dict[str, pa.Column] = {
        rid: pa.Column(
            "string",
            checks=[pa.Check(lambda s: ~s.duplicated(keep=False), name="record_id_unique")],
            nullable=False,
            description=f"{source.name} record identifier (standard field record_id)",
        )
    }
    for field, column in source.identifiers.items():
        if field == "record_id":
            continue
        note = f"; {_FLAGGED_DATE}" if field == "date_of_birth" else ""
        columns[column] = pa.Column("string", nullable=True, description=f"identifier: {field}{note}")
    if source.period:
        columns[source.period.date_column] = pa.Column(
            "string", nullable=True,
            description=f"date placing the record in the source's coverage period; {_FLAGGED_DATE}",
        )
    for spec in source.payload:
        if spec.name in columns:
            continue
        columns[spec.name] = pa.Column(
            "string", nullable=True, required=spec.required,
            description=f"payload: {payload_promise(spec)}; {_FLAGGED_VALUE}",
        )
    columns[ROW_NUMBER] = pa.Column("int64", description="line (CSV) or row (Parquet) in the delivery")
    return pa.DataFrameSchema(
        columns, strict=False, coerce=False, name=f"raw_{source.name}",
        description=f"Raw delivery contract for {source.title}",
    )


def validate_delivery(rows: pd.DataFrame, source: Source) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (valid, quarantined); quarantined rows carry `rule` and `reason`.

    Args:
        rows: the delivery as strings with `_row_number`.
        source: the registry entry.

    Returns:
        valid rows (unchanged columns) and quarantine rows
        (`_row_number`, `rule`, `reason`, `record` JSON); a row breaking several rules
        is quarantined once with every rule listed.
    """
    schema = build_contract(source)
    try:
        schema.validate(rows, lazy=True)
        return rows, _empty_quarantine()
    except SchemaErrors as err:
        cases = err.failure_cases
    cases = cases[cases["index"].notna()]
    # pandera names its built-in null check "not_nullable"; the record_id is the only non-nullable column.
    rules = cases["check"].astype(str).replace({"not_nullable": "record_id_present"})
    bad_rules = (
        cases.assign(rule=rules)
        .groupby("index")["rule"].agg(lambda r: ";".join(sorted(set(r))))
    )
    bad_index = bad_rules.index.astype(rows.index.dtype)
    bad = rows.loc[bad_index]
    data_columns = [c for c in rows.columns if c != ROW_NUMBER]
    records = bad[data_columns].astype(object).where(bad[data_columns].notna(), None)
    quarantine = pd.DataFrame({
        ROW_NUMBER: bad[ROW_NUMBER].to_numpy(),
        "rule": bad_rules.to_numpy(),
        "reason": [
            "; ".join(REASONS.get(r, r) for r in rules.split(";")) for rules in bad_rules.to_numpy()
        ],
        "record": [json.dumps(r) for r in records.to_dict(orient="records")],
    })
    return rows.drop(index=bad_index), quarantine


def apply_rules(conn: Any, staged: str, source: Source, out: str) -> int:
    """Temp table `out` (`_row_number`, `_rules`): the staged rows breaking a rule, with every
    rule each breaks. One SQL pass over the delivery; the record_id column is quoted.

    Returns:
        The number of rows held back.
    """
    rid = quote_identifier(source.record_id_column)
    cases = ", ".join(
        f"case when {rule.breaks.format(rid=rid)} then {quote_literal(rule.name)} end"
        for rule in RULES if rule.breaks
    )
    conn.execute(
        f"""create or replace temp table {out} as
        select * from (select {ROW_NUMBER}, list_filter([{cases}], lambda r: r is not null) as {RULES_COLUMN}
                       from {staged})
        where len({RULES_COLUMN}) > 0"""
    )
    return int(conn.execute(f"select count(*) from {out}").fetchall()[0][0])


def accepted_sql(staged: str, broken: str, columns: str = "*") -> str:
    """SQL: the staged rows breaking no rule."""
    return f"select {columns} from {staged} anti join {broken} using ({ROW_NUMBER})"


def held_sql(staged: str, broken: str, columns: str = "*") -> str:
    """SQL: the staged rows breaking a rule, with `_rules`."""
    return f"select {columns} from {staged} join {broken} using ({ROW_NUMBER})"


def reason_sql(rules: str) -> str:
    """SQL: the reasons for a `;`-joined list of rule names, as quarantine shows them."""
    whens = " ".join(f"when {quote_literal(r.name)} then {quote_literal(r.reason)}" for r in RULES)
    return f"array_to_string(list_transform(string_split({rules}, ';'), lambda r: case r {whens} else r end), '; ')"


def pandera_agrees(conn: Any, staged: str, broken: str, source: Source) -> int:
    """Validate a sample of accepted rows and the held-back rows with pandera; raise when
    pandera's verdict on any of them differs from the SQL rules' (`apply_rules`).

    Duplicates are judged within the rows validated, so held-back rows beyond the cap are
    sampled by record_id (every row sharing an id comes along).

    Returns:
        The number of rows cross-checked.

    Raises:
        ContractDisagreement: naming rule and row numbers (never values).
    """
    rid = quote_identifier(source.record_id_column)
    n_bad = conn.execute(f"select count(*) from {broken}").fetchall()[0][0]
    keep = "true" if n_bad <= PANDERA_QUARANTINE_CAP else (
        f"hash(coalesce({rid}, {ROW_NUMBER}::varchar)) % {n_bad // PANDERA_QUARANTINE_CAP + 1} = 0")
    frame = conn.execute(
        f"""with picked as (
                select * from ({accepted_sql(staged, broken, ROW_NUMBER)})
                using sample reservoir({PANDERA_SAMPLE} rows) repeatable (17))
            select *, []::varchar[] as {RULES_COLUMN} from {staged} semi join picked using ({ROW_NUMBER})
            union all by name
            select * from ({held_sql(staged, broken)}) where {keep}
            order by {ROW_NUMBER}"""
    ).df()
    sql_rules = dict(zip(frame[ROW_NUMBER], frame.pop(RULES_COLUMN).map(lambda r: ";".join(sorted(r))),
                         strict=True))
    for column in frame.columns:
        frame[column] = frame[column].astype("int64" if column == ROW_NUMBER else "string")
    _, quarantine = validate_delivery(frame.reset_index(drop=True), source)
    pandera_rules = dict(zip(quarantine[ROW_NUMBER], quarantine["rule"], strict=True))
    differ = sorted(n for n in sql_rules if sql_rules[n] != pandera_rules.get(n, ""))
    if differ:
        raise ContractDisagreement(
            f"{source.name}: the SQL rules and the pandera contract disagree on {len(differ)} of "
            f"{len(frame)} rows checked (rows {differ[:10]}); the load was not written"
        )
    return len(frame)


def flag_counts(conn: Any, accepted: str, source: Source, today: dt.date | None = None) -> dict[str, dict[str, int]]:
    """Count the values a delivery's accepted rows carry that break what their column promises,
    per field and kind (counts only).

    Args:
        conn: the connection `accepted` runs on.
        accepted: SQL selecting the accepted rows (delivery column names), e.g. `accepted_sql`.
        source: the registry entry.
        today: the last plausible day (default: today).

    Returns:
        `{field: {kind: count}}` for `date_of_birth` (by standard name), the period date column
        and each declared payload column (by delivery name), each present when the delivery has
        it; kinds with no values are left out. Date kinds are those of
        `dl_platform.sources.dates.DATE_ISSUES`, the others those of `PAYLOAD_ISSUES`.
    """
    promised: dict[str, PayloadColumn] = {}
    if "date_of_birth" in source.identifiers:
        promised["date_of_birth"] = PayloadColumn(source.delivery_column("date_of_birth"), "date")
    promised |= {spec.name: spec for spec in source.payload}
    if source.period:  # a date whatever else it promises
        column = source.period.date_column
        promised[column] = replace(promised.get(column, PayloadColumn(column)), type="date")
    present = {r[0] for r in conn.execute(f"describe {accepted}").fetchall()}
    bounds = (f"date '{EARLIEST_PLAUSIBLE.date().isoformat()}'", f"date '{(today or dt.date.today()).isoformat()}'")
    return {key: _value_flags(conn, accepted, spec, bounds) for key, spec in promised.items() if spec.name in present}


def payload_promise(spec: PayloadColumn) -> str:
    """What a declared payload column promises, in words (contract view, docs)."""
    parts = [spec.type] + (["required"] if spec.required else [])
    if spec.allowed:
        parts.append("one of " + ", ".join(spec.allowed))
    if spec.pattern:
        parts.append(f"matching {spec.pattern}")
    return ", ".join(parts) + (f" — {spec.description}" if spec.description else "")


def _value_flags(conn: Any, accepted: str, spec: PayloadColumn, bounds: tuple[str, str]) -> dict[str, int]:
    """Values of one column that break its promise, by kind, each distinct value judged once
    (dates repeat: a few thousand days cover millions of rows): a date by the dbt macro
    `describe_date_issue`, `not_an_integer` / `not_a_number`, `not_allowed`,
    `pattern_mismatch`, and `missing` for a required column left blank."""
    value = quote_identifier(spec.name)
    kinds: list[str] = []
    parsed = ""
    if spec.type == "date":
        parsed = f", {render('parse_date', 'v')} as parsed"
        issue = render("describe_date_issue", "v", *bounds, parsed="parsed")
        kinds.append(f"case when {issue} <> 'missing' then {issue} end")
    elif spec.type == "integer":  # a pattern, not a cast: DuckDB would round '2.5' to 3
        kinds.append("case when not regexp_full_match(v, '[+-]?[0-9]+') then 'not_an_integer' end")
    elif spec.type == "decimal":
        kinds.append("case when not regexp_full_match(v, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)') then 'not_a_number' end")
    if spec.allowed:
        kinds.append(f"case when v not in ({', '.join(quote_literal(a) for a in spec.allowed)}) then 'not_allowed' end")
    if spec.pattern:
        kinds.append(f"case when not regexp_full_match(v, {quote_literal(spec.pattern)}) then 'pattern_mismatch' end")
    rows = conn.execute(
        f"""select kind, sum(n) from (
                select unnest(list_filter([{', '.join(kinds) or 'null'}], lambda k: k is not null)) as kind, n
                from (select v, n{parsed} from (
                    select {value} as v, count(*) as n from ({accepted}) where {value} is not null group by 1)))
            group by kind order by kind"""
    ).fetchall()
    out = {MACRO_KINDS.get(kind, kind): int(n) for kind, n in rows}
    if spec.required:
        blank = conn.execute(f"select count(*) from ({accepted}) where {value} is null").fetchall()[0][0]
        if blank:
            out["missing"] = int(blank)
    return dict(sorted(out.items()))


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({
        ROW_NUMBER: pd.Series(dtype="int64"), "rule": pd.Series(dtype="string"),
        "reason": pd.Series(dtype="string"), "record": pd.Series(dtype="string"),
    })
