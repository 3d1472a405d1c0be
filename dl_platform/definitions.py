"""The code location: merges each stage's Definitions into one.

Runs use the in-process executor (one process per run) and every warehouse writer
holds the single-writer lock, so no two processes ever write the DuckDB file at once.
The executor also fails runs killed before this one and frees their pool slots
(`operations.executor`), so a crash never wedges the runs after it.
"""

import dagster as dg

from dl_platform.extracts import defs as extracts
from dl_platform.linkage import defs as linkage
from dl_platform.operations.executor import platform_executor
from dl_platform.quality import defs as quality
from dl_platform.resources import build_resources
from dl_platform.sources import defs as sources
from dl_platform.standardise import defs as standardise

defs = dg.Definitions.merge(
    sources.defs,
    standardise.defs,
    linkage.defs,
    quality.defs,
    extracts.defs,
    dg.Definitions(resources=build_resources(), executor=platform_executor),
)
