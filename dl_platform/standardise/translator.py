"""How dbt resources appear in Dagster: stage-style asset keys and lineage to raw for every source.

dbt only knows the raw tables it declares as sources, but `int_identifiers_unioned` reads
`raw.<source>__identifiers` for whatever the registry lists (no source names in SQL), so its
upstream raw assets are added here from the registry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

REFERENCE_GROUP = "reference"
# The model that reads every registered source's raw identifiers table.
REGISTRY_READER_MODEL = "int_identifiers_unioned"


class PlatformDbtTranslator(DagsterDbtTranslator):
    """Keys `<stage>/<model>` (staging, intermediate, marts; seeds `reference/<seed>`), group = stage."""

    def __init__(self, raw_source_names: Sequence[str] = ()):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self._raw_source_names = tuple(raw_source_names)

    @staticmethod
    def _stage(props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "seed":
            return REFERENCE_GROUP
        fqn = props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([self._stage(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_group_name(dbt_resource_props)
        return self._stage(dbt_resource_props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model" and props["name"] == REGISTRY_READER_MODEL:
            known = {dep.asset_key for dep in spec.deps}
            extra = [
                dg.AssetDep(dg.AssetKey(["raw", name]))
                for name in self._raw_source_names
                if dg.AssetKey(["raw", name]) not in known
            ]
            spec = spec.replace_attributes(deps=[*spec.deps, *extra])
        return spec
