"""The assets of one research project (see factory.py for the list and the review gate)."""

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from dl_platform.extracts import manifest, package, review
from dl_platform.extracts.build import ExtractInputError
from dl_platform.extracts.pseudonymise import MissingKeyError
from dl_platform.extracts.spec import ProjectSpec
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.factory import WAREHOUSE_POOL

GROUP = "extracts"
GOLDEN = dg.AssetKey(["mpi", "golden_record"])
PERSON_MARTS = [dg.AssetKey(["marts", "dim_person"]), dg.AssetKey(["marts", "person_flags"])]


def key(spec: ProjectSpec, name: str) -> dg.AssetKey:
    return dg.AssetKey(["extracts", spec.id, name])


class ReviewConfig(dg.Config):
    """Launchpad route: record a named reviewer's decision on some or all flags of a version."""

    version: str = Field(
        default="", description="Version to review or release, e.g. 'v2' (default: the newest)."
    )
    reviewer: str = Field(
        default="", description="Your name; when set, your decision is recorded first."
    )
    decision: str = Field(default="approve", description="approve | reject")
    reason: str = Field(default="", description="Why (required with a reviewer).")
    flags: list[str] = Field(
        default=[], description="Flag ids to review; empty with review_all reviews all."
    )
    review_all: bool = Field(
        default=False, description="Apply the decision to every flag of the version."
    )


def _project_dir(spec: ProjectSpec) -> Path:
    return get_settings().extracts_dir / spec.id


def _failure(exc: Exception) -> dg.Failure:
    return dg.Failure(description=str(exc))


def _apply_review(conn: Any, spec: ProjectSpec, config: ReviewConfig) -> str:
    """The version the config names (default newest), after recording the config's review if any."""
    version = config.version or review.latest_version(conn, spec.id)
    if version is None:
        raise review.ReviewError(
            f"{spec.id} has no extract version; materialise extracts/{spec.id}/disclosure first"
        )
    if config.reviewer:
        if not config.review_all and not config.flags:
            raise review.ReviewError(
                "name the flags to review (flags: [...]) or set review_all: true"
            )
        review.record_review(
            conn,
            project=spec.id,
            version=version,
            reviewer=config.reviewer,
            decision=config.decision,
            reason=config.reason,
            flag_ids=None if config.review_all else config.flags,
            via="dagster",
        )
    return version


def _md_flags(flags: list[dict]) -> str:
    rows = "\n".join(f"| {f['flag_id']} | {f['count']} | {f['description']} |" for f in flags)
    return "| flag | count | description |\n|---|---|---|\n" + (rows or "| (none) | | |")


def build_assets(spec: ProjectSpec) -> list[dg.AssetsDefinition]:
    common = {
        "group_name": GROUP,
        "pool": WAREHOUSE_POOL,
        "kinds": {"parquet"},
        "tags": {"legal_basis": spec.legal_basis},
    }
    cohort_deps = PERSON_MARTS + (
        [dg.AssetKey(["marts", "fct_study_participation"])] if spec.cohort.study else []
    )
    dataset_deps = [
        dg.AssetKey(["marts", d.table.split(".")[-1]]) for d in spec.datasets if d.grain == "event"
    ]

    @dg.asset(key=key(spec, "cohort"), deps=cohort_deps, **common)
    def cohort(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """One row per person in the project's cohort after opt-outs and permissions (applied first) and
        the cohort rule, from marts.dim_person, marts.person_flags and marts.fct_study_participation.
        Kept in the project's build folder; never released as such."""
        try:
            with warehouse.get_connection() as conn:
                frame, report = package.stage_cohort(
                    conn, spec, get_settings().pseudonymisation_key, _project_dir(spec)
                )
        except (MissingKeyError, ExtractInputError) as exc:
            raise _failure(exc) from None
        context.log.info(f"{spec.id}: cohort {len(frame)} persons; excluded {report['excluded']}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(frame),
                "excluded": dg.MetadataValue.json(report["excluded"]),
                "optout_list_version": dg.MetadataValue.json(report["optout_list_version"]),
            }
        )

    @dg.asset(key=key(spec, "file1"), deps=[key(spec, "cohort"), GOLDEN], **common)
    def file1(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """File 1: one row per cohort member with study_id, the identifiers the spec names (from
        mpi.golden_record) and permission flags, for the trusted third party only."""
        try:
            with warehouse.get_connection() as conn:
                frame = package.stage_file1(conn, spec, _project_dir(spec))
        except ExtractInputError as exc:
            raise _failure(exc) from None
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(frame),
                "fields": dg.MetadataValue.json(list(spec.file1_fields)),
            }
        )

    @dg.asset(key=key(spec, "file2"), deps=[key(spec, "cohort"), *dataset_deps], **common)
    def file2(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """File 2: one row per cohort member (file2_payload) and one per in-period event per dataset
        (file2_<dataset>), keyed by the project's study_id; only requested variables, coarsened or
        encrypted (_e), k-anonymous on the quasi-identifiers."""
        try:
            with warehouse.get_connection() as conn:
                result = package.stage_file2(
                    conn, spec, get_settings().pseudonymisation_key, _project_dir(spec)
                )
        except (MissingKeyError, ExtractInputError) as exc:
            raise _failure(exc) from None
        rows = {k: len(v) for k, v in result.files.items()}
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows.get("file2_payload", 0),
                "rows": dg.MetadataValue.json(rows),
                "kanonymity": dg.MetadataValue.json(result.kanon_report),
                "excluded_by_dataset": dg.MetadataValue.json(result.excluded),
            }
        )

    @dg.asset(key=key(spec, "disclosure"), deps=[key(spec, "file1"), key(spec, "file2")], **common)
    def disclosure(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """One row per risk flag of the newest extract version: aggregates protected (threshold,
        dominance, p-ratio, secondary suppression, rounding), the automated risk assessment, and the
        version folder extracts/<project>/v<N>/ written (or reused when identical) and registered."""
        with warehouse.get_connection() as conn:
            result = package.package(spec, _project_dir(spec), conn)
        flags = [f.as_dict() for f in result.flags]
        context.log.info(
            f"{spec.id} {result.version_dir.name}: {result.status}, {len(flags)} flag(s)"
        )
        return dg.MaterializeResult(
            metadata={
                "version": result.version_dir.name,
                "status": result.status,
                "new_version": result.created,
                "path": dg.MetadataValue.path(str(result.version_dir)),
                "dagster/row_count": len(flags),
                "flags": dg.MetadataValue.md(_md_flags(flags)),
                "row_counts": dg.MetadataValue.json(result.row_counts),
                "review_command": f"dl-platform review {spec.id} {result.version_dir.name} --list",
            }
        )

    @dg.asset(key=key(spec, "review"), deps=[key(spec, "disclosure")], **common)
    def review_state(
        context: dg.AssetExecutionContext, config: ReviewConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """One row per risk flag of the chosen (default newest) version with its latest decision, from
        extracts.flags and the extracts.review_log audit table. With a reviewer in the run config, that
        decision is recorded first (via 'dagster'); the blocking check all_flags_reviewed then gates release."""
        try:
            with warehouse.get_connection() as conn:
                version = _apply_review(conn, spec, config)
                state = review.review_state(conn, spec.id, version)
        except review.ReviewError as exc:
            raise _failure(exc) from None
        return dg.MaterializeResult(
            metadata={
                "version": version,
                "dagster/row_count": len(state),
                "approved": int((state["decision"] == "approve").sum()),
                "rejected": int((state["decision"] == "reject").sum()),
                "unreviewed": int(state["decision"].isna().sum()),
            }
        )

    @dg.asset(key=key(spec, "release"), deps=[key(spec, "review")], **common)
    def release(
        context: dg.AssetExecutionContext, config: ReviewConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """One row per released version: marks a version whose every flag is approved as released,
        writes release.json and makes its folder read-only. Optionally records the reviewer's decision
        from the run config first (launchpad route). Refused while any flag is unreviewed or rejected."""
        try:
            with warehouse.get_connection() as conn:
                version = _apply_review(conn, spec, config)
                row = review.release(
                    conn, spec.id, version, released_by=config.reviewer or context.run_id
                )
                reviewers = (
                    review.review_state(conn, spec.id, version)["reviewer"]
                    .dropna()
                    .unique()
                    .tolist()
                )
        except review.ReviewError as exc:
            raise _failure(exc) from None
        folder = _project_dir(spec) / version
        if not manifest.is_released(folder):
            manifest.freeze(
                folder,
                {
                    "project": spec.id,
                    "version": version,
                    "released_at": row["released_at"],
                    "released_by": row["released_by"],
                    "reviewers": sorted(reviewers),
                },
            )
        return dg.MaterializeResult(
            metadata={
                "version": version,
                "released_at": str(row["released_at"]),
                "reviewers": dg.MetadataValue.json(sorted(reviewers)),
                "path": dg.MetadataValue.path(str(folder)),
            }
        )

    return [cohort, file1, file2, disclosure, review_state, release]
