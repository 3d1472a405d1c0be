"""dbt models, seeds and tests as Dagster assets and checks, plus the published marts copy.

Two dbt asset definitions, because the linkage stage sits between them:
`dbt_linkage_input` builds everything up to `intermediate/int_identifiers_standardised`
(linkage reads it and writes `mpi/record_person`), and `dbt_analytics` builds everything that
needs the MPI (person joins, flags, marts). Each dbt invocation receives the source registry
as `--vars` and holds the warehouse writer lock: dbt's process writes the DuckDB file.
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dl_platform.resources.dbt import dbt_env, prune_dbt_targets
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.factory import WAREHOUSE_POOL
from dl_platform.sources.registry import Registry
from dl_platform.standardise.manifest import ensure_manifest
from dl_platform.standardise.publish import publish_marts
from dl_platform.standardise.registry_vars import registry_vars_json
from dl_platform.standardise.translator import PlatformDbtTranslator

LINKAGE_INPUT_SELECT = "+int_identifiers_standardised"
PUBLISHED_KEY = dg.AssetKey(["marts", "published"])


def _run_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, registry: Registry
) -> Iterator[Any]:
    # The profile reads these variables; the warehouse resource decides which file dbt writes.
    os.environ.update({**dbt_env(), "DL_WAREHOUSE_PATH": str(warehouse.path)})
    prune_dbt_targets()
    with warehouse.writer_lock():
        yield from dbt.cli(["build", "--vars", registry_vars_json(registry)], context=context).stream()


def build_dbt_assets(registry: Registry) -> list[dg.AssetsDefinition]:
    """The dbt asset definitions for `registry`, built from an up-to-date manifest."""
    manifest = ensure_manifest(dbt_vars=registry_vars_json(registry))
    translator = PlatformDbtTranslator(raw_source_names=[s.name for s in registry])

    @dbt_assets(
        manifest=manifest, select=LINKAGE_INPUT_SELECT, dagster_dbt_translator=translator,
        name="dbt_linkage_input", pool=WAREHOUSE_POOL,
    )
    def dbt_linkage_input(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Standardised identifiers of every registered source (the linkage input) and their seeds."""
        yield from _run_dbt(context, dbt, warehouse, registry)

    @dbt_assets(
        manifest=manifest, exclude=LINKAGE_INPUT_SELECT, dagster_dbt_translator=translator,
        name="dbt_analytics", pool=WAREHOUSE_POOL,
    )
    def dbt_analytics(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Payload staging, person joins through the MPI, central flags and the analyst marts."""
        yield from _run_dbt(context, dbt, warehouse, registry)

    return [dbt_linkage_input, dbt_analytics]


def marts_model_keys(dbt_defs: list[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    return sorted(
        (k for d in dbt_defs for k in d.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string()
    )


def build_published_asset(marts_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """`marts/published`: the analysts' copy of the marts, `$DL_DATA_DIR/marts.duckdb`."""

    @dg.asset(
        key=PUBLISHED_KEY, group_name="marts", deps=marts_keys, pool=WAREHOUSE_POOL, kinds={"duckdb"},
    )
    def marts_published(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """The analysts' copy of every marts table (one row per row of the warehouse's marts), in
        `$DL_DATA_DIR/marts.duckdb`: replaced atomically after each build, refused if any column
        looks identifying, readable while a run writes the warehouse."""
        target = get_settings().marts_path
        with warehouse.get_connection() as conn:
            result = publish_marts(conn, target)
        context.log.info(f"published {len(result.tables)} marts tables to {result.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": dg.MetadataValue.json(result.tables),
                "dagster/row_count": dg.MetadataValue.int(sum(result.tables.values())),
            }
        )

    return marts_published
