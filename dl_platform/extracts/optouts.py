"""Opt-outs and permissions, applied before anything else an extract does.

Rules (DOMAIN.md): the national data opt-out applies to s251 (and anonymous) projects and to
study participants whose consent basis is s251; it still applies after death. A GP type-1
opt-out stops GP-sourced data. Study participants carry per-linkage permission flags; a
withdrawn participant gets nothing. Opt-outs are read from the marts as they stand when the
extract is built, so a delta delivery takes effect from the next extract version; the
version of the list applied is recorded in the manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dl_platform.extracts.coarsen import age_at
from dl_platform.extracts.spec import Dataset, ProjectSpec

OPTOUT_SOURCES = ("national_opt_out", "type1_opt_out")
_TRUE = {"y", "yes", "true", "t", "1"}


def as_flag(values: pd.Series) -> pd.Series:
    """Booleans from Y/N, true/false, 1/0 or real booleans; anything else (incl. null) is False."""
    return values.map(
        lambda v: str(v).strip().lower() in _TRUE if v is not None and not pd.isna(v) else False
    )


@dataclass
class CohortResult:
    """The persons an extract may include, and why others were left out (counts only)."""

    persons: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)


def _drop(
    frame: pd.DataFrame, mask: pd.Series, reason: str, excluded: dict[str, int]
) -> pd.DataFrame:
    excluded[reason] = excluded.get(reason, 0) + int(mask.sum())
    return frame.loc[~mask]


def select_cohort(
    persons: pd.DataFrame, participation: pd.DataFrame | None, spec: ProjectSpec
) -> CohortResult:
    """Apply opt-outs first, then the cohort rule.

    Args:
        persons: marts.dim_person joined to marts.person_flags (one row per person_id).
        participation: marts.fct_study_participation (needed for study cohorts).
        spec: The project.

    Returns:
        The cohort (persons rows, plus permission flags for study cohorts) and exclusion counts.
    """
    excluded: dict[str, int] = {}
    frame = persons.copy()
    frame["national_opt_out"] = as_flag(frame["national_opt_out"])
    frame["type1_opt_out"] = as_flag(frame["type1_opt_out"])
    if spec.cohort.study:
        if participation is None:
            raise ValueError(
                f"project {spec.id}: a study cohort needs marts.fct_study_participation"
            )
        part = participation.drop_duplicates("person_id").copy()
        for column in ("perm_nhse_linkage", "perm_gp_data", "perm_hes_data", "withdrawn"):
            part[column] = as_flag(part[column])
        frame = frame.merge(
            part[
                [
                    "person_id",
                    "consent_basis",
                    "perm_nhse_linkage",
                    "perm_gp_data",
                    "perm_hes_data",
                    "withdrawn",
                ]
            ],
            on="person_id",
            how="inner",
        )
        frame = _drop(frame, frame["withdrawn"], "withdrawn_from_study", excluded)
        ndoo_applies = frame["consent_basis"].astype(str).str.lower().eq("s251") | (
            spec.legal_basis != "consent"
        )
    else:
        ndoo_applies = pd.Series(spec.legal_basis != "consent", index=frame.index)
    frame = _drop(
        frame, frame["national_opt_out"] & ndoo_applies, "national_data_opt_out", excluded
    )
    if spec.cohort.study:
        frame = _drop(
            frame, ~frame[spec.cohort.permission], f"no_{spec.cohort.permission}", excluded
        )
    else:
        age = age_at(frame["year_of_birth"], spec.period_end)
        if spec.cohort.min_age is not None:
            frame = _drop(
                frame, ~(age.loc[frame.index] >= spec.cohort.min_age), "below_min_age", excluded
            )
        if spec.cohort.max_age is not None:
            frame = _drop(
                frame, ~(age.loc[frame.index] <= spec.cohort.max_age), "above_max_age", excluded
            )
        for flag in spec.cohort.flags:
            frame = _drop(frame, ~as_flag(frame[flag]), f"without_{flag}", excluded)
    return CohortResult(persons=frame.reset_index(drop=True), excluded=excluded)


def allowed_persons(
    cohort: pd.DataFrame, dataset: Dataset, spec: ProjectSpec
) -> tuple[pd.Series, dict[str, int]]:
    """The cohort person_ids whose data from `dataset` may be extracted, and exclusion counts.

    Type-1 opt-outs remove GP-sourced data; a dataset's study permission flag removes
    participants who did not grant that linkage.
    """
    keep = pd.Series(True, index=cohort.index)
    excluded: dict[str, int] = {}
    if dataset.gp_sourced:
        excluded["type1_opt_out"] = int(cohort["type1_opt_out"].sum())
        keep &= ~cohort["type1_opt_out"]
    if dataset.permission and spec.cohort.study:
        lacks = ~cohort[dataset.permission]
        excluded[f"no_{dataset.permission}"] = int((lacks & keep).sum())
        keep &= ~lacks
    return cohort.loc[keep, "person_id"], excluded


def optout_list_version(delivery_log: pd.DataFrame | None, persons: pd.DataFrame) -> dict[str, Any]:
    """Which opt-out list an extract applied: latest loaded delivery per list + a hash of the set.

    Args:
        delivery_log: raw.delivery_log rows (or None when the warehouse has none).
        persons: The person frame with national_opt_out / type1_opt_out flags.

    Returns:
        A JSON-able description for the manifest (no identifiers: file names, counts, hashes).
    """
    version: dict[str, Any] = {}
    for source in OPTOUT_SOURCES:
        rows = (
            pd.DataFrame()
            if delivery_log is None
            else delivery_log[
                (delivery_log["source"] == source) & (delivery_log["outcome"] == "loaded")
            ]
        )
        latest = rows.sort_values("loaded_at").iloc[-1] if len(rows) else None
        version[source] = {
            "deliveries_loaded": len(rows),
            "latest_delivery_file": None if latest is None else str(latest["delivery_file"]),
            "latest_loaded_at": None if latest is None else str(latest["loaded_at"]),
        }
    national = persons.loc[as_flag(persons["national_opt_out"]), "person_id"].astype(str)
    type1 = persons.loc[as_flag(persons["type1_opt_out"]), "person_id"].astype(str)
    members = "\n".join(sorted([f"national:{p}" for p in national] + [f"type1:{p}" for p in type1]))
    version["national_opt_out_persons"] = len(national)
    version["type1_opt_out_persons"] = len(type1)
    version["opt_out_set_sha256"] = hashlib.sha256(members.encode()).hexdigest()
    return version
