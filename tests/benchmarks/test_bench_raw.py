"""Benchmark: raw-load throughput (rows/s, peak RSS) at 100k and 1M persons, beside a bare
DuckDB read of the same files into tables in the same run (issue target: at least half its rows/s).

The bare read gets the same knobs: the registry's delimiter and encoding, the warehouse's
connection settings, every file kept in its own table and a final checkpoint (the platform's
writes are checkpointed too), so the ratio measures the platform's own work: hashing, checks,
contract rules, the pandera cross-check, quarantine and the identifier/payload split.
"""

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
    conn.execute("checkpoint")
print("ROWS", rows)
"""

BARE = """
import codecs
import duckdb
from dl_platform.resources.sql import quote_literal
from dl_platform.resources.warehouse import connection_config
from dl_platform.settings import get_settings
from dl_platform.sources.reader import list_deliveries
from dl_platform.sources.registry import load_registry
s = get_settings()
config = connection_config(s.duckdb_memory_limit, s.duckdb_threads, s.tmp_dir, s.duckdb_max_temp_size)
conn = duckdb.connect(str(s.data_dir / "bare.duckdb"), config=config)
rows = 0
for source in load_registry(s.sources_file):
    encoding = "latin-1" if codecs.lookup(source.encoding).name == "iso8859-1" else "utf-8"
    for i, path in enumerate(list_deliveries(s.landing_dir / source.name)):
        scan = (f"read_parquet({quote_literal(str(path))})" if path.suffix == ".parquet" else
                f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, "
                f"delim = {quote_literal(source.delimiter)}, encoding = '{encoding}')")
        conn.execute(f"create table {source.name}_{i} as select * from {scan}")
        rows += conn.execute(f"select count(*) from {source.name}_{i}").fetchall()[0][0]
conn.execute("checkpoint")
print("ROWS", rows)
"""


def _rows(run: dict) -> int:
    return int(next(x for x in run["stdout"].splitlines() if x.startswith("ROWS")).split()[1])


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
    bare = measure(BARE, env)
    rows = _rows(load)
    assert rows >= persons  # every person has at least a PDS record
    assert _rows(bare) == rows  # the same rows, no line lost or invented by either reader
    report(f"generation + raw load, {persons:,} persons (bare = DuckDB read of the same files)", [{
        "persons": persons, "gen_s": gen["seconds"], "raw_rows": rows,
        "load_s": load["seconds"], "rows_per_s": rows / load["seconds"], "load_rss_gib": load["peak_rss_gib"],
        "bare_s": bare["seconds"], "bare_rows_per_s": rows / bare["seconds"],
        "ratio": bare["seconds"] / load["seconds"],
    }])
