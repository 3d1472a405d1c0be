"""Benchmark: the whole demo (generate, raw, dbt, linkage, marts, quality, extracts) end to end."""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.measure import measure, report

SIZES = [int(x) for x in os.environ.get("DL_BENCH_E2E_SIZES", "10000,100000").split(",")]


@pytest.mark.bench
@pytest.mark.parametrize("persons", SIZES)
def test_bench_demo_end_to_end(persons, tmp_path):
    env = {"DL_DATA_DIR": str(tmp_path / "data")}  # platform defaults: what a user gets
    run = measure(
        f"from dl_platform.cli import main\nassert main(['demo', '--persons', '{persons}']) == 0",
        env, timeout=5400,
    )
    assert "Demo complete" in run["stdout"]
    report(f"end-to-end demo, {persons:,} persons", [{
        "persons": persons, "seconds": run["seconds"], "persons_per_s": persons / run["seconds"],
        "peak_rss_gib": run["peak_rss_gib"],
    }])
