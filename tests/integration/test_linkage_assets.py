"""The linkage assets through Dagster: model, cascade, diagnostics, ID changes, golden record,
and the optional accuracy evaluation beside them (`quality/linkage_accuracy`).

The standardised input is written directly (as dbt would) so this test needs neither
dbt nor the raw stage; the assets come from the real code location. Truth is named only by
DL_TRUTH_FILE, and a truth file that does not fit fails the evaluation, never the MPI.
"""

import os
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "linkage"))
from population import make_population, write_standardised  # noqa: E402

MPI_KEYS = ["linkage_model", "record_person", "link_diagnostics", "id_changes", "golden_record"]
ACCURACY = dg.AssetKey(["quality", "linkage_accuracy"])
MPI_TABLES = ("record_person", "link_diagnostics", "id_changes", "golden_record")


def _world(monkeypatch, data_dir: Path, records):
    """A data dir holding the standardised records, and its warehouse (DL_DATA_DIR points at it)."""
    from dl_platform.resources.warehouse import WarehouseResource

    monkeypatch.setenv("DL_DATA_DIR", str(data_dir))
    warehouse = WarehouseResource.from_settings()
    with warehouse.get_connection() as conn:
        write_standardised(conn, records)
    return warehouse


@pytest.fixture
def linkage_assets(monkeypatch, tmp_path):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DL_TRUTH_FILE", raising=False)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    from dl_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = [dg.AssetKey(["mpi", k]) for k in MPI_KEYS] + [ACCURACY]
    assert set(keys) <= set(graph.get_all_asset_keys())
    assert dg.AssetKey(["mpi", "record_person"]) in graph.get(ACCURACY).parent_keys
    assets = list({id(a): a for a in (defs.get_assets_def(k) for k in keys)}.values())
    records, truth, persons = make_population(300, seed=5)
    warehouse = _world(monkeypatch, tmp_path, records)
    return assets, warehouse, records, tmp_path, truth, persons


def _materialize(assets, warehouse, run_config=None, raise_on_error=True):
    result = dg.materialize(assets, resources={"warehouse": warehouse}, run_config=run_config or {},
                            raise_on_error=raise_on_error)
    assert result.success or not raise_on_error
    materialisations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    return {m.asset_key.path[-1]: m.metadata for m in materialisations}, result


def _mpi_tables(warehouse) -> dict[str, pd.DataFrame]:
    """The MPI tables with person IDs replaced by the record each person is anchored on: IDs hash a
    per-warehouse secret salt, so two warehouses are compared by who is linked to whom."""
    with warehouse.get_connection(read_only=True) as conn:
        frames = {t: conn.execute(f"select * from mpi.{t}").df() for t in MPI_TABLES}
    rp = frames["record_person"]
    anchor = rp.assign(key=rp["source"] + "/" + rp["record_id"]).groupby("person_id")["key"].min()
    out = {}
    for name, frame in frames.items():
        frame = frame.drop(columns=[c for c in frame.columns if c in ("run_id", "linked_at", "changed_at")])
        for col in [c for c in frame.columns if c.endswith("person_id")]:
            frame[col] = frame[col].map(anchor)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True) if len(frame) else frame
    return out


def test_linkage_assets_materialise_with_metadata_and_charts(linkage_assets, monkeypatch):
    assets, warehouse, records, data_dir, truth, persons = linkage_assets
    truth.to_parquet(data_dir / "truth.parquet")
    persons.to_parquet(data_dir / "truth_persons.parquet")
    monkeypatch.setenv("DL_TRUTH_FILE", str(data_dir / "truth.parquet"))
    meta, _ = _materialize(assets, warehouse)
    assert set(MPI_KEYS) <= set(meta)
    rp_meta = meta["record_person"]
    n_linked = int(records.link_enabled.sum())
    assert rp_meta["records"].value == n_linked
    steps = rp_meta["records_by_source_and_step"].value
    assert sum(sum(v.values()) for v in steps.values()) == n_linked
    assert "threshold_sensitivity" in rp_meta
    for key in ("chart_match_weights", "chart_m_u_parameters"):
        assert Path(meta["linkage_model"][key].value).stat().st_size > 1000
    for key in ("chart_threshold_sensitivity", "chart_waterfall_sample", "chart_cluster_studio"):
        assert Path(rp_meta[key].value).exists(), key
    assert not any("truth" in k or "accuracy" in k or "precision" in k for k in rp_meta)
    accuracy = meta["linkage_accuracy"]
    assert accuracy["precision"].value >= 0.99 and accuracy["recall"].value >= 0.95
    assert Path(accuracy["accuracy_report"].value) == data_dir / "reports" / "linkage" / "accuracy_vs_truth.csv"
    assert set(accuracy["by_source"].data) == set(records.loc[records.link_enabled, "source"])
    assert {"ethnic_group", "age_band", "imd_quintile"} <= set(accuracy["by_group"].data)
    assert accuracy["records_scored"].value == n_linked
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

    again, _ = _materialize(assets, warehouse, {"ops": {"record_person": {"config": {"relink": True}}}})
    assert again["linkage_model"]["trained_now"].value is False
    with warehouse.get_connection(read_only=True) as conn:
        rp2 = conn.execute("select * from mpi.record_person order by all").df()
    assert rp2.equals(rp)


def test_a_wrong_shape_truth_file_fails_only_the_evaluation_and_leaves_the_mpi_unchanged(linkage_assets, monkeypatch):
    assets, warehouse, records, data_dir, _, _ = linkage_assets
    # Without DL_TRUTH_FILE nothing is evaluated, nothing fails, even with a truth file in the data folder.
    pd.DataFrame({"src": ["pds"], "id": ["x"], "cluster": [1]}).to_parquet(data_dir / "truth.parquet")
    baseline, run = _materialize(assets, warehouse)
    assert run.success
    assert baseline["linkage_accuracy"]["truth_file"].value == "no truth file configured"
    assert not (data_dir / "reports" / "linkage" / "accuracy_vs_truth.csv").exists()
    floor = {e.check_name: e for e in run.get_asset_check_evaluations()}["precision_recall_above_floor"]
    assert floor.passed and "not applicable" in floor.description
    expected = _mpi_tables(warehouse)

    # The same input in a fresh warehouse, with DL_TRUTH_FILE naming a file of another shape.
    other = data_dir / "with_bad_truth"
    other.mkdir()
    bad = other / "truth.parquet"
    pd.DataFrame({"src": ["pds"], "id": ["x"], "cluster": [1]}).to_parquet(bad)
    monkeypatch.setenv("DL_TRUTH_FILE", str(bad))
    warehouse_b = _world(monkeypatch, other, records)
    meta, run = _materialize(assets, warehouse_b, raise_on_error=False)
    assert not run.success
    failures = run.get_step_failure_events()
    assert [f.step_key for f in failures] == ["quality__linkage_accuracy"]
    message = failures[0].step_failure_data.user_failure_data.description
    assert f"truth file {bad}:" in message
    assert "missing required column(s) source, record_id, person_key (its columns: src, id, cluster)" in message
    assert set(MPI_KEYS) <= set(meta) and "linkage_accuracy" not in meta
    assert meta["record_person"]["records"].value == baseline["record_person"]["records"].value
    assert set(meta["record_person"]) == set(baseline["record_person"])
    assert meta["record_person"]["cascade"].value == baseline["record_person"]["cascade"].value
    tables = _mpi_tables(warehouse_b)
    for name in MPI_TABLES:
        pd.testing.assert_frame_equal(tables[name], expected[name], check_dtype=False, obj=name)
