"""Linkage assets: the trained model, the MPS-style cascade (record_person, diagnostics,
ID changes) and the golden record. Logic lives in the plain modules beside this one.
"""


from collections.abc import Iterator

import dagster as dg

from dl_platform.linkage import charts
from dl_platform.linkage.cascade.bucket import BUCKET
from dl_platform.linkage.cascade.run import run_cascade
from dl_platform.linkage.config import load_config
from dl_platform.linkage.diagnostics import (
    counts_by_source_and_step,
    summary,
    threshold_sensitivity,
)
from dl_platform.linkage.golden_record import build_golden_record
from dl_platform.linkage.ids import ensure_id_changes
from dl_platform.linkage.inputs import available_fields, build_link_input
from dl_platform.linkage.train import load_or_train, model_paths
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry

GROUP = "linkage"
# Cluster studio re-scores the whole bucket; above this size it would cost more than the run.
CLUSTER_STUDIO_MAX_RECORDS = 100_000
POOL = "warehouse"
STANDARDISED = dg.AssetKey(["intermediate", "int_identifiers_standardised"])
MODEL = dg.AssetKey(["mpi", "linkage_model"])
RECORD_PERSON = dg.AssetKey(["mpi", "record_person"])
DIAGNOSTICS = dg.AssetKey(["mpi", "link_diagnostics"])
ID_CHANGES = dg.AssetKey(["mpi", "id_changes"])
GOLDEN = dg.AssetKey(["mpi", "golden_record"])


class LinkageModelConfig(dg.Config):
    """Run config for training."""

    retrain: bool = False


class CascadeConfig(dg.Config):
    """Run config for the cascade: full relink and one-run threshold overrides."""

    relink: bool = False
    retrain: bool = False
    master_match_probability: float | None = None
    bucket_match_probability: float | None = None


def _path(p) -> dg.MetadataValue:
    return dg.MetadataValue.path(str(p))


@dg.asset(key=MODEL, deps=[STANDARDISED], group_name=GROUP, pool=POOL, kinds={"splink", "duckdb"})
def linkage_model(
    context: dg.AssetExecutionContext, config: LinkageModelConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The trained Splink model (settings JSON under `models/`, with metadata: trained-on
    counts, Splink version, time, revision). Reused until retraining is requested, the
    evidence fields change, the model version moves on or the data drifts (`drift`: the
    population doubled, or a field's completeness moved); charts in `reports/linkage/`."""
    s = get_settings()
    cfg = load_config()
    with warehouse.get_connection() as conn, warehouse.splink_api(conn) as db_api:
        counts = build_link_input(conn, cfg)
        fields = available_fields(counts)
        model = load_or_train(db_api, s.models_dir, fields, counts, cfg, force=config.retrain)
        paths = charts.model_charts(db_api, model.settings, s.reports_dir / "linkage")
    meta = model.meta
    context.log.info(f"linkage model revision {meta['revision']} ({'trained' if model.trained_now else 'reused'})")
    return dg.MaterializeResult(
        metadata={
            "revision": meta["revision"],
            "trained_now": model.trained_now,
            "training_reason": meta.get("reason") or "",
            "fields": dg.MetadataValue.json(list(fields)),
            "trained_on": dg.MetadataValue.json(meta.get("trained_on", {})),
            "splink_version": meta["splink_version"],
            "trained_at": meta["trained_at"],
            "model_path": _path(model_paths(s.models_dir)[0]),
            **{f"chart_{k}": _path(v) for k, v in paths.items()},
        }
    )


def _run_charts(context, conn, db_api, result, cfg, out_dir) -> dict:
    """Waterfall sample and cluster studio; a chart failing never fails the linkage."""
    if result.model is None:
        return {}
    paths = {}
    settings, fields = result.model.settings, result.fields
    makers = {
        "waterfall_sample": lambda: charts.waterfall_sample(conn, db_api, settings, fields, out_dir),
        "cluster_studio": lambda: charts.cluster_studio(
            db_api, settings, fields, BUCKET, result.thresholds["bucket"].threshold, out_dir)
        if 0 < result.counts.get("bucket", {}).get("records", 0) <= CLUSTER_STUDIO_MAX_RECORDS else None,
    }
    for name, make in makers.items():
        try:
            path = make()
        except Exception as exc:  # noqa: BLE001 - the reason is logged, the run goes on
            context.log.warning(f"{name} chart not written: {type(exc).__name__}")
            continue
        if path:
            paths[name] = path
    return paths


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RECORD_PERSON, deps=[STANDARDISED, MODEL], group_name=GROUP, kinds={"splink", "duckdb"},
            description=(
                "One row per record of every linked source: its person_id, the cascade step that placed it "
                "(deterministic | probabilistic | bucket | one_time) and the match probability. "
                "From intermediate.int_identifiers_standardised via the MPS-style cascade."
            ),
        ),
        dg.AssetSpec(
            DIAGNOSTICS, deps=[STANDARDISED, MODEL], group_name=GROUP, kinds={"duckdb"},
            description=(
                "One row per linked record: steps attempted, successful step, matched master record, "
                "match weight and probability, comparison level (gamma) per field, candidates above "
                "threshold and the multiple-match flag (like MPS Diagnostics)."
            ),
        ),
        dg.AssetSpec(
            ID_CHANGES, deps=[STANDARDISED, MODEL], group_name=GROUP, kinds={"duckdb"},
            description="One row per person ID merged or split by a relink: old and new person_id, reason.",
        ),
    ],
    pool=POOL,
    # `--select '*mpi/record_person'` (the contract's command) selects one of the three: the
    # cascade writes all of them; only the selected ones are reported as materialised.
    can_subset=True,
)
def record_person(
    context: dg.AssetExecutionContext, config: CascadeConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Run the cascade over new records (or all, with relink) and write the MPI tables."""
    s = get_settings()
    cfg = load_config().with_overrides(
        master_match_probability=config.master_match_probability,
        bucket_match_probability=config.bucket_match_probability,
    )
    out_dir = s.reports_dir / "linkage"
    out_dir.mkdir(parents=True, exist_ok=True)
    with warehouse.get_connection() as conn, warehouse.splink_api(conn) as db_api:
        ensure_id_changes(conn)
        result = run_cascade(conn, db_api, cfg, s.models_dir, context.run_id, config.retrain, config.relink)
        used = {step: choice.threshold for step, choice in result.thresholds.items()}
        sensitivity = threshold_sensitivity(conn, cfg, used)
        report = charts.sensitivity_report(
            sensitivity,
            {"probabilistic": used.get("probabilistic", 0.5), "bucket_edges": used.get("bucket", 0.5)},
            out_dir,
        )
        chart_paths = _run_charts(context, conn, db_api, result, cfg, out_dir)
        heads = summary(conn)
        by_source = counts_by_source_and_step(conn)
        n_changes = conn.execute(
            "select count(*) from mpi.id_changes where run_id = ?", [context.run_id]
        ).fetchall()[0][0]
    steps = {k: v for k, v in result.counts.items() if k != "input"}
    meta = {
        **{k: dg.MetadataValue.int(v) for k, v in heads.items()},
        "dagster/row_count": dg.MetadataValue.int(heads["records"]),
        "new_records_linked": dg.MetadataValue.int(result.counts["new_records"]),
        "records_by_source_and_step": dg.MetadataValue.json(by_source),
        "cascade": dg.MetadataValue.json(steps),
        "threshold_sensitivity": dg.MetadataValue.json(sensitivity),
        "thresholds": dg.MetadataValue.json(
            {**{step: choice.as_metadata() for step, choice in result.thresholds.items()},
             "sensitivity_delta": cfg.sensitivity_delta}
        ),
        "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in result.seconds.items()}),
        "model_revision": dg.MetadataValue.int(int(result.model.meta["revision"]) if result.model else 0),
        "chart_threshold_sensitivity": _path(report),
    }
    meta.update({f"chart_{name}": _path(p) for name, p in chart_paths.items()})
    results = {
        RECORD_PERSON: meta,
        DIAGNOSTICS: {"dagster/row_count": dg.MetadataValue.int(heads["records"]),
                      "multiple_match": dg.MetadataValue.int(heads.get("multiple_match", 0))},
        ID_CHANGES: {"changes_this_run": dg.MetadataValue.int(int(n_changes))},
    }
    for key, metadata in results.items():
        if key in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.asset(key=GOLDEN, deps=[RECORD_PERSON, STANDARDISED], group_name=GROUP, pool=POOL, kinds={"duckdb"})
def golden_record(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per person: each identifier's best value (source primacy, then most recently
    loaded), the source it came from (`<field>_source`) and `n_conflicts` (fields whose
    records disagree). Built from mpi.record_person and the standardised identifiers."""
    registry = load_registry(get_settings().sources_file)
    with warehouse.get_connection() as conn:
        n = build_golden_record(conn, [src.name for src in registry.linked_sources])
        conflicted = conn.execute("select count(*) from mpi.golden_record where n_conflicts > 0").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={"dagster/row_count": dg.MetadataValue.int(n),
                  "persons_with_conflicts": dg.MetadataValue.int(int(conflicted))}
    )


ASSETS = [linkage_model, record_person, golden_record]
