"""One factory builds every research project's assets: a project is one YAML file.

Per project `<p>` (group "extracts"):
  extracts/<p>/cohort      persons after opt-outs and the cohort rule (build folder, not released)
  extracts/<p>/file1       File 1: identifiers + permission flags (trusted third party)
  extracts/<p>/file2       File 2: minimised, pseudonymised, coarsened, k-anonymous payload
  extracts/<p>/disclosure  protected aggregates + risk flags; writes and registers version v<N>
  extracts/<p>/review      the review state of the newest version; records a reviewer's decision
                           from its run config (launchpad route); blocking check all_flags_reviewed
  extracts/<p>/release     marks a fully reviewed version released and freezes its folder
The check sits on `review`, not `disclosure`, so building a new version never fails a run: only
a release attempt is stopped. `release` re-checks on its own (it may run alone, after a CLI
review) and accepts the same run config.
"""

import dagster as dg

from dl_platform.extracts import review
from dl_platform.extracts.assets import build_assets, key
from dl_platform.extracts.spec import ProjectSpec
from dl_platform.resources.warehouse import WarehouseResource


def _build_check(spec: ProjectSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key(spec, "review"),
        name="all_flags_reviewed",
        blocking=True,
        description="Every risk flag of the newest version has an approving review; blocks release.",
    )
    def all_flags_reviewed(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            version = review.latest_version(conn, spec.id)
            unreviewed, rejected = (
                review.outstanding(conn, spec.id, version) if version else ([], [])
            )
        passed = version is not None and not unreviewed and not rejected
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{spec.id} {version}: every flag approved"
                if passed
                else f"{spec.id} {version}: {len(unreviewed)} unreviewed, {len(rejected)} rejected; review with "
                f"`dl-platform review {spec.id} {version} --list`"
            ),
            metadata={
                "version": str(version),
                "unreviewed": len(unreviewed),
                "rejected": len(rejected),
                "flags_outstanding": dg.MetadataValue.json(unreviewed + rejected),
            },
        )

    return all_flags_reviewed


def build_project_defs(
    specs: list[ProjectSpec],
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """Assets and checks for every project."""
    assets = [a for spec in specs for a in build_assets(spec)]
    return assets, [_build_check(spec) for spec in specs]
