"""Linkage checks, the linkage-quality report, the accuracy evaluation and the governance report
through Dagster.

A stand-in `mpi/record_person` links synthetic PDS and HES records from known truth, missing
a chosen share of one ethnic group's records, so the parity check has a bias to find; it also
writes `marts.dim_person` (what dbt would), the MPI's own group attributes that parity reads.
The same world is evaluated with a truth file named by DL_TRUTH_FILE, without one, and with a
truth file of the wrong shape.
"""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from dl_platform.quality.accuracy_assets import LINKAGE_ACCURACY
from dl_platform.quality.assets import GOVERNANCE_REPORT, LINKAGE_REPORT, build_quality_assets
from dl_platform.quality.factory import build_linkage_checks, build_source_checks
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.factory import build_raw_asset
from dl_platform.sources.registry import load_registry
from tests.integration.test_quality_deliveries import hes_frame, land, pds_frame

pytestmark = pytest.mark.timeout(180)


def stand_in_linkage(pds: pd.DataFrame, hes: pd.DataFrame, miss_group: str, miss_share: float):
    """An `mpi/record_person` asset that links from truth, missing `miss_share` of one group."""
    person_of_nhs = dict(zip(pds["nhs_number"], range(len(pds)), strict=True))

    @dg.asset(key=["mpi", "record_person"], group_name="linkage")
    def record_person(warehouse: WarehouseResource) -> None:
        rng = np.random.default_rng(7)
        truth_key = hes["NEWNHSNO"].map(person_of_nhs).fillna(-1).astype(int)
        group = np.where(truth_key >= 0, pds["ethnic_category"].to_numpy()[truth_key.clip(0)], "?")
        miss = (rng.random(len(hes)) < np.where(group == miss_group, miss_share, 0.01)) | (truth_key < 0)
        rows = pd.concat([
            pd.DataFrame({"source": "pds", "record_id": pds["pds_record_id"],
                          "person_id": [f"P{i}" for i in range(len(pds))], "link_step": "deterministic",
                          "match_probability": 1.0}),
            pd.DataFrame({"source": "hes_apc", "record_id": hes["EPIKEY"],
                          "person_id": np.where(miss, [f"B{i}" for i in range(len(hes))],
                                                [f"P{k}" for k in truth_key]),
                          "link_step": np.where(miss, "bucket", "probabilistic"),
                          "match_probability": np.where(miss, 0.2, 0.97)}),
        ], ignore_index=True)
        # dim_person as dbt builds it: one row per person_id, groups from the records' own data.
        dim = rows.drop_duplicates("person_id")[["person_id"]].copy()
        group_of = dict(zip([f"P{i}" for i in range(len(pds))], pds["ethnic_category"], strict=True))
        group_of |= {f"B{i}": g for i, g in enumerate(group) if g != "?"}
        dim["ethnic_group"] = dim["person_id"].map(group_of)
        dim["sex"] = "M"
        with warehouse.get_connection() as conn:
            conn.execute("create schema if not exists mpi")
            conn.execute("create schema if not exists marts")
            conn.register("_rp", rows)
            conn.execute("create or replace table mpi.record_person as select * from _rp")
            conn.unregister("_rp")
            conn.register("_dim", dim)
            conn.execute("create or replace table marts.dim_person as select * from _dim")
            conn.unregister("_dim")

    return record_person


def write_truth(data_dir, pds: pd.DataFrame, hes: pd.DataFrame) -> None:
    key = dict(zip(pds["nhs_number"], range(len(pds)), strict=True))
    pd.concat([
        pd.DataFrame({"source": "pds", "record_id": pds["pds_record_id"], "person_key": range(len(pds))}),
        pd.DataFrame({"source": "hes_apc", "record_id": hes["EPIKEY"], "person_key": hes["NEWNHSNO"].map(key)}),
    ]).to_parquet(data_dir / "truth.parquet")
    pd.DataFrame({"person_key": range(len(pds)), "sex": pds["gender"].map({"1": "M", "2": "F"}),
                  "ethnic_group": pds["ethnic_category"], "age_band": "35-54",
                  "imd_decile": [i % 10 + 1 for i in range(len(pds))]}).to_parquet(data_dir / "truth_persons.parquet")


@pytest.fixture(scope="module")
def linkage_world(tmp_path_factory):
    """Raw PDS + HES, a biased stand-in linkage, all checks, both reports and the accuracy
    evaluation against truth, on one instance; then the linkage and quality assets again without
    a truth file and with one of the wrong shape."""
    data_dir = tmp_path_factory.mktemp("quality_linkage")
    mp = pytest.MonkeyPatch()
    mp.setenv("DL_DATA_DIR", str(data_dir))
    mp.setenv("DL_TRUTH_FILE", str(data_dir / "truth.parquet"))
    settings = get_settings()
    pds = pds_frame(400)
    hes = hes_frame(pds, episodes=2000)
    land(settings.data_dir, "pds", "pds_2024_01.csv", pds)
    land(settings.data_dir, "hes_apc", "hes_apc_2024_01.parquet", hes)
    write_truth(settings.data_dir, pds, hes)
    wrong_shape = data_dir / "other" / "truth.parquet"
    wrong_shape.parent.mkdir()
    pd.DataFrame({"src": ["pds"], "id": ["x"], "cluster": [1]}).to_parquet(wrong_shape)
    registry = load_registry(settings.sources_file)
    definitions = [
        build_raw_asset(registry["pds"]), build_raw_asset(registry["hes_apc"]),
        build_source_checks(registry["pds"], registry), build_source_checks(registry["hes_apc"], registry),
        stand_in_linkage(pds, hes, miss_group="C", miss_share=0.4), build_linkage_checks(registry),
        *build_quality_assets(registry),
    ]
    resources = {"warehouse": WarehouseResource.from_settings()}
    with dg.instance_for_test() as instance:
        first = dg.materialize(definitions, resources=resources, instance=instance, raise_on_error=False,
                               selection=dg.AssetSelection.all() - dg.AssetSelection.assets(GOVERNANCE_REPORT))
        report = dg.materialize(definitions, resources=resources, instance=instance,
                                selection=[GOVERNANCE_REPORT], tags={"dl_platform/reported_run": first.run_id})
        again = (dg.AssetSelection.assets(["mpi", "record_person"], LINKAGE_REPORT, LINKAGE_ACCURACY)
                 | dg.AssetSelection.checks_for_assets(["mpi", "record_person"], LINKAGE_ACCURACY))
        mp.delenv("DL_TRUTH_FILE")
        without_truth = dg.materialize(definitions, resources=resources, instance=instance, selection=again)
        mp.setenv("DL_TRUTH_FILE", str(wrong_shape))
        bad_truth = dg.materialize(definitions, resources=resources, instance=instance, selection=again,
                                   raise_on_error=False)
        yield {"first": first, "report": report, "settings": settings, "pds": pds,
               "without_truth": without_truth, "bad_truth": bad_truth, "wrong_shape": wrong_shape}
    mp.undo()


def evaluations(result):
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def materialised(result):
    return {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}


def report_page(result, meta) -> str:
    """This run's copy of the linkage report (the latest one is overwritten by the later runs)."""
    latest = Path(meta["report"].path)
    return (latest.parent / f"linkage_report_{result.run_id[:8]}.html").read_text(encoding="utf-8")


def test_parity_fails_on_the_biased_group_from_the_mpi_never_truth(linkage_world):
    ev = evaluations(linkage_world["first"])
    parity = ev[("mpi/record_person", "match_rate_parity")]
    assert not parity.passed
    assert "ethnic_group 'C'" in parity.description and "pp" in parity.description
    details = parity.metadata["details"].data
    assert details["attribute_basis"] == "marts.dim_person"
    assert "precision_recall" not in details
    assert ev[("mpi/record_person", "cluster_size_within_bound")].passed
    rates = ev[("mpi/record_person", "match_rate_per_source")]
    assert rates.metadata["measured"].data["hes_apc"] < 0.99


def test_accuracy_against_the_configured_truth_file(linkage_world):
    meta = materialised(linkage_world["first"])[LINKAGE_ACCURACY]
    assert meta["truth_file"].path == str(linkage_world["settings"].data_dir / "truth.parquet")
    assert meta["precision"].value == 1.0  # the stand-in never merges two people
    assert 0.5 < meta["recall"].value < 0.99
    assert 0.5 < meta["f1"].value < 1.0
    assert set(meta["by_source"].data) == {"pds", "hes_apc"}
    assert set(meta["by_link_step"].data) == {"deterministic", "probabilistic", "bucket"}
    groups = meta["by_group"].data["ethnic_group"]
    assert groups["C"]["recall"] < groups["A"]["recall"] - 0.2
    assert meta["records_scored"].value == 2400 and meta["mpi_records_without_truth"].value == 0
    report = pd.read_csv(meta["accuracy_report"].path)
    assert report.iloc[0]["dimension"] == "overall" and round(report.iloc[0]["recall"], 6) == round(
        meta["recall"].value, 6)
    floor = evaluations(linkage_world["first"])[("quality/linkage_accuracy", "precision_recall_above_floor")]
    assert floor.passed == (meta["recall"].value >= 0.95)
    assert floor.metadata["measured"].data["precision"] == 1.0


def test_without_a_truth_file_nothing_is_evaluated_and_parity_is_still_judged(linkage_world):
    run = linkage_world["without_truth"]
    assert run.success
    meta = materialised(run)
    assert meta[LINKAGE_ACCURACY]["truth_file"].value == "no truth file configured"
    assert "precision" not in meta[LINKAGE_ACCURACY] and "recall" not in meta[LINKAGE_ACCURACY]
    ev = evaluations(run)
    floor = ev[("quality/linkage_accuracy", "precision_recall_above_floor")]
    assert floor.passed and "not applicable: no truth file configured" in floor.description
    parity = ev[("mpi/record_person", "match_rate_parity")]
    first = evaluations(linkage_world["first"])[("mpi/record_person", "match_rate_parity")]
    assert not parity.passed and parity.description == first.description
    assert parity.metadata["details"].data["groups"] == first.metadata["details"].data["groups"]
    page = report_page(run, meta[LINKAGE_REPORT])
    assert "Parity" in page and "no truth file configured" in page
    assert "Precision and recall by group" not in page
    assert meta[LINKAGE_REPORT]["truth"].value.startswith("no truth file configured")


def test_a_wrong_shape_truth_file_fails_only_the_evaluation(linkage_world):
    run = linkage_world["bad_truth"]
    assert not run.success
    failures = run.get_step_failure_events()
    assert [f.step_key for f in failures] == ["quality__linkage_accuracy"]
    message = failures[0].step_failure_data.user_failure_data.description
    assert str(linkage_world["wrong_shape"]) in message
    assert "missing required column(s) source, record_id, person_key" in message
    meta = materialised(run)
    assert dg.AssetKey(["mpi", "record_person"]) in meta and LINKAGE_ACCURACY not in meta
    assert meta[LINKAGE_REPORT]["truth"].value.startswith("truth file not usable")
    checks = {k: (e.passed, e.description) for k, e in evaluations(run).items()}
    before = {k: (e.passed, e.description) for k, e in evaluations(linkage_world["without_truth"]).items()
              if k[0] == "mpi/record_person"}
    assert checks == before


def test_linkage_report_written_with_charts_and_history(linkage_world):
    mats = {m.asset_key: m for m in linkage_world["first"].get_asset_materialization_events()}
    meta = mats[LINKAGE_REPORT].materialization.metadata
    page = report_page(linkage_world["first"], meta)
    for heading in ("Flow through the cascade", "Match weights", "Threshold sensitivity", "Parity",
                    "Precision and recall by group (truth file)", "Trend across runs"):
        assert heading in page
    assert meta["truth"].value == "precision and recall against truth.parquet"
    assert page.count("data:image/png;base64") >= 5
    assert not any(n in page for n in linkage_world["pds"]["nhs_number"])
    assert "hes_apc" in meta["summary"].value


def test_governance_report_lists_every_delivery_and_check_from_the_event_log(linkage_world):
    first = linkage_world["first"]
    mat = linkage_world["report"].get_asset_materialization_events()[0].materialization
    page = open(mat.metadata["report"].path, encoding="utf-8").read()
    assert "pds_2024_01.csv" in page and "hes_apc_2024_01.parquet" in page
    checks_run = evaluations(first)
    assert mat.metadata["checks_passed"].value + mat.metadata["checks_warned"].value \
        + mat.metadata["checks_failed"].value == len(checks_run)
    assert mat.metadata["checks_warned"].value == sum(not e.passed for e in checks_run.values())
    assert "match_rate_parity" in mat.metadata["summary"].value
    assert mat.metadata["deliveries_this_run"].value == 2
    assert mat.metadata["reported_run"].value == first.run_id
    assert "no extracts released" in page
