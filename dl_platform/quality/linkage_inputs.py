"""Read what the linkage checks and report need: record_person, evidence and group attributes.

Group attributes (ethnic group, age band, sex, deprivation quintile) come from the MPI
itself: `marts.dim_person` by person_id, else the record's own standardised identifiers
(sex and age band only). The basis used is reported beside every figure. Truth is never
read here (see `truth.py`): the checks on the MPI must not depend on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dl_platform.quality.linkage_checks import MATCHED_STEPS
from dl_platform.quality.source_stats import if_valid_nhs
from dl_platform.quality.tables import pick_column, table_columns, table_exists
from dl_platform.resources.dbt_macros import render
from dl_platform.resources.sql import (
    quote_identifier,
    quote_literal,
    quote_relation,
    single_statement,
)
from dl_platform.sources.registry import Registry

MULTIPLE_FLAG_COLUMNS = ("multiple_match", "is_multiple_match", "multiple_matches", "has_multiple_matches")
RECORD_PERSON = "mpi.record_person"
STANDARDISED = "intermediate.int_identifiers_standardised"
AGE_BANDS = ([0, 18, 35, 55, 75, 200], ["0-17", "18-34", "35-54", "55-74", "75+"])


def load_record_person(conn: Any) -> pd.DataFrame | None:
    """`mpi.record_person`, or None before the linkage stage has run."""
    if not table_exists(conn, RECORD_PERSON):
        return None
    return conn.execute(
        f"select source, record_id, person_id, link_step, match_probability from {RECORD_PERSON}"
    ).df()


def multiple_match_counts(conn: Any) -> tuple[int, int] | None:
    """(records, flagged) of `mpi.link_diagnostics`'s multiple-match flag, if it carries one."""
    if not table_exists(conn, "mpi.link_diagnostics"):
        return None
    column = pick_column(table_columns(conn, "mpi.link_diagnostics"), MULTIPLE_FLAG_COLUMNS)
    if column is None:
        return None
    sql = f"select count(*), count(*) filter (where coalesce({quote_identifier(column)}, false)) from mpi.link_diagnostics"
    records, flagged = conn.execute(single_statement(sql)).fetchall()[0]
    return int(records), int(flagged)


def load_match_weights(conn: Any) -> pd.Series | None:
    """Match weights from diagnostics (for the histogram), if recorded."""
    if not table_exists(conn, "mpi.link_diagnostics"):
        return None
    column = pick_column(table_columns(conn, "mpi.link_diagnostics"), ("match_weight", "weight"))
    if column is None:
        return None
    sql = f"select {quote_identifier(column)} as w from mpi.link_diagnostics"
    return conn.execute(single_statement(sql)).df()["w"].dropna()


def _nhs_from_raw_sql(registry: Registry, conn: Any) -> str | None:
    """SELECT of (source, record_id, nhs_number: cleaned when valid) off the raw tables (only
    before dbt has standardised them), by the dbt rule macros."""
    parts = []
    for source in registry.linked_sources:
        table = f"raw.{source.name}__identifiers"
        if "nhs_number" not in source.identifiers or not table_exists(conn, table):
            continue
        parts.append(f"select {quote_literal(source.name)} as source, record_id, {if_valid_nhs('clean')} as nhs_number "
                     f"from (select record_id, {render('clean_nhs_number', 'nhs_number')} as clean "
                     f"from {quote_relation(table)})")
    return " union all ".join(parts) if parts else None


def _payload_date_sql(conn: Any, source: str, column: str) -> str | None:
    """SELECT of (source, record_id, v: the date as delivered) from a source's payload, if it has
    the column."""
    table = f"raw.{source}__payload"
    if not table_exists(conn, table):
        return None
    real = pick_column(table_columns(conn, table), column)
    if real is None:
        return None
    # `real` is a payload column as the supplier named it: quoted, never spliced.
    return (f"select {quote_literal(source)} as source, record_id, {quote_identifier(real)} as v "
            f"from {quote_relation(table)}")


def linked_evidence_sql(conn: Any, registry: Registry) -> str:
    """SQL: each record of `mpi.record_person` with its person, valid NHS number, the master's date
    of death and the record's activity date (dates parsed by the dbt macro `parse_date`).

    Joined in the engine: at 1M persons these are 5M-row joins on text keys, which pandas
    took over a minute to do.
    """
    cols, joins = ["rp.source", "rp.record_id", "rp.person_id"], []
    if table_exists(conn, STANDARDISED):
        cols.append("case when i.nhs_number_valid then i.nhs_number end as nhs_number")
        joins.append(f"left join {STANDARDISED} i on i.source = rp.source and i.record_id = rp.record_id")
    elif raw := _nhs_from_raw_sql(registry, conn):
        cols.append("n.nhs_number")
        joins.append(f"left join ({raw}) n on n.source = rp.source and n.record_id = rp.record_id")
    else:
        cols.append("null::varchar as nhs_number")
    master = registry.master
    death = _payload_date_sql(conn, master.name, "date_of_death") if master else None
    if death:
        cols.append(f"{render('parse_date', 'd.v')} as date_of_death")
        joins.append(f"left join ({death}) d on d.source = rp.source and d.record_id = rp.record_id")
    activity = [sql for s in registry.linked_sources if s.period
                for sql in [_payload_date_sql(conn, s.name, s.period.date_column)] if sql]
    if activity:
        cols.append(f"{render('parse_date', 'a.v')} as activity_date")
        joins.append(f"left join ({' union all '.join(activity)}) a "
                     "on a.source = rp.source and a.record_id = rp.record_id")
    return single_statement(f"select {', '.join(cols)} from {RECORD_PERSON} rp {' '.join(joins)}")


def load_linked_evidence(conn: Any, registry: Registry) -> pd.DataFrame:
    """`linked_evidence_sql` as a frame (dates as datetime64)."""
    out = conn.execute(linked_evidence_sql(conn, registry)).df()
    for column in ("date_of_death", "activity_date"):
        if column in out:
            out[column] = out[column].astype("datetime64[ns]")
    return out


def quintile_from_decile(decile: pd.Series) -> pd.Series:
    """IMD quintile (1 = most deprived) from deciles, as text; blank where unknown."""
    d = pd.to_numeric(decile, errors="coerce")
    return ((d + 1) // 2).astype("Int64").astype("string")


def _age_band_sql(dob: str, today: pd.Timestamp) -> str:
    years = f"date_diff('day', {dob}, date '{today.date().isoformat()}') / 365.25"
    bounds, labels = AGE_BANDS
    whens = " ".join(f"when {years} >= {lo} and {years} < {hi} then '{label}'"
                     for lo, hi, label in zip(bounds, bounds[1:], labels, strict=False))
    return f"case {whens} end"


def record_attributes_sql(conn: Any, today: pd.Timestamp) -> tuple[str, str]:
    """SQL: each record of `mpi.record_person` with `matched` and group attributes from the MPI
    itself, and the basis used.

    Never truth: parity is what a region without truth runs, so it is measured the same way
    everywhere (`marts.dim_person`, else the record's own standardised sex and date of birth).
    """
    steps = ", ".join(quote_literal(s) for s in MATCHED_STEPS)
    select = (f"select rp.source, rp.record_id, rp.person_id, rp.link_step, rp.match_probability, "
              f"coalesce(rp.link_step in ({steps}), false) as matched")
    if table_exists(conn, "marts.dim_person"):
        have = set(table_columns(conn, "marts.dim_person"))
        wanted = [c for c in ("sex", "ethnic_group", "age_band", "imd_quintile") if c in have]
        cols = "".join(f", d.{c}" for c in wanted)
        if "imd_quintile" not in have and "imd_decile" in have:
            cols += ", cast((try_cast(d.imd_decile as integer) + 1) // 2 as varchar) as imd_quintile"
        return (f"{select}{cols} from {RECORD_PERSON} rp left join marts.dim_person d on d.person_id = rp.person_id",
                "marts.dim_person")
    if table_exists(conn, STANDARDISED):
        return (f"{select}, i.sex, {_age_band_sql('i.date_of_birth', today)} as age_band from {RECORD_PERSON} rp "
                f"left join {STANDARDISED} i on i.source = rp.source and i.record_id = rp.record_id",
                "record identifiers (sex, age band)")
    return f"{select} from {RECORD_PERSON} rp", "none available"


def record_attributes(conn: Any, today: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """`record_attributes_sql` as a frame, and the basis used."""
    sql, basis = record_attributes_sql(conn, today)
    return conn.execute(sql).df(), basis


def truth_outcomes(records: pd.DataFrame, master: str | None) -> pd.DataFrame | None:
    """Non-master records with matched / correct / linkable against truth (needs `person_key`)."""
    if master is None or "person_key" not in records or records["person_key"].isna().all():
        return None
    master_pid = (records[records["source"] == master].dropna(subset=["person_key"])
                  .drop_duplicates("person_key").set_index("person_key")["person_id"])
    others = records[records["source"] != master].copy()
    expected = others["person_key"].map(master_pid)
    others["linkable"] = expected.notna()
    others["correct"] = others["matched"] & (others["person_id"].to_numpy() == expected.to_numpy())
    others["correct"] = others["correct"].fillna(False).astype(bool) & np.asarray(others["linkable"])
    return others
