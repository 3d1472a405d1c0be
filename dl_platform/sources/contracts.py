"""Pandera contracts for raw deliveries, built from the registry entry.

One schema per source, validated lazily so every failing row reaches quarantine with
the rule it broke. Rules here are structural (the row cannot be trusted as a record);
weak identifiers such as an NHS number failing Modulus 11 are kept and flagged by dbt,
because the linkage cascade can still place such a record on other evidence.
"""

from __future__ import annotations

import json

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from dl_platform.sources.dates import unparseable_dates
from dl_platform.sources.reader import ROW_NUMBER
from dl_platform.sources.registry import Source

# Plain-language reasons, keyed by the check names used below; shown in quarantine and metadata.
REASONS = {
    "record_id_present": "record_id is missing",
    "record_id_unique": "record_id appears more than once in this delivery",
    "date_of_birth_parseable": "date of birth is not a real date in ISO, DD/MM/YYYY or YYYYMMDD form",
    "period_date_parseable": "the period date column is not a real date",
}


def _parseable(name: str) -> pa.Check:
    return pa.Check(lambda s: ~unparseable_dates(s), name=name)


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
        checks = [_parseable("date_of_birth_parseable")] if field == "date_of_birth" else []
        columns[column] = pa.Column(
            "string", checks=checks, nullable=True, description=f"identifier: {field}"
        )
    if source.period:
        columns[source.period.date_column] = pa.Column(
            "string", checks=[_parseable("period_date_parseable")], nullable=True,
            description="date placing the record in the source's coverage period",
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


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({
        ROW_NUMBER: pd.Series(dtype="int64"), "rule": pd.Series(dtype="string"),
        "reason": pd.Series(dtype="string"), "record": pd.Series(dtype="string"),
    })
