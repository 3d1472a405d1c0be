"""Run every source check for one registry entry against the raw tables.

This module reads the warehouse through a connection it is given (it never opens one)
and returns `CheckOutcome`s; the Dagster factory turns them into asset-check results.
The catalogue below is the single list of source checks, their severity and promise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dl_platform.quality import completeness, consistency, period, volume
from dl_platform.quality.outcome import ERROR, WARN, CheckDef, CheckOutcome, not_applicable
from dl_platform.quality.tables import pick_column, select_columns, table_columns, table_exists
from dl_platform.quality.thresholds import thresholds
from dl_platform.quality.validity import nhs_number_valid
from dl_platform.sources.dates import parse_delivery_dates
from dl_platform.sources.registry import Registry, Source

DEATH_COLUMNS = ("date_of_death", "dod", "death_date")


CATALOGUE: tuple[CheckDef, ...] = (
    CheckDef(volume.VOLUME, ERROR, "Rows in the latest delivery are within the volume tolerance of the previous one."),
    CheckDef(completeness.NAME, ERROR, "Each identifier field is present and valid (NHS number by Modulus 11, "
             "postcode BS7666, date of birth parseable) for at least its minimum share, overall and per group."),
    CheckDef(period.WITHIN, WARN, "Every record's period date falls inside the declared coverage period."),
    CheckDef(period.MISSING_MONTHS, ERROR, "No calendar month inside the coverage period is without records."),
    CheckDef(period.FYEAR, WARN, "Records are filed under the financial year (FYEAR) their period date falls in."),
    CheckDef(consistency.SEX, ERROR, "The records are not (almost) all one sex."),
    CheckDef(consistency.FUTURE_DOB, WARN, "No date of birth lies in the future."),
    CheckDef(consistency.DEATH_BEFORE_BIRTH, WARN, "No date of death precedes the date of birth."),
    CheckDef(consistency.AFTER_DEATH, WARN, "No record is dated after the master register's date of death "
             "for the same valid NHS number."),
    CheckDef(consistency.UNIQUE, ERROR, "Each record_id appears once in the loaded table."),
    CheckDef(volume.TREND, WARN, "No month's volume breaks sharply from the trailing six-month mean."),
    CheckDef("quarantine_share_within_limit", WARN, "The share of the latest delivery sent to quarantine is "
             "within the source's max_quarantine_share."),
)


def load_frames(conn: Any, source: Source) -> dict[str, Any]:
    """The columns the checks need from one source's raw tables (only those, to stay small)."""
    ident_table, payload_table = f"raw.{source.name}__identifiers", f"raw.{source.name}__payload"
    if not table_exists(conn, ident_table):
        return {}
    fields = [f for f in source.identifier_fields if f in table_columns(conn, ident_table)]
    ident = select_columns(conn, ident_table, [*fields, "_delivery_file"])
    payload_cols = table_columns(conn, payload_table) if table_exists(conn, payload_table) else []
    wanted = {
        "period": pick_column(payload_cols, source.period.date_column) if source.period else None,
        "fyear": pick_column(payload_cols, "FYEAR"),
        "organisation": completeness.organisation_column(payload_cols),
        "death": pick_column(payload_cols, DEATH_COLUMNS),
    }
    present = {k: v for k, v in wanted.items() if v}
    payload = pd.DataFrame({"record_id": ident["record_id"]})
    if present:
        cols = list(dict.fromkeys(present.values()))
        frame = select_columns(conn, payload_table, ["record_id", *cols])
        payload = payload.merge(frame, on="record_id", how="left")
        payload = payload.rename(columns={v: k for k, v in present.items()})
    log = pd.DataFrame(columns=["delivery_file", "rows_read", "rows_quarantined"])
    if table_exists(conn, "raw.delivery_log"):
        log = conn.execute(
            "select delivery_file, rows_read, rows_quarantined from raw.delivery_log "
            "where source = ? and outcome = 'loaded' "
            "order by loaded_at, delivery_file", [source.name],
        ).df()
    return {"identifiers": ident, "payload": payload, "deliveries": log}


def master_deaths(conn: Any, registry: Registry) -> pd.Series | None:
    """Date of death by valid NHS number from the master register, or None if unavailable."""
    master = registry.master
    if master is None or "nhs_number" not in master.identifiers:
        return None
    frames = load_frames(conn, master)
    if not frames or "death" not in frames["payload"]:
        return None
    ident, payload = frames["identifiers"], frames["payload"]
    dod = parse_delivery_dates(payload["death"])
    keep = nhs_number_valid(ident["nhs_number"]) & dod.notna()
    nhs = ident["nhs_number"].astype("string").str.replace(r"[\s.\-]", "", regex=True)
    deaths = pd.Series(dod[keep].to_numpy(), index=nhs[keep].to_numpy())
    return deaths.groupby(level=0).min()


def _activity_after_death(source: Source, frames: dict, activity: pd.Series, deaths: pd.Series | None) -> CheckOutcome:
    name = consistency.AFTER_DEATH
    if source.is_master:
        return not_applicable(name, "the master register is where dates of death come from")
    if source.period is None or "period" not in frames["payload"]:
        return not_applicable(name, "no period declared")
    if deaths is None or "nhs_number" not in frames["identifiers"]:
        return not_applicable(name, "no master date of death or no NHS number to join on")
    nhs = frames["identifiers"]["nhs_number"].astype("string").str.replace(r"[\s.\-]", "", regex=True)
    nhs = nhs.where(nhs_number_valid(frames["identifiers"]["nhs_number"]))
    death = pd.Series(nhs.map(deaths).to_numpy(), index=activity.index, dtype="datetime64[ns]")
    return consistency.check_activity_after_death(activity, death, source.period.date_column)


def evaluate(frames: dict, source: Source, today: pd.Timestamp, deaths: pd.Series | None = None) -> list[CheckOutcome]:
    """Every catalogue check for one source, given its loaded frames.

    Args:
        frames: from `load_frames` (identifiers, payload, deliveries); empty if not loaded yet.
        source: the registry entry.
        today: the run date.
        deaths: master date of death by NHS number (for activity after death), if known.

    Returns:
        One outcome per catalogue entry, in catalogue order.
    """
    if not frames:
        return [not_applicable(c.name, "the source has not been loaded yet") for c in CATALOGUE]
    limits = thresholds(source)
    ident, payload, log = frames["identifiers"], frames["payload"], frames["deliveries"]
    no_period = source.period is None or "period" not in payload
    activity = parse_delivery_dates(payload["period"]) if not no_period else pd.Series(dtype="datetime64[ns]")
    dob = parse_delivery_dates(ident["date_of_birth"]) if "date_of_birth" in ident else None
    dod = parse_delivery_dates(payload["death"]) if "death" in payload else None
    groups = {"delivery file": ident["_delivery_file"].fillna("")}
    if "organisation" in payload:
        groups["organisation"] = payload["organisation"].fillna("(none)")
    latest = log.iloc[-1] if len(log) else None
    p = source.period
    outcomes = {
        volume.VOLUME: volume.check_volume(log, limits["volume_tolerance"]),
        completeness.NAME: completeness.check_completeness(
            ident.drop(columns=["_delivery_file"]), limits["completeness"], today, groups),
        period.WITHIN: period.check_within_period(activity, None if no_period else p),
        period.MISSING_MONTHS: period.check_missing_months(activity, None if no_period else p),
        period.FYEAR: period.check_financial_year(
            activity, payload.get("fyear"), None if no_period else p.date_column),
        consistency.SEX: consistency.check_sex_mix(ident.get("sex")),
        consistency.FUTURE_DOB: consistency.check_future_dob(dob, today),
        consistency.DEATH_BEFORE_BIRTH: consistency.check_death_before_birth(dob, dod),
        consistency.AFTER_DEATH: _activity_after_death(source, frames, activity, deaths),
        consistency.UNIQUE: consistency.check_unique(ident["record_id"]),
        volume.TREND: (not_applicable(volume.TREND, "no period declared") if no_period
                       else volume.check_trend(activity, limits["trend_tolerance"])),
        "quarantine_share_within_limit": consistency.check_quarantine_share(
            0 if latest is None else int(latest["rows_read"]),
            0 if latest is None else int(latest["rows_quarantined"]), limits["max_quarantine_share"]),
    }
    return [outcomes[c.name] for c in CATALOGUE]


def run_source_checks(conn: Any, source: Source, registry: Registry, today: pd.Timestamp) -> list[CheckOutcome]:
    """Load one source's raw tables through `conn` and evaluate every catalogue check."""
    frames = load_frames(conn, source)
    deaths = master_deaths(conn, registry) if frames and not source.is_master and source.period else None
    return evaluate(frames, source, today, deaths)
