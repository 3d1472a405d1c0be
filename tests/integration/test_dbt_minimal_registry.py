"""A registry with only identifier-bearing sources (no HES, no payload) still builds every model.

Source-specific staging and marts come out empty; the generic identifier model carries exactly
the registered sources, and Dagster lineage reaches the new source's raw asset.
"""

import textwrap

import dagster as dg
import pandas as pd
import pytest

from dl_platform.resources import build_resources, open_warehouse
from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry
from dl_platform.standardise.assets import build_dbt_assets, build_published_asset, marts_model_keys

REGISTRY = textwrap.dedent("""
    sources:
      pds:
        title: Master register
        role: master
        primacy: 1
        load: snapshot
        identifiers: {record_id: pds_id, nhs_number: nhs, given_name: first, family_name: last,
                      date_of_birth: dob, sex: gender, postcode: pc}
      clinic_list:
        title: A clinic's patient list (identifiers only)
        role: contributing
        primacy: 2
        load: append
        identifiers: {record_id: clinic_id, nhs_number: nhs, date_of_birth: dob}
""")
PROVENANCE = "'f.csv' as _delivery_file, 'x' as _file_sha256, 1::bigint as _row_number, now()::timestamp as _loaded_at"


@pytest.fixture(scope="module")
def minimal(tmp_path_factory):
    root = tmp_path_factory.mktemp("minimal_registry")
    (root / "sources.yml").write_text(REGISTRY)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(root / "data"))
        mp.setenv("DL_SOURCES_FILE", str(root / "sources.yml"))
        registry = load_registry(get_settings().sources_file)
        with open_warehouse() as conn:
            conn.execute("create schema raw")
            conn.execute(
                "create table raw.pds__identifiers as select * from (values "
                "('p1', '9434765919', 'Ann', 'Lee', '1980-01-02', '2', 'M1 1AE'), "
                "('p2', '4010232137', 'Tom', 'Ng', '1990-03-04', '1', 'ZZ99 3VZ')) "
                f"as t(record_id, nhs_number, given_name, family_name, date_of_birth, sex, postcode), "
                f"(select {PROVENANCE})"
            )
            conn.execute(f"create table raw.pds__payload as select 'p1' as record_id, {PROVENANCE} where false")
            # A postcode column left over from an earlier mapping: the registry no longer maps it.
            conn.execute(
                "create table raw.clinic_list__identifiers as select * from "
                "(values ('c1', '943 476 5919', '02/01/1980', 'M1 1AE')) "
                f"as t(record_id, nhs_number, date_of_birth, postcode), (select {PROVENANCE})"
            )
        dbt_defs = build_dbt_assets(registry)
        assets = [*dbt_defs, build_published_asset(marts_model_keys(dbt_defs))]
        result = dg.materialize(assets, resources=build_resources(), raise_on_error=False)
        with open_warehouse(read_only=True) as conn:
            tables = {
                name: conn.execute(f"select * from {name}").df()
                for name in ["intermediate.int_identifiers_standardised", "staging.stg_hes_apc__episodes",
                             "marts.fct_hospital_episodes", "marts.person_flags", "marts.dim_person"]
            }
        yield {"result": result, "tables": tables, "assets": assets, "data_dir": root / "data"}


def test_minimal_registry_builds(minimal):
    assert minimal["result"].success
    ids = minimal["tables"]["intermediate.int_identifiers_standardised"]
    assert sorted(ids["source"]) == ["clinic_list", "pds", "pds"]
    clinic = ids[ids["source"] == "clinic_list"].iloc[0]
    assert clinic["nhs_number"] == "9434765919" and bool(clinic["nhs_number_valid"])
    assert str(clinic["date_of_birth"])[:10] == "1980-01-02"
    assert pd.isna(clinic["given_name"]) and pd.isna(clinic["postcode"]) and not bool(clinic["is_master"])
    for empty in ["staging.stg_hes_apc__episodes", "marts.fct_hospital_episodes", "marts.person_flags"]:
        assert minimal["tables"][empty].empty, empty
    assert "ltc_diabetes" in minimal["tables"]["marts.person_flags"].columns
    assert (minimal["data_dir"] / "marts.duckdb").exists()


def test_lineage_follows_the_registry(minimal):
    graph = dg.Definitions(assets=minimal["assets"], resources=build_resources()).resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["intermediate", "int_identifiers_unioned"])).parent_keys
    assert {dg.AssetKey(["raw", "pds"]), dg.AssetKey(["raw", "clinic_list"])} <= parents
