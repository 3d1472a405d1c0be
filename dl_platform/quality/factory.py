"""Build the source asset checks for every registry entry (adding a dataset adds its checks).

One `multi_asset_check` per source reads the raw tables once and reports every catalogue
check against `raw/<source>`. ERROR checks are blocking: a failure stops downstream assets
in the same run; WARN checks are reported but never block.
"""


from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd

from dl_platform.quality.linkage_evaluation import LINKAGE_CATALOGUE, evaluate_linkage
from dl_platform.quality.outcome import ERROR, CheckOutcome
from dl_platform.quality.source_checks import CATALOGUE, run_source_checks
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.sources.registry import Registry, Source

SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


@contextmanager
def reading_connection(warehouse: WarehouseResource) -> Iterator[Any]:
    """A read-only connection; it queues behind another process's writer via the shared lock."""
    with warehouse.get_connection(read_only=True) as conn:
        yield conn


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def outcome_metadata(outcome: CheckOutcome) -> dict[str, dg.MetadataValue]:
    """Measured value, threshold, reason and details as Dagster metadata (counts only)."""
    meta: dict[str, dg.MetadataValue] = {}
    for key, value in (("measured", outcome.measured), ("threshold", outcome.threshold)):
        if isinstance(value, (dict, list)):
            meta[key] = dg.MetadataValue.json(_jsonable(value))
        elif isinstance(value, bool) or value is None:
            meta[key] = dg.MetadataValue.text(str(value))
        elif isinstance(value, int):
            meta[key] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            meta[key] = dg.MetadataValue.float(value)
        else:
            meta[key] = dg.MetadataValue.text(str(value))
    if outcome.reason:
        meta["reason"] = dg.MetadataValue.text(outcome.reason)
    if "note" in outcome.details:
        meta["note"] = dg.MetadataValue.text(outcome.details["note"])
    details = {k: v for k, v in outcome.details.items() if k != "note"}
    if details:
        meta["details"] = dg.MetadataValue.json(_jsonable(details))
    return meta


def to_result(outcome: CheckOutcome, severity: str, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    """A Dagster check result whose description is the plain-language reason or summary."""
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=outcome.name, passed=outcome.passed,
        severity=SEVERITY[severity], metadata=outcome_metadata(outcome), description=outcome.summary,
    )


def build_source_checks(source: Source, registry: Registry) -> dg.AssetChecksDefinition:
    """Every catalogue check on `raw/<source>` in one op."""
    key = dg.AssetKey(["raw", source.name])
    specs = [
        dg.AssetCheckSpec(c.name, asset=key, description=f"[{c.severity}] {c.description}",
                          blocking=c.severity == ERROR)
        for c in CATALOGUE
    ]
    severities = {c.name: c.severity for c in CATALOGUE}

    @dg.multi_asset_check(name=f"quality_{source.name}_source_checks", specs=specs, can_subset=True)
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
        today = pd.Timestamp.now().normalize()
        with reading_connection(warehouse) as conn:
            outcomes = run_source_checks(conn, source, registry, today)
        selected = {k.name for k in context.selected_asset_check_keys}
        for outcome in outcomes:
            if outcome.name not in selected:
                continue
            if not outcome.passed:
                context.log.warning(f"{source.name} {outcome.name} [{severities[outcome.name]}]: {outcome.reason}")
            yield to_result(outcome, severities[outcome.name], key)

    return _checks


def build_all_source_checks(registry: Registry) -> list[dg.AssetChecksDefinition]:
    """One check set per registered source."""
    return [build_source_checks(source, registry) for source in registry]


RECORD_PERSON = dg.AssetKey(["mpi", "record_person"])
def build_linkage_checks(registry: Registry) -> dg.AssetChecksDefinition:
    """The linkage checks on `mpi/record_person` (GUILD/RECORD items), in one op."""
    specs = [
        dg.AssetCheckSpec(c.name, asset=RECORD_PERSON, description=f"[{c.severity}] {c.description}",
                          blocking=c.severity == ERROR)
        for c in LINKAGE_CATALOGUE
    ]
    severities = {c.name: c.severity for c in LINKAGE_CATALOGUE}

    @dg.multi_asset_check(name="quality_linkage_checks", specs=specs, can_subset=True)
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
        today = pd.Timestamp.now().normalize()
        with reading_connection(warehouse) as conn:
            outcomes = evaluate_linkage(conn, registry, today).outcomes  # never truth: see truth.py
        selected = {k.name for k in context.selected_asset_check_keys}
        for outcome in outcomes:
            if outcome.name in selected:
                if not outcome.passed:
                    context.log.warning(f"linkage {outcome.name}: {outcome.reason}")
                elif outcome.details.get("persons_affected"):  # passed, with persons listed for review
                    context.log.warning(f"linkage {outcome.name}: {outcome.summary}")
                yield to_result(outcome, severities[outcome.name], RECORD_PERSON)

    return _checks
