"""Building one project's extract from the warehouse, step by step (Dagster-free).

Order matters and is the point of this module: opt-outs and permissions first (cohort),
then minimisation (requested variables and period only), pseudonymisation (study IDs),
coarsening/encryption, and only then k-anonymity and aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dl_platform.extracts import coarsen, disclosure, kanonymity, optouts
from dl_platform.extracts.pseudonymise import study_ids
from dl_platform.extracts.spec import DIRECT_IDENTIFIERS, Dataset, ProjectSpec

PERSON_TABLES = ("marts.dim_person", "marts.person_flags")
PERMISSION_COLUMNS = ("consent_basis", "perm_nhse_linkage", "perm_gp_data", "perm_hes_data")


class ExtractInputError(RuntimeError):
    """A mart the extract needs is missing or lacks a requested column."""


def _columns(conn: Any, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        raise ExtractInputError(
            f"{table} does not exist in the warehouse: materialise the marts (and mpi) first"
        )
    return [r[0] for r in rows]


def _table_exists(conn: Any, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        conn.execute(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    )


def _person_relation(conn: Any) -> tuple[str, list[str]]:
    """SQL for marts.dim_person joined to marts.person_flags, and its columns."""
    person_cols = _columns(conn, "marts.dim_person")
    flag_cols = [c for c in _columns(conn, "marts.person_flags") if c not in person_cols]
    select = ", ".join(["p.*", *(f'f."{c}"' for c in flag_cols)])
    sql = f"(select {select} from marts.dim_person p left join marts.person_flags f using (person_id))"
    return sql, person_cols + flag_cols


def read_persons(conn: Any) -> pd.DataFrame:
    """marts.dim_person joined to marts.person_flags: one row per person_id."""
    sql, _ = _person_relation(conn)
    return conn.execute(f"select * from {sql}").df()


def read_delivery_log(conn: Any) -> pd.DataFrame | None:
    if not _table_exists(conn, "raw.delivery_log"):
        return None
    return conn.execute(
        "select source, delivery_file, outcome, loaded_at from raw.delivery_log"
    ).df()


def build_cohort(
    conn: Any, spec: ProjectSpec, key: bytes
) -> tuple[pd.DataFrame, dict[str, int], dict[str, Any]]:
    """The cohort after opt-outs and the cohort rule, with study IDs.

    Returns:
        (cohort frame: person_id, study_id, year_of_birth, opt-out and permission flags;
         exclusion counts by reason; the opt-out list version applied).
    """
    persons = read_persons(conn)
    participation = (
        conn.execute("select * from marts.fct_study_participation").df()
        if spec.cohort.study
        else None
    )
    result = optouts.select_cohort(persons, participation, spec)
    cohort = result.persons
    cohort["study_id"] = study_ids(cohort["person_id"], key)
    keep = ["person_id", "study_id", "year_of_birth", "national_opt_out", "type1_opt_out"]
    keep += [c for c in PERMISSION_COLUMNS if c in cohort.columns]
    version = optouts.optout_list_version(read_delivery_log(conn), persons)
    return cohort[keep].sort_values("study_id").reset_index(drop=True), result.excluded, version


def build_file1(conn: Any, spec: ProjectSpec, cohort: pd.DataFrame) -> pd.DataFrame:
    """File 1: study_id, the spec's identifier fields from mpi.golden_record, and permission flags."""
    if not spec.file1_fields:
        return pd.DataFrame(columns=["study_id"])
    available = _columns(conn, "mpi.golden_record")
    missing = [f for f in spec.file1_fields if f not in available]
    if missing:
        raise ExtractInputError(
            f"mpi.golden_record lacks {missing} requested by project {spec.id} (file1)"
        )
    fields = ", ".join(f'"{f}"' for f in spec.file1_fields)
    golden = conn.execute(f"select person_id, {fields} from mpi.golden_record").df()
    permissions = [c for c in PERMISSION_COLUMNS if c in cohort.columns]
    out = cohort[["person_id", "study_id", *permissions]].merge(golden, on="person_id", how="left")
    return (
        out[["study_id", *spec.file1_fields, *permissions]]
        .sort_values("study_id")
        .reset_index(drop=True)
    )


def _select(conn: Any, spec: ProjectSpec, dataset: Dataset, person_ids: pd.Series) -> pd.DataFrame:
    if dataset.grain == "person":
        relation, columns = _person_relation(conn)
    else:
        relation, columns = dataset.table, _columns(conn, dataset.table)
    available = set(columns)
    wanted = [v for v in dataset.variables if v not in ("person_id",)]
    missing = sorted(set(wanted) - available) + (
        [dataset.date_column]
        if dataset.date_column and dataset.date_column not in available
        else []
    )
    if missing:
        raise ExtractInputError(
            f"{dataset.table} has no column(s) {missing} (project {spec.id}, dataset {dataset.name})"
        )
    cols = ", ".join(f'"{c}"' for c in ["person_id", *wanted])
    where = ""
    params: list[Any] = []
    if dataset.grain == "event" and dataset.date_column:
        where = f' where cast("{dataset.date_column}" as date) between ? and ?'
        params = [spec.period_start, spec.period_end]
    frame = conn.execute(f"select {cols} from {relation} as t{where}", params).df()
    return frame[frame["person_id"].isin(set(person_ids))]


@dataclass
class File2Build:
    """File 2 frames and what was done to them."""

    files: dict[str, pd.DataFrame] = field(default_factory=dict)
    treatments: dict[str, dict[str, str]] = field(default_factory=dict)
    analysis_persons: pd.DataFrame = field(default_factory=pd.DataFrame)
    kanon_report: dict[str, Any] = field(default_factory=dict)
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)


def build_file2(conn: Any, spec: ProjectSpec, cohort: pd.DataFrame, key: bytes) -> File2Build:
    """File 2: per dataset, only requested variables and period, study_id for person_id, coarsened.

    The person file (`file2_payload`) is then made k-anonymous on the quasi-identifiers; event
    files (`file2_<dataset>`) carry no quasi-identifiers. `analysis_persons` is the coarsened
    person frame before k-anonymity, from which aggregates are computed and then protected.
    """
    build = File2Build()
    ids = cohort.set_index("person_id")["study_id"]
    for dataset in spec.datasets:
        allowed, excluded = optouts.allowed_persons(cohort, dataset, spec)
        build.excluded[dataset.name] = excluded
        frame = _select(conn, spec, dataset, allowed)
        frame.insert(0, "study_id", frame.pop("person_id").map(ids))
        frame, rules = coarsen.coarsen_frame(frame, spec.coarsen, key, spec.period_end)
        applied = {c: coarsen.RULE_LABELS.get(r, r) for c, r in rules.items()}
        leaked = sorted(set(frame.columns) & DIRECT_IDENTIFIERS)
        if leaked:
            raise ExtractInputError(
                f"refusing to write direct identifiers {leaked} into File 2 ({dataset.name})"
            )
        name = "file2_payload" if dataset.name == "person" else f"file2_{dataset.name}"
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        if dataset.name == "person":
            build.analysis_persons = frame
            frame, build.kanon_report = kanonymity.anonymise(
                frame,
                spec.quasi_identifiers,
                spec.disclosure["k"],
                spec.disclosure["max_generalisation_share"],
            )
            for qi in spec.quasi_identifiers:
                applied[qi] = (
                    f"{applied.get(qi, 'as in marts')}; quasi-identifier (k={spec.disclosure['k']})"
                )
        build.files[name] = frame
        build.treatments[name] = applied
    return build


def build_aggregates(spec: ProjectSpec, analysis_persons: pd.DataFrame) -> pd.DataFrame:
    """Every aggregate of the spec, protected (internal table: includes raw counts)."""
    return disclosure.protect_all(analysis_persons, spec.aggregates, spec.disclosure)
