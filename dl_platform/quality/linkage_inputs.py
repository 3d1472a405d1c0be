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
from dl_platform.quality.tables import pick_column, table_columns, table_exists
from dl_platform.quality.validity import nhs_number_valid
from dl_platform.resources.sql import quote_identifier, quote_relation, single_statement
from dl_platform.sources.dates import parse_delivery_dates
from dl_platform.sources.registry import Registry

MULTIPLE_FLAG_COLUMNS = ("multiple_match", "is_multiple_match", "multiple_matches", "has_multiple_matches")
AGE_BANDS = ([0, 18, 35, 55, 75, 200], ["0-17", "18-34", "35-54", "55-74", "75+"])


def load_record_person(conn: Any) -> pd.DataFrame | None:
    """`mpi.record_person`, or None before the linkage stage has run."""
    if not table_exists(conn, "mpi.record_person"):
        return None
    return conn.execute(
        "select source, record_id, person_id, link_step, match_probability from mpi.record_person"
    ).df()


def load_multiple_match_flags(conn: Any) -> pd.Series | None:
    """The per-record multiple-match flag from `mpi.link_diagnostics`, if it carries one."""
    if not table_exists(conn, "mpi.link_diagnostics"):
        return None
    column = pick_column(table_columns(conn, "mpi.link_diagnostics"), MULTIPLE_FLAG_COLUMNS)
    if column is None:
        return None
    sql = f"select {quote_identifier(column)} as flag from mpi.link_diagnostics"
    return conn.execute(single_statement(sql)).df()["flag"]


def load_match_weights(conn: Any) -> pd.Series | None:
    """Match weights from diagnostics (for the histogram), if recorded."""
    if not table_exists(conn, "mpi.link_diagnostics"):
        return None
    column = pick_column(table_columns(conn, "mpi.link_diagnostics"), ("match_weight", "weight"))
    if column is None:
        return None
    sql = f"select {quote_identifier(column)} as w from mpi.link_diagnostics"
    return conn.execute(single_statement(sql)).df()["w"].dropna()


def _nhs_by_record(conn: Any, registry: Registry) -> pd.DataFrame:
    if table_exists(conn, "intermediate.int_identifiers_standardised"):
        return conn.execute(
            "select source, record_id, case when nhs_number_valid then nhs_number end as nhs_number "
            "from intermediate.int_identifiers_standardised"
        ).df()
    frames = []
    for source in registry.linked_sources:
        table = f"raw.{source.name}__identifiers"
        if "nhs_number" not in source.identifiers or not table_exists(conn, table):
            continue
        f = conn.execute(single_statement(f"select record_id, nhs_number from {quote_relation(table)}")).df()
        cleaned = f["nhs_number"].astype("string").str.replace(r"[\s.\-]", "", regex=True)
        frames.append(f.assign(source=source.name, nhs_number=cleaned.where(nhs_number_valid(f["nhs_number"]))))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["source", "record_id", "nhs_number"])


def _payload_dates(conn: Any, source: str, column: str, alias: str) -> pd.DataFrame | None:
    table = f"raw.{source}__payload"
    if not table_exists(conn, table):
        return None
    real = pick_column(table_columns(conn, table), column)
    if real is None:
        return None
    # `real` is a payload column as the supplier named it: quoted, never spliced.
    sql = f"select record_id, {quote_identifier(real)} as v from {quote_relation(table)}"
    f = conn.execute(single_statement(sql)).df()
    return pd.DataFrame({"source": source, "record_id": f["record_id"], alias: parse_delivery_dates(f["v"])})


def load_linked_evidence(conn: Any, registry: Registry, record_person: pd.DataFrame) -> pd.DataFrame:
    """record_person plus valid NHS number, master date of death and activity date per record."""
    out = record_person[["source", "record_id", "person_id"]].merge(
        _nhs_by_record(conn, registry), on=["source", "record_id"], how="left")
    master = registry.master
    death = _payload_dates(conn, master.name, "date_of_death", "date_of_death") if master else None
    if death is not None:
        out = out.merge(death, on=["source", "record_id"], how="left")
    activity = [
        f for s in registry.linked_sources if s.period
        for f in [_payload_dates(conn, s.name, s.period.date_column, "activity_date")] if f is not None
    ]
    if activity:
        out = out.merge(pd.concat(activity, ignore_index=True), on=["source", "record_id"], how="left")
    return out


def age_band(dob: pd.Series, today: pd.Timestamp) -> pd.Series:
    """Age band at `today` from dates of birth (NaN where unknown)."""
    years = (today - pd.to_datetime(dob, errors="coerce")).dt.days / 365.25
    return pd.cut(years, bins=AGE_BANDS[0], labels=AGE_BANDS[1], right=False).astype("string")


def quintile_from_decile(decile: pd.Series) -> pd.Series:
    """IMD quintile (1 = most deprived) from deciles, as text; blank where unknown."""
    d = pd.to_numeric(decile, errors="coerce")
    return ((d + 1) // 2).astype("Int64").astype("string")


def record_attributes(conn: Any, record_person: pd.DataFrame, today: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """Each record with `matched` and group attributes from the MPI itself, and the basis used.

    Never truth: parity is what a region without truth runs, so it is measured the same way
    everywhere (`marts.dim_person`, else the record's own standardised sex and date of birth).
    """
    rp = record_person.assign(matched=record_person["link_step"].isin(MATCHED_STEPS),
                              record_id=record_person["record_id"].astype("string"),
                              source=record_person["source"].astype("string"))
    if table_exists(conn, "marts.dim_person"):
        cols = set(table_columns(conn, "marts.dim_person"))
        wanted = [c for c in ("sex", "ethnic_group", "age_band", "imd_quintile", "imd_decile") if c in cols]
        dim = conn.execute(f"select person_id, {', '.join(wanted)} from marts.dim_person").df()
        if "imd_quintile" not in dim and "imd_decile" in dim:
            dim["imd_quintile"] = quintile_from_decile(dim["imd_decile"])
        return rp.merge(dim, on="person_id", how="left"), "marts.dim_person"
    if table_exists(conn, "intermediate.int_identifiers_standardised"):
        ident = conn.execute(
            "select source, record_id, sex, date_of_birth from intermediate.int_identifiers_standardised").df()
        ident = ident.assign(age_band=age_band(ident["date_of_birth"], today)).drop(columns="date_of_birth")
        return rp.merge(ident, on=["source", "record_id"], how="left"), "record identifiers (sex, age band)"
    return rp, "none available"


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
