"""Benchmark: raw-load throughput (rows/s, peak RSS) at 100k and 1M persons."""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.measure import measure, report

SIZES = [int(x) for x in os.environ.get("DL_BENCH_SIZES", "100000,1000000").split(",")]

LOAD = """
from dl_platform.resources import open_warehouse
from dl_platform.settings import get_settings
from dl_platform.sources.loader import load_source
from dl_platform.sources.registry import load_registry
s = get_settings()
rows = 0
with open_warehouse() as conn:
    for source in load_registry(s.sources_file):
        result = load_source(conn, source, s.landing_dir, "bench")
        rows += result.total("rows_read")
print("ROWS", rows)
"""


@pytest.mark.bench
@pytest.mark.parametrize("persons", SIZES)
def test_bench_generate_and_raw_load(persons, tmp_path):
    env = {"DL_DATA_DIR": str(tmp_path / "data")}  # platform defaults: what a user gets
    gen = measure(
        f"from dl_platform.cli import main; main(['synth', '--persons', '{persons}', '--seed', '7', "
        f"'--out', r'{tmp_path / 'data'}'])",
        env,
    )
    load = measure(LOAD, env)
    rows = int(next(x for x in load["stdout"].splitlines() if x.startswith("ROWS")).split()[1])
    assert rows >= persons  # every person has at least a PDS record
    report(f"generation + raw load, {persons:,} persons", [{
        "persons": persons, "gen_s": gen["seconds"], "gen_rss_gib": gen["peak_rss_gib"],
        "raw_rows": rows, "load_s": load["seconds"], "rows_per_s": rows / load["seconds"],
        "load_rss_gib": load["peak_rss_gib"],
    }])
