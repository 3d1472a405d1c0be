"""Automated disclosure-risk assessment: every flag a reviewer must decide on before release.

Flags cover small cells in aggregates, rare quasi-identifier combinations in record-level
files, extreme ages (e.g. 100+, few such people exist), free-text-like columns, a cohort
smaller than the threshold, and File 1 itself (identifiers leave, to a trusted third party).
Flags carry counts and reasons only, never values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from dl_platform.extracts.coarsen import age_at
from dl_platform.extracts.disclosure import PRIMARY, SECONDARY


@dataclass(frozen=True)
class Flag:
    """One risk for a reviewer: stable id (category:object), what it is about, and how many."""

    flag_id: str
    category: str
    object: str
    description: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _flag(category: str, obj: str, description: str, count: int) -> Flag:
    return Flag(f"{category}:{obj}", category, obj, description, int(count))


def small_cell_flags(aggregates: pd.DataFrame) -> list[Flag]:
    """One flag per aggregate with any suppressed cell."""
    flags = []
    for name, table in aggregates.groupby("aggregate", sort=True):
        primary, secondary = (
            int((table["status"] == PRIMARY).sum()),
            int((table["status"] == SECONDARY).sum()),
        )
        if primary:
            flags.append(
                _flag(
                    "small_cells",
                    str(name),
                    f"{primary} cells below the threshold suppressed, {secondary} more suppressed "
                    "so totals cannot recover them; check the released table",
                    primary + secondary,
                )
            )
    return flags


def rare_combination_flag(report: dict[str, Any], file_name: str) -> list[Flag]:
    """A flag when any record sat in a quasi-identifier class smaller than k before protection."""
    before = report["records_in_small_classes_before"]
    if not before:
        return []
    steps = "; ".join(report["generalisations"]) or "none"
    return [
        _flag(
            "rare_combinations",
            file_name,
            f"{before} records in classes smaller than k={report['k']} on {report['quasi_identifiers']}; "
            f"generalised ({steps}), {report['records_suppressed']} suppressed, "
            f"{report['records_withheld']} withheld",
            before,
        )
    ]


def extreme_age_flag(
    persons: pd.DataFrame, extreme_age: int, on: Any, file_name: str
) -> list[Flag]:
    """A flag when the cohort holds people aged `extreme_age` or over (rare, so identifiable)."""
    if "year_of_birth" not in persons:
        return []
    n = int((age_at(persons["year_of_birth"], on) >= extreme_age).sum())
    if not n:
        return []
    return [
        _flag(
            "extreme_age",
            file_name,
            f"{n} persons aged {extreme_age} or over; check age is banded with an open top band",
            n,
        )
    ]


def free_text_flags(frame: pd.DataFrame, file_name: str) -> list[Flag]:
    """Flags for columns that look like free text (long or many-word values): they may name people."""
    flags = []
    for column in frame.columns:
        if column == "study_id" or column.endswith("_e") or frame[column].dtype != object:
            continue
        values = frame[column].dropna().astype(str)
        if values.empty:
            continue
        wordy = values.str.contains(r"\s\S+\s", regex=True).mean()
        if values.str.len().mean() >= 25 or (wordy > 0.3 and values.nunique() > 20):
            flags.append(
                _flag(
                    "free_text",
                    f"{file_name}.{column}",
                    f"column '{column}' looks like free text ({values.nunique()} distinct values)",
                    len(values),
                )
            )
    return flags


def assess(
    *,
    cohort_size: int,
    threshold: int,
    aggregates: pd.DataFrame,
    kanon_report: dict[str, Any],
    persons: pd.DataFrame,
    extreme_age: int,
    on: Any,
    payloads: dict[str, pd.DataFrame],
    file1_rows: int,
) -> list[Flag]:
    """Every flag for one extract version, sorted by id.

    Args:
        cohort_size: Persons in the extract.
        threshold: The project's minimum cell size.
        aggregates: Protected aggregates (disclosure.protect_all).
        kanon_report: kanonymity.anonymise's report for the person file.
        persons: The person frame before k-anonymity (with year_of_birth when present).
        extreme_age: Age from which a person is flagged.
        on: Reference date for ages.
        payloads: File 2 frames by file name (for free-text detection).
        file1_rows: Rows in File 1 (0 when the project has none).

    Returns:
        Flags; an empty list means nothing needs review.
    """
    flags: list[Flag] = []
    if cohort_size < threshold:
        flags.append(
            _flag(
                "small_cohort",
                "cohort",
                f"only {cohort_size} persons (threshold {threshold})",
                cohort_size,
            )
        )
    if file1_rows:
        flags.append(
            _flag(
                "identifiers",
                "file1_identifiers",
                "File 1 holds direct identifiers: confirm it goes only to the trusted third party",
                file1_rows,
            )
        )
    flags += small_cell_flags(aggregates)
    flags += rare_combination_flag(kanon_report, "file2_payload")
    flags += extreme_age_flag(persons, extreme_age, on, "file2_payload")
    for name, frame in payloads.items():
        flags += free_text_flags(frame, name)
    return sorted(flags, key=lambda f: f.flag_id)
