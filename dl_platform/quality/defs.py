"""Dagster definitions for the quality stage: source checks, linkage checks, reports and the
optional linkage accuracy against a truth file."""

import dagster as dg

from dl_platform.quality.assets import (
    build_quality_assets,
    governance_after_failure,
    governance_after_success,
    governance_job,
)
from dl_platform.quality.factory import build_all_source_checks, build_linkage_checks
from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry

registry = load_registry(get_settings().sources_file)

defs = dg.Definitions(
    assets=build_quality_assets(registry),
    asset_checks=[*build_all_source_checks(registry), build_linkage_checks(registry)],
    jobs=[governance_job],
    sensors=[governance_after_success, governance_after_failure],
)
