"""Research project specifications (`config/projects/<project_id>.yaml`), validated at load.

A project is one YAML file; the extracts factory builds its assets from it. Every error
names the file and the key, because the person fixing a spec is usually a governance
lead, not the author of this code. The model itself is in `spec_model.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from dl_platform.extracts.spec_model import (
    CATALOG,
    COARSEN_RULES,
    DATASET_KEYS,
    DIRECT_IDENTIFIERS,
    DISCLOSURE_DEFAULTS,
    FILE1_FIELDS,
    LEGAL_BASES,
    PERMISSIONS,
    STATISTICS,
    TOP_KEYS,
    Aggregate,
    Cohort,
    Dataset,
    ProjectSpec,
    SpecError,
)
from dl_platform.safe_yaml import ConfigFileError, load_yaml

__all__ = [
    "CATALOG",
    "COARSEN_RULES",
    "DATASET_KEYS",
    "DIRECT_IDENTIFIERS",
    "DISCLOSURE_DEFAULTS",
    "FILE1_FIELDS",
    "LEGAL_BASES",
    "PERMISSIONS",
    "STATISTICS",
    "TOP_KEYS",
    "Aggregate",
    "Cohort",
    "Dataset",
    "ProjectSpec",
    "SpecError",
    "load_projects",
    "load_spec",
    "parse_spec",
]
_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


def _fail(path: Path, key: str, message: str) -> SpecError:
    return SpecError(f"{path}: '{key}': {message}")


def _str_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, key, "must be a list of names")
    return tuple(value)


def _date(path: Path, key: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(path, key, f"must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _cohort(path: Path, raw: Any, legal_basis: str) -> Cohort:
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "cohort", "must be a mapping with 'study' or 'population'")
    unknown = set(raw) - {"study", "permission", "population"}
    if unknown:
        raise _fail(
            path, f"cohort.{min(unknown)}", "unknown key (allowed: study, permission, population)"
        )
    if "study" in raw:
        if raw["study"] != "study_cohort":
            raise _fail(path, "cohort.study", "only 'study_cohort' participants are registered")
        permission = raw.get("permission")
        if permission not in PERMISSIONS:
            raise _fail(path, "cohort.permission", f"must be one of {PERMISSIONS}")
        return Cohort(study=True, permission=permission)
    pop = raw.get("population")
    if not isinstance(pop, dict):
        raise _fail(path, "cohort.population", "must be a mapping (min_age, max_age, flags)")
    unknown = set(pop) - {"min_age", "max_age", "flags"}
    if unknown:
        raise _fail(path, f"cohort.population.{min(unknown)}", "unknown key")
    for key in ("min_age", "max_age"):
        if key in pop and (not isinstance(pop[key], int) or pop[key] < 0):
            raise _fail(path, f"cohort.population.{key}", "must be a non-negative integer")
    flags = _str_list(path, "cohort.population.flags", pop.get("flags", []))
    if legal_basis == "consent":
        raise _fail(
            path, "cohort", "a consent project's cohort must be study participants ('study')"
        )
    return Cohort(min_age=pop.get("min_age"), max_age=pop.get("max_age"), flags=flags)


def _datasets(path: Path, raw: Any) -> tuple[Dataset, ...]:
    if not isinstance(raw, dict) or "person" not in raw:
        raise _fail(path, "datasets", "must be a mapping that includes 'person'")
    out = []
    for name, body in raw.items():
        key = f"datasets.{name}"
        if not isinstance(body, dict):
            raise _fail(path, key, "must be a mapping with 'variables'")
        unknown = set(body) - DATASET_KEYS
        if unknown:
            raise _fail(
                path, f"{key}.{min(unknown)}", f"unknown key (allowed: {sorted(DATASET_KEYS)})"
            )
        info = CATALOG.get(name)
        if info is None and "table" not in body:
            raise _fail(
                path, key, f"unknown dataset (known: {sorted(CATALOG)}); give 'table' to add one"
            )
        variables = _str_list(path, f"{key}.variables", body.get("variables"))
        direct = sorted(set(variables) & DIRECT_IDENTIFIERS)
        if direct:
            raise _fail(
                path, f"{key}.variables", f"direct identifiers never go in File 2: {direct}"
            )
        permission = body.get("permission")
        if permission is not None and permission not in PERMISSIONS:
            raise _fail(path, f"{key}.permission", f"must be one of {PERMISSIONS}")
        grain = (info or {}).get("grain", "event")
        if grain == "event" and not body.get("date_column"):
            raise _fail(
                path, f"{key}.date_column", "event datasets need the column the period applies to"
            )
        out.append(
            Dataset(
                name=name,
                table=body.get("table", (info or {}).get("table")),
                grain=grain,
                variables=variables,
                gp_sourced=bool(body.get("gp_sourced", (info or {}).get("gp_sourced", False))),
                date_column=body.get("date_column"),
                permission=permission,
            )
        )
    return tuple(out)


def _disclosure(path: Path, raw: Any) -> dict[str, Any]:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise _fail(path, "disclosure", "must be a mapping")
    unknown = set(raw) - set(DISCLOSURE_DEFAULTS)
    if unknown:
        raise _fail(
            path,
            f"disclosure.{min(unknown)}",
            f"unknown rule (allowed: {sorted(DISCLOSURE_DEFAULTS)})",
        )
    rules = {**DISCLOSURE_DEFAULTS, **raw}
    for key in ("threshold", "k", "rounding", "dominance_n", "extreme_age"):
        if not isinstance(rules[key], int) or rules[key] < 1:
            raise _fail(path, f"disclosure.{key}", "must be a positive integer")
    for key in ("dominance_k", "p_ratio", "max_generalisation_share"):
        if not isinstance(rules[key], (int, float)) or not 0 <= rules[key] <= 1:
            raise _fail(path, f"disclosure.{key}", "must be a fraction between 0 and 1")
    return rules


def _aggregates(path: Path, raw: Any, person_vars: tuple[str, ...]) -> tuple[Aggregate, ...]:
    out = []
    for i, body in enumerate(raw or []):
        key = f"aggregates[{i}]"
        if not isinstance(body, dict) or "name" not in body or "rows" not in body:
            raise _fail(
                path, key, "needs 'name' and 'rows' (and optionally columns, statistic, value)"
            )
        statistic = body.get("statistic", "count")
        if statistic not in STATISTICS:
            raise _fail(path, f"{key}.statistic", f"must be one of {STATISTICS}")
        if statistic != "count" and not body.get("value"):
            raise _fail(path, f"{key}.value", f"statistic '{statistic}' needs a value variable")
        for part in ("rows", "columns", "value"):
            if body.get(part) and body[part] not in person_vars:
                raise _fail(
                    path, f"{key}.{part}", f"'{body[part]}' is not a requested person variable"
                )
        out.append(
            Aggregate(
                name=body["name"],
                rows=body["rows"],
                columns=body.get("columns"),
                statistic=statistic,
                value=body.get("value"),
            )
        )
    return tuple(out)


def parse_spec(raw: Any, path: Path) -> ProjectSpec:
    """Validate one parsed YAML document.

    Args:
        raw: The parsed YAML.
        path: The file it came from (for error messages).

    Returns:
        The validated spec.

    Raises:
        SpecError: naming the file and the offending key.
    """
    if not isinstance(raw, dict):
        raise _fail(path, "(top)", "must be a mapping")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise _fail(path, min(unknown), f"unknown key (allowed: {sorted(TOP_KEYS)})")
    for key in ("id", "title", "legal_basis", "cohort", "datasets", "period"):
        if key not in raw:
            raise _fail(path, key, "is required")
    if not isinstance(raw["id"], str) or not _ID.match(raw["id"]):
        raise _fail(path, "id", "must be snake_case (a-z, 0-9, _), 2-41 characters")
    if raw["id"] != path.stem:
        raise _fail(path, "id", f"'{raw['id']}' must equal the file name '{path.stem}'")
    if raw["legal_basis"] not in LEGAL_BASES:
        raise _fail(path, "legal_basis", f"must be one of {LEGAL_BASES}")
    period = raw["period"]
    if not isinstance(period, dict) or {"start", "end"} - set(period):
        raise _fail(path, "period", "needs 'start' and 'end'")
    start, end = (
        _date(path, "period.start", period["start"]),
        _date(path, "period.end", period["end"]),
    )
    if end < start:
        raise _fail(path, "period.end", "is before period.start")
    datasets = _datasets(path, raw["datasets"])
    person_vars = next(d for d in datasets if d.name == "person").variables
    qis = _str_list(path, "quasi_identifiers", raw.get("quasi_identifiers", []))
    missing = [q for q in qis if q not in person_vars]
    if missing:
        raise _fail(path, "quasi_identifiers", f"{missing} are not requested person variables")
    file1 = raw.get("file1", [])
    file1 = _str_list(path, "file1", file1) if file1 else ()
    bad = [f for f in file1 if f not in FILE1_FIELDS]
    if bad:
        raise _fail(path, "file1", f"{bad} are not identifier fields {FILE1_FIELDS}")
    if file1 and raw["legal_basis"] == "anonymous":
        raise _fail(path, "file1", "an anonymous project cannot receive identifiers")
    coarsen = raw.get("coarsen", {}) or {}
    if not isinstance(coarsen, dict) or any(v not in COARSEN_RULES for v in coarsen.values()):
        raise _fail(path, "coarsen", f"must map variable -> one of {COARSEN_RULES}")
    return ProjectSpec(
        id=raw["id"],
        title=str(raw["title"]),
        legal_basis=raw["legal_basis"],
        cohort=_cohort(path, raw["cohort"], raw["legal_basis"]),
        datasets=datasets,
        period_start=start,
        period_end=end,
        file1_fields=file1,
        quasi_identifiers=qis,
        disclosure=_disclosure(path, raw.get("disclosure")),
        aggregates=_aggregates(path, raw.get("aggregates"), person_vars),
        coarsen=dict(coarsen),
        path=str(path),
    )


def load_spec(path: Path) -> ProjectSpec:
    """Read and validate one project file."""
    try:
        raw = load_yaml(path)
    except ConfigFileError as exc:
        raise SpecError(str(exc)) from None
    return parse_spec(raw, path)


def load_projects(projects_dir: Path) -> list[ProjectSpec]:
    """Every `*.yaml` project in `projects_dir` (sorted by id); none if the folder is absent."""
    if not projects_dir.is_dir():
        return []
    return sorted((load_spec(p) for p in projects_dir.glob("*.yaml")), key=lambda s: s.id)
