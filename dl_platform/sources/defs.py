"""Dagster definitions for landing -> raw: one raw asset pair per registry entry and the file watcher."""

import dagster as dg

from dl_platform.settings import get_settings
from dl_platform.sources.factory import build_raw_assets
from dl_platform.sources.registry import load_registry
from dl_platform.sources.sensor import build_landing_sensor

registry = load_registry(get_settings().sources_file)

defs = dg.Definitions(assets=build_raw_assets(registry), sensors=[build_landing_sensor(registry)])
