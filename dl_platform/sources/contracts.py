"""Pandera contracts for raw deliveries, built from the registry entry.

One schema per source, validated lazily so every failing row reaches quarantine with
the rule it broke. Rules here are structural only (the row cannot be trusted as a record:
no record_id, or one shared with another row of the delivery; ragged lines are caught by
the reader). Weak values are kept and flagged instead, because a record with a bad date
or an NHS number failing Modulus 11 can still be linked on its other identifiers and still
belongs in analysts' data: dbt flags them per record, and `flag_values` counts bad dates
per field and kind for the raw asset's metadata.

The date rules are deliberately not in the pandera schema, not even as warning checks: a
pandera warning carries its failure cases (the dates themselves) into the logs, and a
check that never decides anything would only make the contract shown in the UI claim a
rule the door does not enforce. The date columns' descriptions say what happens instead.
"""

from __future__ import annotations

import json

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from dl_platform.sources.dates import date_issues
from dl_platform.sources.reader import ROW_NUMBER
from dl_platform.sources.registry import Source

# Plain-language reasons for every rule that sends a row to quarantine; shown in quarantine and metadata.
REASONS = {
    "record_id_present": "record_id is missing",
    "record_id_unique": "record_id appears more than once in this delivery",
    "field_count": "the line has more or fewer fields than the header (ragged or truncated)",
}
_FLAGGED_DATE = (
    "kept as delivered; an impossible, unrecognised, pre-1880 or future date is counted in the raw "
    "asset's flagged_values, not quarantined"
)


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


def flag_values(
    rows: pd.DataFrame, source: Source, today: pd.Timestamp | None = None
) -> dict[str, dict[str, int]]:
    """Count the dates a delivery's rows carry that are unusable, per field and kind (counts only).

    Args:
        rows: delivery rows (delivery column names).
        source: the registry entry.
        today: the last plausible day (default: today).

    Returns:
        `{field: {kind: count}}` for `date_of_birth` (by standard name) and the period date
        column (by delivery name), each present when the source has it; kinds with no
        values are left out. Kinds are those of `dl_platform.sources.dates.DATE_ISSUES`.
    """
    fields: dict[str, str] = {}
    if "date_of_birth" in source.identifiers:
        fields["date_of_birth"] = source.delivery_column("date_of_birth")
    if source.period:
        fields[source.period.date_column] = source.period.date_column
    out: dict[str, dict[str, int]] = {}
    for name, column in fields.items():
        if column not in rows:
            continue
        counts = date_issues(rows[column], today).value_counts()
        out[name] = {str(kind): int(n) for kind, n in sorted(counts.items())}
    return out


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({
        ROW_NUMBER: pd.Series(dtype="int64"), "rule": pd.Series(dtype="string"),
        "reason": pd.Series(dtype="string"), "record": pd.Series(dtype="string"),
    })
