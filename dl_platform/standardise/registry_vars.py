"""The source registry as dbt vars: dbt models stay generic over whatever sources.yml declares.

`int_identifiers_unioned` loops over `var('dl_sources')`, so every dbt invocation must carry
the registry; this module is the one place that shapes it.
"""

from __future__ import annotations

import json
from typing import Any

from dl_platform.sources.registry import Registry


def registry_vars(registry: Registry) -> dict[str, Any]:
    """dbt vars describing every registered source.

    Args:
        registry: the loaded source registry.

    Returns:
        `{"dl_sources": [{name, role, primacy, link, fields, period}, ...]}` in registry order;
        `period` is `{start, end, date_column}` (ISO dates) or None.
    """
    sources = []
    for src in registry:
        period = None
        if src.period is not None:
            period = {
                "start": src.period.start.isoformat(),
                "end": src.period.end.isoformat(),
                "date_column": src.period.date_column,
            }
        sources.append(
            {
                "name": src.name,
                "role": src.role,
                "primacy": src.primacy,
                "link": src.link,
                "fields": list(src.identifier_fields),
                "period": period,
            }
        )
    return {"dl_sources": sources}


def registry_vars_json(registry: Registry) -> str:
    """`registry_vars` as the JSON string dbt's `--vars` takes."""
    return json.dumps(registry_vars(registry), separators=(",", ":"))
