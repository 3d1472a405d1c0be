"""Consistency: a dataset that is all one sex, impossible dates, activity after death,
duplicate record ids. Each is a red flag that the extract, not the population, is wrong.
"""

from __future__ import annotations

import pandas as pd

from dl_platform.quality.outcome import CheckOutcome, not_applicable
from dl_platform.quality.thresholds import (
    MAX_ACTIVITY_AFTER_DEATH,
    SEX_MAX_SINGLE_SHARE,
    SEX_MIN_RECORDS,
)

SEX = "sex_not_all_one_value"
FUTURE_DOB = "no_future_dates_of_birth"
DEATH_BEFORE_BIRTH = "no_death_before_birth"
AFTER_DEATH = "no_activity_after_death"
UNIQUE = "record_id_unique"


def check_sex_mix(counts: dict[str, int] | None) -> CheckOutcome:
    """Fails when at least 99% of the records with a known sex have the same one.

    Args:
        counts: records by standardised sex ('M', 'F'); None when the source has no sex field.
    """
    if counts is None:
        return not_applicable(SEX, "the source carries no sex field")
    known = sum(counts.values())
    if known < SEX_MIN_RECORDS:
        return not_applicable(SEX, f"fewer than {SEX_MIN_RECORDS} records with a known sex")
    code, most = max(counts.items(), key=lambda kv: kv[1])
    top = most / known
    passed = top < SEX_MAX_SINGLE_SHARE
    label = {"M": "male", "F": "female"}[code]
    reason = "" if passed else (
        f"{top:.1%} of {known} records with a known sex are {label}; a delivery that is (almost) "
        f"all one sex usually means a mis-mapped or filtered extract"
    )
    return CheckOutcome(SEX, passed, measured=round(top, 4), threshold=SEX_MAX_SINGLE_SHARE, reason=reason,
                        details={"records_with_known_sex": known, "most_common": label})


def check_future_dob(dob: dict[str, int] | None, today: pd.Timestamp) -> CheckOutcome:
    """Records whose (parsed) date of birth is after the run date.

    Args:
        dob: `with_dob` and `future` counts; None when the source has no date of birth.
        today: the run date (for the message).
    """
    if dob is None:
        return not_applicable(FUTURE_DOB, "the source carries no date of birth")
    future = dob["future"]
    reason = "" if not future else f"{future} records have a date of birth after {today.date()}"
    return CheckOutcome(FUTURE_DOB, not future, measured=future, threshold=0, reason=reason,
                        details={"records_with_dob": dob["with_dob"]})


def check_death_before_birth(death: dict[str, int] | None) -> CheckOutcome:
    """Records whose date of death precedes their date of birth (both parsed).

    Args:
        death: `with_death`, `both` (records with both dates) and `death_before_birth` counts;
            None when the source lacks either date.
    """
    if death is None:
        return not_applicable(DEATH_BEFORE_BIRTH, "the source carries no date of death and date of birth")
    bad, both = death["death_before_birth"], death["both"]
    reason = "" if not bad else f"{bad} of {both} records with both dates died before they were born"
    return CheckOutcome(DEATH_BEFORE_BIRTH, not bad, measured=bad, threshold=0, reason=reason,
                        details={"records_with_death": death["with_death"]})


def check_activity_after_death(deceased: int, after: int, date_column: str) -> CheckOutcome:
    """Records dated after the master register's date of death for the same valid NHS number.

    Args:
        deceased: records whose NHS number the master holds a date of death for (and dated).
        after: of those, records dated after that death.
        date_column: the delivery column the activity date came from (for the message).

    Returns:
        Fails when more than `MAX_ACTIVITY_AFTER_DEATH` records are dated after death.
    """
    passed = after <= MAX_ACTIVITY_AFTER_DEATH
    reason = "" if passed else (
        f"{after} records have {date_column} after the date of death the master register holds "
        f"for their NHS number ({deceased} records belong to people recorded as dead)"
    )
    return CheckOutcome(AFTER_DEATH, passed, measured=after, threshold=MAX_ACTIVITY_AFTER_DEATH, reason=reason,
                        details={"records_of_deceased": deceased})


def check_unique(records: int, duplicates: int, missing: int) -> CheckOutcome:
    """Duplicate or missing record ids in the loaded table (`duplicates`: rows beyond the
    first of each id)."""
    bad = missing + duplicates
    reason = "" if not bad else (
        f"{duplicates} duplicate and {missing} missing record ids among {records} records"
    )
    return CheckOutcome(UNIQUE, not bad, measured=bad, threshold=0, reason=reason,
                        details={"records": records, "duplicates": duplicates, "missing": missing})


def check_quarantine_share(rows_read: int, rows_quarantined: int, limit: float) -> CheckOutcome:
    """Share of the latest delivery's rows sent to quarantine."""
    name = "quarantine_share_within_limit"
    if rows_read <= 0:
        return not_applicable(name, "no delivery with rows loaded yet")
    share = rows_quarantined / rows_read
    passed = share <= limit
    reason = "" if passed else (
        f"{rows_quarantined} of {rows_read} rows ({share:.1%}) of the latest delivery were quarantined, "
        f"above the limit of {limit:.0%}; see the quarantine table's reasons"
    )
    return CheckOutcome(name, passed, measured=round(share, 4), threshold=limit, reason=reason,
                        details={"rows_read": rows_read, "rows_quarantined": rows_quarantined})
