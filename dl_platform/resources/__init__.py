"""Resources: the only place that knows which engine stores and computes (DuckDB today)."""

from __future__ import annotations

from typing import Any

from dl_platform.resources.warehouse import WarehouseResource, open_warehouse


def build_resources() -> dict[str, Any]:
    """The resources every asset reaches storage and compute through, keyed as assets expect."""
    from dl_platform.resources.dbt import build_dbt_resource

    return {"warehouse": WarehouseResource.from_settings(), "dbt": build_dbt_resource()}


__all__ = ["WarehouseResource", "build_resources", "open_warehouse"]
