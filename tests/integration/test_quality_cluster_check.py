"""cluster_size_within_bound through Dagster: a few duplicate master records pass without blocking
and are listed for review; above the tolerated share the check fails and blocks what is downstream.

A stand-in `mpi/record_person` writes a population in which some persons hold two PDS records;
the real linkage checks judge it and a stand-in downstream asset shows whether it was blocked.
"""

import dagster as dg
import pandas as pd
import pytest

from dl_platform.quality.factory import RECORD_PERSON, build_linkage_checks
from dl_platform.resources.warehouse import WarehouseResource
from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry

pytestmark = pytest.mark.timeout(180)
PERSONS = 2000
DOWNSTREAM = dg.AssetKey(["marts", "downstream_of_the_mpi"])


def world(duplicated: int) -> list:
    """record_person with PERSONS persons, `duplicated` of them holding a second PDS record."""

    @dg.asset(key=RECORD_PERSON, group_name="linkage")
    def record_person(warehouse: WarehouseResource) -> None:
        ids = [f"P{i:05d}" for i in range(PERSONS)]
        rows = pd.DataFrame({
            "source": ["pds"] * (PERSONS + duplicated) + ["hes_apc"] * PERSONS,
            "record_id": [f"p{i}" for i in range(PERSONS + duplicated)] + [f"h{i}" for i in range(PERSONS)],
            "person_id": ids + ids[:duplicated] + ids,
            "link_step": "deterministic", "match_probability": 1.0,
        })
        with warehouse.get_connection() as conn:
            conn.execute("create schema if not exists mpi")
            conn.register("_rp", rows)
            conn.execute("create or replace table mpi.record_person as select * from _rp")
            conn.unregister("_rp")

    @dg.asset(key=DOWNSTREAM, deps=[RECORD_PERSON])
    def downstream() -> None:
        return None

    return [record_person, downstream, build_linkage_checks(load_registry(get_settings().sources_file))]


def run(monkeypatch, tmp_path, duplicated: int):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    with dg.instance_for_test() as instance:
        result = dg.materialize(world(duplicated), resources={"warehouse": WarehouseResource.from_settings()},
                                instance=instance, raise_on_error=False)
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["cluster_size_within_bound"]
    done = {e.asset_key for e in result.get_asset_materialization_events()}
    return check, done


def test_a_few_duplicate_master_records_pass_without_blocking(monkeypatch, tmp_path):
    check, done = run(monkeypatch, tmp_path, duplicated=4)  # 0.2% of persons
    assert check.passed
    assert DOWNSTREAM in done
    details = check.metadata["details"].data
    assert details["persons_with_two_master_records"] == 4
    assert details["persons_for_review"] == ["P00000", "P00001", "P00002", "P00003"]
    assert "within the tolerated 0.5%" in check.description and "for review" in check.description
    assert check.metadata["threshold"].value == 0.005


def test_duplicate_master_records_above_the_share_fail_and_block(monkeypatch, tmp_path):
    check, done = run(monkeypatch, tmp_path, duplicated=20)  # 1% of persons
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "20 persons hold two or more master-register records" in check.description
    assert "1.00% of 2000 persons, above the tolerated 0.5%" in check.description
    assert DOWNSTREAM not in done and RECORD_PERSON in done
    assert len(check.metadata["details"].data["persons_for_review"]) == 20
