"""Run every source check for one registry entry against the raw tables.

The warehouse counts (`source_stats`, SQL through a connection it is given, never opened
here); the checks judge the counts and return `CheckOutcome`s, which the Dagster factory
turns into asset-check results. The catalogue below is the single list of source checks,
their severity and promise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dl_platform.quality import completeness, consistency, period, volume
from dl_platform.quality.outcome import ERROR, WARN, CheckDef, CheckOutcome, not_applicable
from dl_platform.quality.source_stats import SourceStats, collect
from dl_platform.quality.thresholds import thresholds
from dl_platform.sources.registry import Registry, Source

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


def evaluate(stats: SourceStats | None, source: Source, today: pd.Timestamp) -> list[CheckOutcome]:
    """Every catalogue check for one source, given its counts.

    Args:
        stats: from `source_stats.collect`; None if the source was never loaded.
        source: the registry entry.
        today: the run date.

    Returns:
        One outcome per catalogue entry, in catalogue order.
    """
    if stats is None:
        return [not_applicable(c.name, "the source has not been loaded yet") for c in CATALOGUE]
    limits = thresholds(source)
    log = stats.deliveries
    latest = log.iloc[-1] if len(log) else None
    p = source.period if stats.period is not None else None
    if source.is_master:
        after_death = not_applicable(consistency.AFTER_DEATH, "the master register is where dates of death come from")
    elif p is None:
        after_death = not_applicable(consistency.AFTER_DEATH, "no period declared")
    elif stats.after_death is None:
        after_death = not_applicable(consistency.AFTER_DEATH, stats.after_death_note)
    else:
        after_death = consistency.check_activity_after_death(
            stats.after_death["records_of_deceased"], stats.after_death["after_death"], p.date_column)
    outcomes = {
        volume.VOLUME: volume.check_volume(log, limits["volume_tolerance"]),
        completeness.NAME: completeness.check_completeness(stats.valid, limits["completeness"]),
        period.WITHIN: period.check_within_period(stats.period, p),
        period.MISSING_MONTHS: period.check_missing_months(stats.months_inside, p),
        period.FYEAR: period.check_financial_year(stats.fyear, None if p is None else p.date_column),
        consistency.SEX: consistency.check_sex_mix(stats.sex),
        consistency.FUTURE_DOB: consistency.check_future_dob(stats.dob, today),
        consistency.DEATH_BEFORE_BIRTH: consistency.check_death_before_birth(stats.death),
        consistency.AFTER_DEATH: after_death,
        consistency.UNIQUE: consistency.check_unique(stats.records, stats.duplicates, stats.missing_ids),
        volume.TREND: (not_applicable(volume.TREND, "no period declared") if p is None
                       else volume.check_trend(stats.months, limits["trend_tolerance"])),
        "quarantine_share_within_limit": consistency.check_quarantine_share(
            0 if latest is None else int(latest["rows_read"]),
            0 if latest is None else int(latest["rows_quarantined"]), limits["max_quarantine_share"]),
    }
    return [outcomes[c.name] for c in CATALOGUE]


def run_source_checks(conn: Any, source: Source, registry: Registry, today: pd.Timestamp) -> list[CheckOutcome]:
    """Count what the checks judge in `source`'s raw tables (in SQL) and evaluate every check."""
    return evaluate(collect(conn, source, registry, today), source, today)
