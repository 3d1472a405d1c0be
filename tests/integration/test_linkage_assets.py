"""The linkage assets through Dagster: model, cascade, diagnostics, ID changes, golden record.

The standardised input is written directly (as dbt would) so this test needs neither
dbt nor the raw stage; the assets come from the real code location.
"""

import os
import sys
from pathlib import Path

import dagster as dg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "linkage"))
from population import make_population, write_standardised  # noqa: E402

MPI_KEYS = ["linkage_model", "record_person", "link_diagnostics", "id_changes", "golden_record"]


@pytest.fixture
def linkage_assets(monkeypatch, tmp_path):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    from dl_platform.definitions import defs
    from dl_platform.resources.warehouse import WarehouseResource

    graph = defs.resolve_asset_graph()
    keys = [dg.AssetKey(["mpi", k]) for k in MPI_KEYS]
    assert set(keys) <= set(graph.get_all_asset_keys())
    assets = list({id(a): a for a in (defs.get_assets_def(k) for k in keys)}.values())
    warehouse = WarehouseResource.from_settings()
    records, truth, persons = make_population(300, seed=5)
    truth.to_parquet(tmp_path / "truth.parquet")
    persons.to_parquet(tmp_path / "truth_persons.parquet")
    with warehouse.get_connection() as conn:
        write_standardised(conn, records)
    return assets, warehouse, records, tmp_path


def _materialize(assets, warehouse, run_config=None):
    result = dg.materialize(assets, resources={"warehouse": warehouse}, run_config=run_config or {})
    assert result.success
    materialisations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    return {m.asset_key.path[-1]: m.metadata for m in materialisations}


def test_linkage_assets_materialise_with_metadata_and_charts(linkage_assets):
    assets, warehouse, records, data_dir = linkage_assets
    meta = _materialize(assets, warehouse)
    assert set(MPI_KEYS) <= set(meta)
    rp_meta = meta["record_person"]
    n_linked = int(records.link_enabled.sum())
    assert rp_meta["records"].value == n_linked
    steps = rp_meta["records_by_source_and_step"].value
    assert sum(sum(v.values()) for v in steps.values()) == n_linked
    assert "threshold_sensitivity" in rp_meta
    for key in ("chart_match_weights", "chart_m_u_parameters"):
        assert Path(meta["linkage_model"][key].value).stat().st_size > 1000
    for key in ("chart_threshold_sensitivity", "chart_waterfall_sample", "chart_cluster_studio", "accuracy_report"):
        assert Path(rp_meta[key].value).exists(), key
    assert rp_meta["truth_precision"].value >= 0.99 and rp_meta["truth_recall"].value >= 0.95
    assert meta["linkage_model"]["trained_now"].value is True
    with warehouse.get_connection(read_only=True) as conn:
        rp = conn.execute("select * from mpi.record_person order by all").df()
        golden = conn.execute("select * from mpi.golden_record").df()
        n_diag = conn.execute("select count(*) from mpi.link_diagnostics").fetchall()[0][0]
    assert n_diag == len(rp) == n_linked
    assert len(golden) == rp.person_id.nunique()
    assert {"nhs_number_source", "address_source", "n_conflicts"} <= set(golden.columns)
    assert golden.nhs_number_source.dropna().isin(set(records.source)).all()
    # metadata carries counts, never identifier values
    text = str({k: {n: v.value for n, v in m.items()} for k, m in meta.items()})
    assert not any(v in text for v in records.nhs_number.dropna().head(50))

    again = _materialize(assets, warehouse, {"ops": {"record_person": {"config": {"relink": True}}}})
    assert again["linkage_model"]["trained_now"].value is False
    with warehouse.get_connection(read_only=True) as conn:
        rp2 = conn.execute("select * from mpi.record_person order by all").df()
    assert rp2.equals(rp)
