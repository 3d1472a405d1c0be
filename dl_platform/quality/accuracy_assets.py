"""`quality/linkage_accuracy`: precision, recall and F1 of the MPI against a truth file.

Evaluation sits beside the MPI, never inside it, and is optional. Only `DL_TRUTH_FILE` names
the truth (nothing is picked up from the data folder). Unset, the asset records "no truth
file configured", does nothing else, and its check passes as not applicable. A file that does
not fit the schema (`truth.py`) fails this asset alone, naming the file and what is wrong:
nothing depends on it, and `mpi/record_person` never reads truth.
"""

import dagster as dg

from dl_platform.linkage.accuracy import scores_by_dimension
from dl_platform.quality.factory import RECORD_PERSON, reading_connection, to_result
from dl_platform.quality.linkage_inputs import load_record_person
from dl_platform.quality.outcome import WARN, not_applicable
from dl_platform.quality.thresholds import MIN_TRUTH_PRECISION, MIN_TRUTH_RECALL
from dl_platform.quality.truth import (
    FLOOR_CHECK,
    TruthFileError,
    check_precision_recall,
    load_truth,
    score_against_truth,
)
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings

LINKAGE_ACCURACY = dg.AssetKey(["quality", "linkage_accuracy"])
ACCURACY_CSV = "accuracy_vs_truth.csv"
NOT_CONFIGURED = "no truth file configured"


def _not_configured() -> dg.MaterializeResult:
    outcome = not_applicable(FLOOR_CHECK, f"{NOT_CONFIGURED} (DL_TRUTH_FILE is not set)")
    return dg.MaterializeResult(
        metadata={"truth_file": dg.MetadataValue.text(NOT_CONFIGURED),
                  "status": dg.MetadataValue.text(f"{NOT_CONFIGURED}: set DL_TRUTH_FILE to a record-level truth "
                                                  "file to measure precision and recall; nothing was evaluated")},
        check_results=[to_result(outcome, WARN, LINKAGE_ACCURACY)],
    )


def _failure(exc: TruthFileError) -> dg.Failure:
    return dg.Failure(
        description=str(exc), allow_retries=False,
        metadata={"truth_file": dg.MetadataValue.path(str(exc.path)), "problem": dg.MetadataValue.text(exc.problem),
                  "missing_columns": dg.MetadataValue.json(list(exc.missing))},
    )


def build_accuracy_asset(group: str, owners: list[str]) -> dg.AssetsDefinition:
    """The optional evaluation asset and its non-blocking `precision_recall_above_floor` check."""
    floor = dg.AssetCheckSpec(
        FLOOR_CHECK, asset=LINKAGE_ACCURACY, blocking=False,
        description=f"[{WARN}] Pairwise precision against the truth file is at least {MIN_TRUTH_PRECISION} and "
                    f"recall at least {MIN_TRUTH_RECALL}; never blocks. Not applicable without DL_TRUTH_FILE.",
    )

    @dg.asset(key=LINKAGE_ACCURACY, deps=[RECORD_PERSON], group_name=group, owners=owners,
              kinds={"python", "csv"}, pool="warehouse", check_specs=[floor])
    def linkage_accuracy(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Linkage accuracy against the truth file named by `DL_TRUTH_FILE` (optional; README,
        'Measuring linkage accuracy'): pairwise precision, recall and F1 of `mpi.record_person`
        overall, per source, per link step and per group of the true person, in metadata and in
        `reports/linkage/accuracy_vs_truth.csv` (one row per dimension and value). Without
        `DL_TRUTH_FILE` it records "no truth file configured" and evaluates nothing."""
        settings = get_settings()
        if settings.truth_file is None:
            context.log.info(f"{NOT_CONFIGURED} (DL_TRUTH_FILE): linkage accuracy not evaluated")
            return _not_configured()
        try:
            truth = load_truth(settings.truth_file)
            with reading_connection(warehouse) as conn:
                record_person = load_record_person(conn)
            if record_person is None or record_person.empty:
                raise dg.Failure("mpi.record_person has not been built yet: materialise it before its evaluation",
                                 allow_retries=False)
            report, coverage = score_against_truth(record_person, truth)
        except TruthFileError as exc:
            raise _failure(exc) from exc
        out_dir = settings.reports_dir / "linkage"
        out_dir.mkdir(parents=True, exist_ok=True)
        report.to_csv(out_dir / ACCURACY_CSV, index=False)
        overall = report.iloc[0]
        outcome = check_precision_recall(overall)
        if not outcome.passed:
            context.log.warning(f"linkage accuracy: {outcome.reason}")
        tables = scores_by_dimension(report)
        groups = {k: v for k, v in tables.items() if k not in ("overall", "source", "link_step")}
        return dg.MaterializeResult(
            metadata={
                "precision": dg.MetadataValue.float(float(overall["precision"])),
                "recall": dg.MetadataValue.float(float(overall["recall"])),
                "f1": dg.MetadataValue.float(float(overall["f1"])),
                "dagster/row_count": dg.MetadataValue.int(len(report)),
                **{k: dg.MetadataValue.int(v) for k, v in coverage.items()},
                "by_source": dg.MetadataValue.json(tables.get("source", {})),
                "by_link_step": dg.MetadataValue.json(tables.get("link_step", {})),
                "by_group": dg.MetadataValue.json(groups),
                "truth_file": dg.MetadataValue.path(str(truth.path)),
                "truth_persons_file": dg.MetadataValue.text(str(truth.persons_path) if truth.persons_path
                                                            else "none (attributes from the truth file, if any)"),
                "accuracy_report": dg.MetadataValue.path(str(out_dir / ACCURACY_CSV)),
            },
            check_results=[to_result(outcome, WARN, LINKAGE_ACCURACY)],
        )

    return linkage_accuracy
