"""The research project model: dataclasses, defaults and the dataset catalogue.

Parsing and validation live in `spec.py`; this module only says what a project is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dl_platform.sources.registry import STANDARD_FIELDS

LEGAL_BASES = ("consent", "s251", "anonymous")
PERMISSIONS = ("perm_nhse_linkage", "perm_gp_data", "perm_hes_data")
# File 1 may carry any standard identifier field the registry maps (not the record key).
FILE1_FIELDS = tuple(f for f in STANDARD_FIELDS if f != "record_id")
# Never allowed in File 2, whatever a spec asks for (DOMAIN.md, split-file protocol).
DIRECT_IDENTIFIERS = frozenset(
    {
        "person_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
        "address",
        "participant_id",
        "participant_ref",
        "record_id",
        "uprn",
    }
)
COARSEN_RULES = ("year", "year_month", "age_band", "encrypt", "exclude", "keep")
STATISTICS = ("count", "sum", "mean")
TOP_KEYS = {
    "id",
    "title",
    "legal_basis",
    "cohort",
    "datasets",
    "period",
    "file1",
    "quasi_identifiers",
    "disclosure",
    "aggregates",
    "coarsen",
    "description",
}
DATASET_KEYS = {"table", "variables", "date_column", "permission", "gp_sourced"}
DISCLOSURE_DEFAULTS: dict[str, Any] = {
    # UK LLC / SACRO defaults (DOMAIN.md): threshold 10, top-2 dominance < 90%, p-ratio 10%.
    "threshold": 10,
    "k": 10,
    "rounding": 5,
    "dominance_n": 2,
    "dominance_k": 0.9,
    "p_ratio": 0.1,
    "zeros_disclosive": True,
    "extreme_age": 100,
    "max_generalisation_share": 0.05,
}

# Where each named dataset lives in the marts, its grain, and whether it is GP-sourced
# (type-1 opt-outs stop GP-sourced data). A spec may override `table` and `gp_sourced`.
CATALOG: dict[str, dict[str, Any]] = {
    "person": {"table": "marts.dim_person", "grain": "person", "gp_sourced": False},
    "hospital_episodes": {
        "table": "marts.fct_hospital_episodes",
        "grain": "event",
        "gp_sourced": False,
    },
    "ae_attendances": {"table": "marts.fct_ae_attendances", "grain": "event", "gp_sourced": False},
    "social_care_events": {
        "table": "marts.fct_social_care_events",
        "grain": "event",
        "gp_sourced": False,
    },
    "gp_registrations": {
        "table": "marts.fct_gp_registrations",
        "grain": "event",
        "gp_sourced": True,
    },
}


class SpecError(ValueError):
    """A project spec that cannot be used; the message names file and key."""


@dataclass(frozen=True)
class Cohort:
    """Who is in the extract: study participants with a permission, or a population rule."""

    study: bool = False
    permission: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """One dataset requested by a project and the variables wanted from it."""

    name: str
    table: str
    grain: str
    variables: tuple[str, ...]
    gp_sourced: bool
    date_column: str | None = None
    permission: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """One aggregate output (a count or a statistic by group) to check and release."""

    name: str
    rows: str
    columns: str | None = None
    statistic: str = "count"
    value: str | None = None


@dataclass(frozen=True)
class ProjectSpec:
    """A validated research project."""

    id: str
    title: str
    legal_basis: str
    cohort: Cohort
    datasets: tuple[Dataset, ...]
    period_start: dt.date
    period_end: dt.date
    file1_fields: tuple[str, ...]
    quasi_identifiers: tuple[str, ...]
    disclosure: dict[str, Any]
    aggregates: tuple[Aggregate, ...]
    coarsen: dict[str, str] = field(default_factory=dict)
    path: str = ""

    @property
    def person(self) -> Dataset:
        return next(d for d in self.datasets if d.name == "person")

    @property
    def spec_hash(self) -> str:
        """sha256 of the validated spec (not the file bytes: comments and layout don't matter)."""
        body = {k: v for k, v in asdict(self).items() if k != "path"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
