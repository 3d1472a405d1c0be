"""Dagster definitions for the standardise stage: dbt (staging, intermediate, marts) and the published marts."""

import dagster as dg

from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry
from dl_platform.standardise.assets import build_dbt_assets, build_published_asset, marts_model_keys

registry = load_registry(get_settings().sources_file)
dbt_defs = build_dbt_assets(registry)

defs = dg.Definitions(assets=[*dbt_defs, build_published_asset(marts_model_keys(dbt_defs))])
