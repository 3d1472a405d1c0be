"""One factory builds every registered source's raw asset: adding a dataset is a registry entry."""

import re
import warnings

import dagster as dg
from dagster_pandera import pandera_schema_to_dagster_type

from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.contracts import PAYLOAD_ISSUES, REASONS, build_contract
from dl_platform.sources.dates import DATE_ISSUES
from dl_platform.sources.loader import PROVENANCE, LoadResult, load_source, table_names
from dl_platform.sources.registry import Registry, Source

RAW_GROUP = "raw"
# Every asset that writes the warehouse runs in this pool; dagster.yaml limits it to one slot.
WAREHOUSE_POOL = "warehouse"


def raw_asset_key(source_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source_name])


def quarantine_asset_key(source_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"{source_name}_quarantine"])


def owner_team(source: Source) -> list[str]:
    """Dagster owners must be emails or `team:<name>`; registry owners are free text."""
    if not source.owner:
        return []
    return [f"team:{re.sub(r'[^A-Za-z0-9]+', '_', source.owner).strip('_').lower()}"]


def _identifiers_schema(source: Source) -> dg.TableSchema:
    columns = [
        dg.TableColumn(f, "VARCHAR", description=f"as delivered in column '{source.identifiers[f]}'")
        for f in source.identifier_fields
    ]
    columns += [dg.TableColumn(p, "VARCHAR" if p != "_row_number" else "BIGINT") for p in PROVENANCE]
    return dg.TableSchema(columns=columns)


def _description(source: Source) -> str:
    period = (
        f" Coverage {source.period.start}..{source.period.end} on `{source.period.date_column}`."
        if source.period else ""
    )
    return (
        f"{source.title}. One row per {source.name} record (record_id `{source.record_id_column}`), "
        f"loaded from `landing/{source.name}/` ({source.load}; role {source.role}, primacy "
        f"{source.primacy}) into `raw.{source.name}__identifiers` (identifiers, linkage zone only) "
        f"and `raw.{source.name}__payload`.{period}"
    )


def _metadata(source: Source, result: LoadResult, counts: dict[str, int]) -> dict[str, dg.MetadataValue]:
    files = [
        {"file": d.file, "sha256": d.sha256[:12], "outcome": d.outcome, "read": d.rows_read,
         "accepted": d.rows_accepted, "quarantined": d.rows_quarantined}
        for d in result.deliveries
    ]
    table = "\n".join(
        f"| {f['file']} | {f['sha256']} | {f['outcome']} | {f['read']} | {f['accepted']} | {f['quarantined']} |"
        for f in files
    )
    reasons = result.reasons()
    return {
        "deliveries_new": dg.MetadataValue.int(len(result.deliveries)),
        "deliveries_empty": dg.MetadataValue.int(sum(d.outcome == "empty" for d in result.deliveries)),
        "rows_read": dg.MetadataValue.int(result.total("rows_read")),
        "rows_accepted": dg.MetadataValue.int(result.total("rows_accepted")),
        "rows_quarantined": dg.MetadataValue.int(result.total("rows_quarantined")),
        "quarantine_reasons": dg.MetadataValue.json({r: reasons[r] for r in sorted(reasons)}),
        # Loaded rows whose dates are unusable (kept, not quarantined): counts per field and kind.
        "flagged_values": dg.MetadataValue.json(result.flagged()),
        "deliveries": dg.MetadataValue.md(
            "| file | sha256 | outcome | read | accepted | quarantined |\n|---|---|---|---|---|---|\n"
            + (table or "| (no new deliveries) | | | | | |")
        ),
        "dagster/row_count": dg.MetadataValue.int(counts["identifiers"]),
        "payload_rows": dg.MetadataValue.int(counts["payload"]),
        "dagster/table_name": dg.MetadataValue.text(table_names(source)["identifiers"]),
    }


def build_raw_asset(source: Source) -> dg.AssetsDefinition:
    """`raw/<source>`: loads new deliveries into the identifiers, payload and quarantine tables."""
    contract = build_contract(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        contract_type = pandera_schema_to_dagster_type(contract)
    tables = table_names(source)

    @dg.asset(
        key=raw_asset_key(source.name), description=_description(source), pool=WAREHOUSE_POOL,
        metadata={
            "dagster/column_schema": _identifiers_schema(source),
            "contract": contract_type.metadata["schema"],
            "contract_rules": dg.MetadataValue.json(REASONS),
            "flagged_kinds": dg.MetadataValue.json(DATE_ISSUES | (PAYLOAD_ISSUES if source.payload else {})),
            "registry_owner": source.owner or "",
        },
        **_common(source),
    )
    def _raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = get_settings()
        with warehouse.get_connection() as conn:
            result = load_source(conn, source, settings.landing_dir, context.run_id)
            counts = {
                name: conn.execute(f"select count(*) from {table}").fetchall()[0][0]
                for name, table in tables.items()
            }
        for d in result.deliveries:
            context.log.info(
                f"{source.name}: {d.file} {d.outcome}: read {d.rows_read}, accepted {d.rows_accepted}, "
                f"quarantined {d.rows_quarantined}"
            )
        if result.rejected:
            # Valid deliveries in this run are committed; the failure makes the bad file impossible to miss.
            raise dg.Failure(
                description=(
                    f"{len(result.rejected)} {source.name} deliver"
                    f"{'y was' if len(result.rejected) == 1 else 'ies were'} rejected: "
                    + " | ".join(d.message for d in result.rejected)
                    + ". Valid deliveries were loaded; fix or remove the rejected file(s) and rerun."
                ),
                metadata={"rejected_files": dg.MetadataValue.json([d.file for d in result.rejected])},
            )
        return dg.MaterializeResult(metadata=_metadata(source, result, counts))

    return _raw


def build_quarantine_asset(source: Source) -> dg.AssetsDefinition:
    """`raw/<source>_quarantine`: what the contract held back, by rule and delivery (counts only)."""
    table = table_names(source)["quarantine"]

    @dg.asset(
        key=quarantine_asset_key(source.name), deps=[raw_asset_key(source.name)],
        description=(
            f"Rows of {source.name} deliveries that broke the contract: one row per held-back line "
            f"with file, row number, rule and reason (`{table}`, linkage zone). Nothing is dropped."
        ),
        **_common(source),
    )
    def _quarantine(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            if not warehouse.table_exists(conn, "raw", f"{source.name}__quarantine"):
                rows: list[tuple] = []
            else:
                rows = conn.execute(
                    f"select _delivery_file, rule, count(*) from {table} group by all order by 1, 2"
                ).fetchall()
        by_rule: dict[str, int] = {}
        for _, rules, n in rows:
            for rule in str(rules).split(";"):
                by_rule[rule] = by_rule.get(rule, 0) + n
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(sum(n for *_, n in rows)),
            "by_rule": dg.MetadataValue.json(by_rule),
            "by_delivery": dg.MetadataValue.md(
                "| delivery | rule | rows |\n|---|---|---|\n"
                + "\n".join(f"| {f} | {r} | {n} |" for f, r, n in rows)
            ),
        })

    return _quarantine


def _common(source: Source) -> dict:
    return dict(group_name=RAW_GROUP, owners=owner_team(source), kinds={"duckdb", "pandera"},
                tags={"role": source.role, "load": source.load})


def build_raw_assets(registry: Registry) -> list[dg.AssetsDefinition]:
    return [a for source in registry for a in (build_raw_asset(source), build_quarantine_asset(source))]
