"""Linkage checks, the linkage-quality report and the governance report through Dagster.

A stand-in `mpi/record_person` links synthetic PDS and HES records from known truth, missing
a chosen share of one ethnic group's records, so the parity check has a bias to find.
"""

import dagster as dg
import numpy as np
import pandas as pd
import pytest

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
        with warehouse.get_connection() as conn:
            conn.execute("create schema if not exists mpi")
            conn.register("_rp", rows)
            conn.execute("create or replace table mpi.record_person as select * from _rp")
            conn.unregister("_rp")

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
    """Raw PDS + HES, a biased stand-in linkage, all checks and both reports, on one instance."""
    data_dir = tmp_path_factory.mktemp("quality_linkage")
    mp = pytest.MonkeyPatch()
    mp.setenv("DL_DATA_DIR", str(data_dir))
    settings = get_settings()
    pds = pds_frame(400)
    hes = hes_frame(pds, episodes=2000)
    land(settings.data_dir, "pds", "pds_2024_01.csv", pds)
    land(settings.data_dir, "hes_apc", "hes_apc_2024_01.parquet", hes)
    write_truth(settings.data_dir, pds, hes)
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
        yield {"first": first, "report": report, "settings": settings, "pds": pds}
    mp.undo()


def evaluations(result):
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_parity_fails_on_the_biased_group_with_truth_precision_recall(linkage_world):
    ev = evaluations(linkage_world["first"])
    parity = ev[("mpi/record_person", "match_rate_parity")]
    assert not parity.passed
    assert "ethnic_group 'C'" in parity.description and "pp" in parity.description
    details = parity.metadata["details"].data
    assert details["attribute_basis"] == "synthetic truth"
    recall = {(r["attribute"], r["group"]): r["recall"] for r in details["precision_recall"]}
    assert recall[("ethnic_group", "C")] < recall[("ethnic_group", "A")] - 0.2
    assert ev[("mpi/record_person", "cluster_size_within_bound")].passed
    rates = ev[("mpi/record_person", "match_rate_per_source")]
    assert rates.metadata["measured"].data["hes_apc"] < 0.99


def test_linkage_report_written_with_charts_and_history(linkage_world):
    mats = {m.asset_key: m for m in linkage_world["first"].get_asset_materialization_events()}
    meta = mats[LINKAGE_REPORT].materialization.metadata
    page = open(meta["report"].path, encoding="utf-8").read()
    for heading in ("Flow through the cascade", "Match weights", "Threshold sensitivity", "Parity",
                    "Precision and recall by group", "Trend across runs"):
        assert heading in page
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
