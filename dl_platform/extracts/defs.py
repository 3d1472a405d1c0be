"""Dagster definitions for the extracts stage: one asset set per project in `config/projects/`."""

import dagster as dg

from dl_platform.extracts.factory import build_project_defs
from dl_platform.extracts.spec import load_projects
from dl_platform.settings import get_settings

projects = load_projects(get_settings().projects_dir)
assets, checks = build_project_defs(projects)

defs = dg.Definitions(assets=assets, asset_checks=checks)
