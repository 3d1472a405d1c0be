"""Quality-stage assets: the linkage-quality report, the governance report and the optional
linkage accuracy against a truth file (`accuracy_assets.py`).

The reports write self-contained HTML under `$DL_DATA_DIR/reports/quality/` and link it from the
materialisation (a path plus a markdown summary). The governance report has no upstream
data dependency on purpose: a blocking check that fails must not stop the report that
says it failed. Sensors request it after every other run, success or failure.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_shared.check import CheckError

from dl_platform.quality import governance, linkage_report
from dl_platform.quality.accuracy_assets import LINKAGE_ACCURACY, build_accuracy_asset
from dl_platform.quality.factory import RECORD_PERSON, reading_connection
from dl_platform.quality.linkage_evaluation import LINKAGE_CATALOGUE, evaluate_linkage
from dl_platform.quality.linkage_inputs import load_match_weights, truth_outcomes
from dl_platform.quality.source_checks import CATALOGUE
from dl_platform.quality.truth import FLOOR_CHECK, Truth, TruthFileError, attach_truth, load_truth
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.registry import Registry

GROUP = "quality"
OWNERS = ["team:data_quality"]
LINKAGE_REPORT = dg.AssetKey(["quality", "linkage_report"])
GOVERNANCE_REPORT = dg.AssetKey(["quality", "governance_report"])
# Parity reads group attributes from dim_person (ethnic group, deprivation), so the report waits for it.
DIM_PERSON = dg.AssetKey(["marts", "dim_person"])
REPORTED_RUN_TAG = "dl_platform/reported_run"
LINKAGE_RUNS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("run_id", "VARCHAR", description="Dagster run that wrote the row"),
    dg.TableColumn("run_at", "TIMESTAMP"),
    dg.TableColumn("source", "VARCHAR", description="registry source"),
    dg.TableColumn("records", "BIGINT", description="records of the source in mpi.record_person"),
    *[dg.TableColumn(step, "BIGINT", description=f"records placed by the {step} step")
      for step in ("deterministic", "probabilistic", "bucket", "one_time")],
    dg.TableColumn("matched", "BIGINT", description="deterministic + probabilistic"),
    dg.TableColumn("match_rate", "DOUBLE", description="matched / records"),
])


def _write_report(name: str, page: str, run_id: str) -> Path:
    folder = get_settings().reports_dir / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_{run_id[:8]}.html").write_text(page, encoding="utf-8")
    latest = folder / f"{name}.html"
    latest.write_text(page, encoding="utf-8")
    return latest


def build_linkage_report(registry: Registry) -> dg.AssetsDefinition:
    """`quality/linkage_report`: HTML with charts, plus a row per source in quality.linkage_runs."""

    @dg.asset(key=LINKAGE_REPORT, deps=[RECORD_PERSON, DIM_PERSON], group_name=GROUP, owners=OWNERS,
              kinds={"python", "html", "duckdb"}, pool="warehouse",
              metadata={"dagster/column_schema": LINKAGE_RUNS_SCHEMA,
                        "dagster/table_name": "quality.linkage_runs"})
    def linkage_quality_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Linkage-quality report (GUILD/RECORD): one row per source per run in `quality.linkage_runs`
        (records, count per cascade step, match rate), and an HTML page under
        `reports/quality/linkage_report.html` with the cascade flow diagram, match-weight histogram,
        threshold sensitivity, parity by ethnic group / age band / sex / IMD quintile (attributes
        from `marts.dim_person`, never truth), precision and recall by group when `DL_TRUTH_FILE`
        names a usable truth file, and the match-rate trend across runs. Built from
        `mpi.record_person`, `mpi.link_diagnostics` and `marts.dim_person`."""
        today = pd.Timestamp.now().normalize()
        truth, truth_note = _report_truth(context)
        with reading_connection(warehouse) as conn:
            evaluation = evaluate_linkage(conn, registry, today, truth=truth, frames=True)
            weights = load_match_weights(conn)
        if truth is not None and evaluation.record_person is not None and evaluation.precision_recall is None:
            truth_note = f"{truth.path.name} lists none of the linked records: precision and recall not measured"
        evaluation.extra["truth"] = truth_note
        master = registry.master.name if registry.master else None
        history = pd.DataFrame()
        curve = pd.DataFrame()
        if evaluation.rates is not None:
            with warehouse.get_connection() as conn:
                conn.execute("create schema if not exists quality")
                conn.execute(linkage_report.LINKAGE_RUNS_DDL)
                rows = linkage_report.history_rows(evaluation.rates, context.run_id, pd.Timestamp.now())
                conn.register("_runs", rows)
                conn.execute("delete from quality.linkage_runs where run_id = ?", [context.run_id])
                conn.execute("insert into quality.linkage_runs by name select * from _runs")
                conn.unregister("_runs")
                history = conn.execute("select * from quality.linkage_runs order by run_at").df()
            records = evaluation.record_person.assign(
                matched=evaluation.record_person["link_step"].isin(("deterministic", "probabilistic")))
            judged = truth_outcomes(attach_truth(records, truth), master) if truth is not None else None
            curve = linkage_report.threshold_sensitivity(
                judged if judged is not None else records, master if judged is None else None)
            weights = linkage_report.match_weights(evaluation.record_person, weights)
        page = linkage_report.render_html(evaluation, history, weights if weights is not None else pd.Series(),
                                          curve, context.run_id, choices=_threshold_choices(context))
        path = _write_report("linkage_report", page, context.run_id)
        failed = [o.name for o in evaluation.outcomes if not o.passed]
        return dg.MaterializeResult(metadata={
            "report": dg.MetadataValue.path(str(path)),
            "summary": dg.MetadataValue.md(linkage_report.summary_markdown(evaluation)),
            "checks_failed": dg.MetadataValue.json(failed),
            "dagster/row_count": dg.MetadataValue.int(0 if evaluation.rates is None else len(evaluation.rates)),
            "attribute_basis": dg.MetadataValue.text(evaluation.attribute_basis or "n/a"),
            "truth": dg.MetadataValue.text(truth_note),
        })

    return linkage_quality_report


def _threshold_choices(context: dg.AssetExecutionContext) -> dict:
    """The thresholds the last linkage used and why, and how many links a small move would change
    (from `mpi/record_person`'s materialisation)."""
    event = context.instance.get_latest_materialization_event(RECORD_PERSON)
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    return {key: meta[key].value for key in ("thresholds", "threshold_sensitivity") if key in meta}


def _report_truth(context: dg.AssetExecutionContext) -> tuple[Truth | None, str]:
    """The truth for precision/recall by group, and a note; a bad file is noted, never fatal here
    (`quality/linkage_accuracy` is the asset that fails on it)."""
    path = get_settings().truth_file
    if path is None:
        return None, "no truth file configured (DL_TRUTH_FILE): precision and recall not measured"
    try:
        return load_truth(path), f"precision and recall against {path.name}"
    except TruthFileError as exc:
        context.log.warning(f"linkage report without precision/recall: {exc}")
        return None, ("truth file not usable, precision and recall not measured (see quality/linkage_accuracy): "
                      f"{exc.problem}")


def _check_keys(context: dg.AssetExecutionContext, registry: Registry) -> list[dg.AssetCheckKey]:
    """Every check in the code location (dbt tests included); this stage's own when run outside one."""
    keys = {dg.AssetCheckKey(dg.AssetKey(["raw", s.name]), c.name) for s in registry for c in CATALOGUE}
    keys |= {dg.AssetCheckKey(RECORD_PERSON, c.name) for c in LINKAGE_CATALOGUE}
    keys.add(dg.AssetCheckKey(LINKAGE_ACCURACY, FLOOR_CHECK))
    try:
        keys |= set(context.repository_def.asset_graph.asset_check_keys)
    except CheckError:  # `dg.materialize` runs without a repository: only this stage's checks are known
        pass
    return sorted(keys, key=lambda k: k.to_user_string())


def _check_rows(context: dg.AssetExecutionContext, registry: Registry) -> pd.DataFrame:
    """The latest evaluation of every check in the code location, from Dagster's event log."""
    keys = _check_keys(context, registry)
    records = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys) if keys else {}
    rows = []
    for key in keys:
        record = records.get(key)
        evaluation = record.evaluation if record else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation):  # planned, or still running
            evaluation = None
        severity = evaluation.severity.value if evaluation else None
        rows.append({
            "asset": key.asset_key.to_user_string(), "check": key.name,
            "status": governance.check_status(evaluation.passed if evaluation else None, severity),
            "severity": severity or "", "run_id": record.run_id if record else "",
            "evaluated_at": pd.Timestamp(record.create_timestamp, unit="s") if record else pd.NaT,
            "description": (evaluation.description or "") if evaluation else "",
        })
    return pd.DataFrame(rows, columns=governance.CHECK_COLUMNS)


def _reported_run(context: dg.AssetExecutionContext) -> str:
    """The run to report on: the tagged one, else the latest run that did more than this report."""
    tagged = context.run.tags.get(REPORTED_RUN_TAG)
    if tagged:
        return tagged
    for run in context.instance.get_runs(limit=20):
        only_this_report = run.asset_selection is not None and set(run.asset_selection) <= {GOVERNANCE_REPORT}
        if run.run_id != context.run_id and run.job_name != governance_job.name and not only_this_report:
            return run.run_id
    return context.run_id


def build_governance_report(registry: Registry) -> dg.AssetsDefinition:
    """`quality/governance_report`: what landed, what was quarantined, checks, linkage, extracts."""

    @dg.asset(key=GOVERNANCE_REPORT, group_name=GROUP, owners=OWNERS, kinds={"python", "html"},
              pool="warehouse")
    def governance_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Governance report for one run (the run named by the `dl_platform/reported_run` tag, else
        the latest run that did more than this report): every delivery in `raw.delivery_log` (file, hash, rows accepted and quarantined),
        quarantined rows by rule from `raw.<source>__quarantine`, the latest result of every asset
        check as recorded in Dagster's event log (passed / warned / failed / not run), the latest
        linkage statistics from `quality.linkage_runs`, and the extracts released with their review.
        Written to `reports/quality/governance_report.html`."""
        run_id = _reported_run(context)
        # The writer connection: the extracts stage's reader creates its tables on first use.
        with warehouse.get_connection() as conn:
            extracts, note = governance.read_extracts(conn)
            inputs = governance.GovernanceInputs(
                run_id=run_id, deliveries=governance.read_deliveries(conn),
                quarantine=governance.read_quarantine(conn, [s.name for s in registry]),
                checks=_check_rows(context, registry), linkage=governance.read_linkage(conn),
                extracts=extracts, extracts_note=note,
            )
        path = _write_report("governance_report", governance.render_html(inputs), run_id)
        counts = governance.counts(inputs)
        return dg.MaterializeResult(metadata={
            "report": dg.MetadataValue.path(str(path)),
            "summary": dg.MetadataValue.md(governance.summary_markdown(inputs)),
            "reported_run": dg.MetadataValue.text(run_id),
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
        })

    return governance_report


def build_quality_assets(registry: Registry) -> list[dg.AssetsDefinition]:
    """The assets of the quality stage: both reports and the optional accuracy evaluation."""
    return [build_linkage_report(registry), build_governance_report(registry), build_accuracy_asset(GROUP, OWNERS)]


governance_job = dg.define_asset_job("governance_report_job", selection=[GOVERNANCE_REPORT],
                                     description="Write the governance report for the run named in its tags.")


def _report_request(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    if run.job_name == governance_job.name:
        return dg.SkipReason("the governance report does not report on itself")
    return dg.RunRequest(run_key=f"governance-{run.run_id}", tags={REPORTED_RUN_TAG: run.run_id})


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=governance_job,
                      name="governance_report_after_success", default_status=dg.DefaultSensorStatus.RUNNING)
def governance_after_success(context: dg.RunStatusSensorContext):
    """After every successful run, write its governance report."""
    return _report_request(context)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.FAILURE, request_job=governance_job,
                      name="governance_report_after_failure", default_status=dg.DefaultSensorStatus.RUNNING)
def governance_after_failure(context: dg.RunStatusSensorContext):
    """After every failed run (e.g. a blocking check failed), write its governance report."""
    return _report_request(context)
