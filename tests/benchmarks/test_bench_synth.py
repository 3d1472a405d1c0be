"""Benchmark: synthetic population generation at 100k and 1M persons (seconds, rows/s, RSS)."""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.measure import measure, report

SIZES = [int(x) for x in os.environ.get("DL_BENCH_SIZES", "100000,1000000").split(",")]

GENERATE = """
from pathlib import Path
from dl_platform.synthetic.generate import generate
summary = generate({persons}, 7, Path(r"{out}"))
print("ROWS", summary.total_rows)
"""


@pytest.mark.bench
@pytest.mark.parametrize("persons", SIZES)
def test_bench_synth(persons, tmp_path):
    result = measure(GENERATE.format(persons=persons, out=tmp_path / "data"))
    rows = int(next(x for x in result["stdout"].splitlines() if x.startswith("ROWS")).split()[1])
    assert rows >= persons
    report(
        f"synthetic generation, {persons:,} persons",
        [
            {
                "persons": persons,
                "rows": rows,
                "seconds": result["seconds"],
                "rows_per_s": rows / result["seconds"],
                "peak_rss_gib": result["peak_rss_gib"],
            }
        ],
    )
