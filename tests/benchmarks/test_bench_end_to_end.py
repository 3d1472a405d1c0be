"""Benchmarks end to end: the whole demo, and `*mpi/record_person` from landing through the
Dagster CLI (the issue's 1M-person figure).

Sizes: DL_BENCH_E2E_SIZES (default: demo 10000,100000; record_person 1000000).
"""

from __future__ import annotations

import os

import pytest

from dl_platform.resources.warehouse import WarehouseResource
from tests.benchmarks.measure import measure, report

_SIZES = os.environ.get("DL_BENCH_E2E_SIZES")
DEMO_SIZES = [int(x) for x in (_SIZES or "10000,100000").split(",") if x]
RECORD_PERSON_SIZES = [int(x) for x in (_SIZES or "1000000").split(",") if x]

# Runs what a user runs: Dagster's CLI on the platform's instance; measure() reports the peak
# RSS of this process or its children (the dagster process and the dbt it starts).
RECORD_PERSON = """
import os, subprocess, sys
from pathlib import Path
from dl_platform.operations.instance import dagster_home
from dl_platform.settings import REPO_DIR
env = {**os.environ, "DAGSTER_HOME": str(dagster_home())}
proc = subprocess.run(
    [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "dl_platform.definitions",
     "--select", "*mpi/record_person"], env=env, cwd=REPO_DIR, capture_output=True, text=True)
print("EXIT", proc.returncode)
if proc.returncode:
    print(proc.stdout[-3000:] + proc.stderr[-3000:])
"""


@pytest.mark.bench
@pytest.mark.parametrize("persons", DEMO_SIZES)
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


@pytest.mark.bench
@pytest.mark.parametrize("persons", RECORD_PERSON_SIZES)
def test_bench_record_person_from_landing(persons, tmp_path):
    """Landing -> raw (with source checks) -> dbt -> linkage model -> record_person (with its
    checks), timed from the moment the deliveries are in landing."""
    data = tmp_path / "data"
    env = {"DL_DATA_DIR": str(data)}
    measure(f"from dl_platform.cli import main\nassert main(['synth', '--persons', '{persons}']) == 0", env)
    run = measure(RECORD_PERSON, env, timeout=7200)
    exit_code = int(next(x for x in run["stdout"].splitlines() if x.startswith("EXIT")).split()[1])
    warehouse = WarehouseResource(database=str(data / "warehouse.duckdb"), temp_directory=str(data / "tmp"))
    with warehouse.get_connection(read_only=True) as conn:
        records = conn.execute("select count(*) from mpi.record_person").fetchall()[0][0] if warehouse.table_exists(
            conn, "mpi", "record_person") else 0
    report(f"*mpi/record_person from landing (dagster CLI), {persons:,} persons", [{
        "persons": persons, "records": records, "seconds": run["seconds"],
        "records_per_s": records / run["seconds"], "peak_rss_gib": run["peak_rss_gib"], "exit": exit_code,
    }])
    assert exit_code == 0, run["stdout"][-6000:]
