"""Source checks through Dagster: raw assets load synthetic deliveries, the factory's checks judge them.

A clean delivery passes every check; each injected fault (all one sex, half the volume,
a missing month, records after death, a provider whose NHS numbers are all missing) fails
the check that promises against it, with a plain-language reason and no identifier values.
"""

import dagster as dg
import pytest

from dl_platform.quality.factory import build_source_checks
from dl_platform.quality.source_checks import CATALOGUE
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.factory import build_raw_asset
from dl_platform.sources.registry import load_registry
from tests.integration.test_quality_deliveries import hes_frame, land, pds_frame

pytestmark = pytest.mark.timeout(120)


def run_checks(tmp_path, monkeypatch, pds_deliveries, hes):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    settings = get_settings()
    for i, frame in enumerate(pds_deliveries):
        land(settings.data_dir, "pds", f"pds_2024_0{i + 1}.csv", frame)
    land(settings.data_dir, "hes_apc", "hes_apc_2024_01.parquet", hes)
    registry = load_registry(settings.sources_file)
    defs = [build_raw_asset(registry["pds"]), build_raw_asset(registry["hes_apc"]),
            build_source_checks(registry["pds"], registry), build_source_checks(registry["hes_apc"], registry)]
    result = dg.materialize(defs, resources={"warehouse": WarehouseResource.from_settings()},
                            raise_on_error=False)
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}, result


def failing(evaluations):
    return {key for key, e in evaluations.items() if not e.passed}


def test_clean_deliveries_pass_every_check(tmp_path, monkeypatch):
    pds = pds_frame()
    evaluations, result = run_checks(tmp_path, monkeypatch, [pds, pds.sample(frac=0.9, random_state=1)],
                                     hes_frame(pds))
    assert result.success
    assert len(evaluations) == 2 * len(CATALOGUE)
    assert failing(evaluations) == set(), {k: e.description for k, e in evaluations.items() if not e.passed}
    applied = evaluations[("hes_apc", "no_activity_after_death")]
    assert applied.metadata["details"].data["records_of_deceased"] > 0


FAULTS = {
    "all one sex": ({"one_sex": True}, {("hes_apc", "sex_not_all_one_value")}, "are male"),
    "a missing month": ({"missing_month": "2023-01"},
                        {("hes_apc", "no_missing_months"), ("hes_apc", "monthly_volume_trend")}, "2023-01"),
    "records after death": ({"after_death": True}, {("hes_apc", "no_activity_after_death")},
                            "after the date of death"),
    "a provider without NHS numbers": ({"provider_without_nhs": "RAE"}, {("hes_apc", "identifier_completeness")},
                                       "organisation 'RAE'"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_injected_hes_fault_fails_its_check(tmp_path, monkeypatch, fault):
    kwargs, expected, phrase = FAULTS[fault]
    pds = pds_frame()
    evaluations, _ = run_checks(tmp_path, monkeypatch, [pds], hes_frame(pds, **kwargs))
    assert failing(evaluations) == expected, {k: e.description for k, e in evaluations.items() if not e.passed}
    first = evaluations[min(expected)]
    assert phrase in first.description
    assert phrase in first.metadata["reason"].text
    assert not any(n in first.description for n in pds["nhs_number"])


def test_half_the_volume_fails_and_blocks(tmp_path, monkeypatch):
    pds = pds_frame()
    evaluations, result = run_checks(tmp_path, monkeypatch, [pds, pds.iloc[: len(pds) // 2]], hes_frame(pds))
    assert failing(evaluations) == {("pds", "volume_vs_previous_delivery")}
    evaluation = evaluations[("pds", "volume_vs_previous_delivery")]
    assert "150 rows against 300" in evaluation.description
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["threshold"].value == 0.2
    assert not result.success  # an ERROR on a blocking check fails the step
