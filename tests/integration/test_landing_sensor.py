"""The file watcher requests a raw load for each source whose landing folder changed."""

from __future__ import annotations

import dagster as dg

from dl_platform.sources.registry import parse_registry
from dl_platform.sources.sensor import build_landing_sensor

REGISTRY = """
sources:
  a: {title: A, role: master, primacy: 1, load: snapshot, identifiers: {record_id: id}}
  b: {title: B, role: contributing, primacy: 2, load: append, identifiers: {record_id: id}}
"""


def test_sensor_requests_runs_for_new_deliveries_only(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    sensor = build_landing_sensor(parse_registry(REGISTRY, tmp_path / "sources.yml"))
    (tmp_path / "landing" / "a").mkdir(parents=True)
    (tmp_path / "landing" / "a" / "a_1.csv").write_text("id\n1\n")

    with dg.build_sensor_context(cursor=None) as ctx:
        first = sensor(ctx)
        cursor = ctx.cursor
    assert [r.asset_selection for r in first] == [[dg.AssetKey(["raw", "a"]), dg.AssetKey(["raw", "a_quarantine"])]]

    with dg.build_sensor_context(cursor=cursor) as ctx:
        assert isinstance(sensor(ctx), dg.SkipReason)  # nothing new

    (tmp_path / "landing" / "b").mkdir()
    (tmp_path / "landing" / "b" / "b_1.csv").write_text("id\n1\n")
    (tmp_path / "landing" / "b" / "notes.txt").write_text("not a delivery")
    with dg.build_sensor_context(cursor=cursor) as ctx:
        third = sensor(ctx)
    assert len(third) == 1 and third[0].tags["dl_platform/source"] == "b"
    assert third[0].run_key.startswith("b:")
