"""The file watcher: a sensor that requests a raw load when a landing folder changes."""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from dl_platform.settings import get_settings
from dl_platform.sources.factory import quarantine_asset_key, raw_asset_key
from dl_platform.sources.reader import list_deliveries
from dl_platform.sources.registry import Registry


def landing_listing(registry: Registry) -> dict[str, list[str]]:
    """Per source, each delivery as `name:size:mtime_ns` (cheap: no file is read)."""
    landing = get_settings().landing_dir
    listing: dict[str, list[str]] = {}
    for source in registry:
        files = list_deliveries(landing / source.name)
        listing[source.name] = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files]
    return listing


def build_landing_sensor(registry: Registry) -> dg.SensorDefinition:
    """One run per source whose landing folder has a new or changed file since the last tick.

    Loading is idempotent, so the first tick (no cursor) safely requests a load of every
    source that has files: already-loaded deliveries are skipped by the raw asset.
    """
    targets = [k for s in registry for k in (raw_asset_key(s.name), quarantine_asset_key(s.name))]

    @dg.sensor(
        name="landing_file_watcher",
        target=dg.AssetSelection.assets(*targets),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches $DL_DATA_DIR/landing/<source>/ and requests raw/<source> for new deliveries.",
    )
    def landing_file_watcher(context: dg.SensorEvaluationContext):
        previous = json.loads(context.cursor) if context.cursor else {}
        current = landing_listing(registry)
        requests = []
        for source, files in current.items():
            new = sorted(set(files) - set(previous.get(source, [])))
            if not new:
                continue
            digest = hashlib.sha256("\n".join(new).encode()).hexdigest()[:16]
            requests.append(dg.RunRequest(
                run_key=f"{source}:{digest}",
                asset_selection=[raw_asset_key(source), quarantine_asset_key(source)],
                tags={"dl_platform/source": source, "dl_platform/new_files": str(len(new))},
            ))
        context.update_cursor(json.dumps(current))
        if not requests:
            return dg.SkipReason("no new deliveries in any landing folder")
        return requests

    return landing_file_watcher
