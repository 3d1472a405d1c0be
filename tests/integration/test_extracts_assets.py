"""The extracts stage in the real code location: assets per project, the review gate, the launchpad route."""

import dagster as dg
import pytest

from dl_platform.definitions import defs
from dl_platform.extracts import defs as extract_defs
from dl_platform.extracts import review
from dl_platform.resources import WarehouseResource, open_warehouse
from tests.unit.extracts.synthetic_marts import write_warehouse

STEPS = ("cohort", "file1", "file2", "disclosure", "review", "release")


def project(legal_basis: str) -> str:
    return next(s.id for s in extract_defs.projects if s.legal_basis == legal_basis)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    data = tmp_path_factory.mktemp("extract_assets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(data))
        with open_warehouse() as conn:
            write_warehouse(conn, n=600, seed=11)
        yield WarehouseResource.from_settings()


def run(warehouse, project_id: str, steps, run_config=None) -> dg.ExecuteInProcessResult:
    keys = {dg.AssetKey(["extracts", project_id, s]) for s in steps}
    assets = [a for a in extract_defs.defs.assets if set(a.keys) & keys]
    checks = [
        c for c in extract_defs.defs.asset_checks if any(k.asset_key in keys for k in c.check_keys)
    ]
    return dg.materialize(
        [*assets, *checks],
        resources={"warehouse": warehouse},
        run_config=run_config or {},
        raise_on_error=False,
    )


def materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(
        str(e.step_failure_data.error.message) for e in result.get_step_failure_events()
    )


def test_every_project_yields_its_assets_and_gate():
    graph = defs.resolve_asset_graph()
    for spec in extract_defs.projects:
        for step in STEPS:
            key = dg.AssetKey(["extracts", spec.id, step])
            assert graph.get(key).group_name == "extracts"
        check = dg.AssetCheckKey(dg.AssetKey(["extracts", spec.id, "review"]), "all_flags_reviewed")
        assert check in graph.asset_check_keys
    assert len(extract_defs.projects) >= 2


def test_release_blocked_until_reviewed_then_released_from_the_launchpad(warehouse):
    pid = project("s251")
    blocked = run(warehouse, pid, STEPS)
    assert {"cohort", "file1", "file2", "disclosure", "review"} <= materialised(blocked)
    assert "release" not in materialised(blocked)
    evaluation = next(
        e for e in blocked.get_asset_check_evaluations() if e.check_name == "all_flags_reviewed"
    )
    assert not evaluation.passed
    alone = run(warehouse, pid, ["release"])
    assert "release" not in materialised(alone) and "refused" in failure_text(alone)
    config = {
        "reviewer": "Gov Lead",
        "decision": "approve",
        "reason": "small cells suppressed; ok",
        "review_all": True,
    }
    released = run(
        warehouse,
        pid,
        ["review", "release"],
        {"ops": {f"extracts__{pid}__review": {"config": config}}},
    )
    assert released.success and "release" in materialised(released)
    with open_warehouse(read_only=True) as conn:
        version = review.latest_version(conn, pid)
        table = review.released_extracts(conn)
        vias = {
            r[0]
            for r in conn.execute(
                "select via from extracts.review_log where project = ?", [pid]
            ).fetchall()
        }
    row = table[(table["project"] == pid) & (table["version"] == version)].iloc[0]
    assert row["status"] == "released" and row["reviewers"] == "Gov Lead" and vias == {"dagster"}
    folder = warehouse.path.parent / "extracts" / pid / version
    assert (folder / "release.json").exists()
    rebuilt = run(warehouse, pid, ["cohort", "file1", "file2", "disclosure"])
    assert rebuilt.success  # same content: reuses the released version without touching it
    assert (folder / "release.json").exists()
