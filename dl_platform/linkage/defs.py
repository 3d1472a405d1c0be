"""Dagster definitions for the linkage stage (group `linkage`, keys `mpi/...`)."""

import dagster as dg

from dl_platform.linkage.assets import ASSETS

defs = dg.Definitions(assets=ASSETS)
