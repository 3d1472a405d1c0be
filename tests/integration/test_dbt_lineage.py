"""The asset graph shows raw -> staging -> intermediate -> mpi -> marts, with dbt tests as asset checks."""

import dagster as dg

from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry


def test_lineage_runs_raw_to_marts_with_dbt_tests_as_checks():
    from dl_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey
    assert key(["raw", "hes_apc"]) in graph.get(key(["staging", "stg_hes_apc__episodes"])).parent_keys
    assert key(["staging", "stg_hes_apc__episodes"]) in graph.get(key(["marts", "fct_hospital_episodes"])).parent_keys
    assert key(["mpi", "record_person"]) in graph.get(key(["intermediate", "int_records_joined_to_persons"])).parent_keys
    unioned = graph.get(key(["intermediate", "int_identifiers_unioned"])).parent_keys
    assert {key(["raw", s.name]) for s in load_registry(get_settings().sources_file)} <= unioned
    published = graph.get(key(["marts", "published"]))
    assert published.group_name == "marts" and key(["marts", "person_flags"]) in published.parent_keys
    assert graph.get(key(["marts", "dim_person"])).group_name == "marts"
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("marts/dim_person", "unique_dim_person_person_id") in checks
    assert any(a == "intermediate/int_identifiers_standardised" for a, _ in checks)
