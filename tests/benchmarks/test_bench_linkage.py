"""Linkage benchmarks (`make bench`): platform cascade vs bare Splink on the same records.

For each size: `dl-platform synth` -> the test standardiser -> the standardised table; then,
each in its own process (so peak RSS is its own): the platform's full run (training
included), a 1% incremental delivery, and the bare-Splink baseline. Results are printed and
written to `$DL_BENCH_DIR/bench_linkage_<n>.json` (default: a temp dir).

Sizes: DL_BENCH_SIZES (default "10000,100000").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "unit" / "linkage"))
SIZES = [int(s) for s in os.environ.get("DL_BENCH_SIZES", "10000,100000").split(",")]


def _prepare(root: Path, n: int) -> Path:
    """Synthetic deliveries + standardised table in `root/data/warehouse.duckdb`."""
    data_dir = root / "data"
    if not (root / "truth.parquet").exists():
        subprocess.run([sys.executable, "-m", "dl_platform.cli", "synth", "--persons", str(n), "--seed", "1",
                        "--out", str(root)], check=True, capture_output=True)
    os.environ["DL_DATA_DIR"] = str(data_dir)
    if (data_dir / "warehouse.duckdb").exists():  # benchmark dirs are throwaway: reuse a prepared one
        return data_dir
    from population import write_standardised
    from standardise_landing import standardise_landing

    from dl_platform.resources.warehouse import WarehouseResource
    from dl_platform.settings import get_settings
    from dl_platform.sources.registry import load_registry

    records = standardise_landing(root, load_registry(get_settings().sources_file))
    with WarehouseResource.from_settings().get_connection() as conn:
        write_standardised(conn, records)
    return data_dir


def _platform(data_dir: Path) -> dict:
    """Full run (retrain), accuracy, then a 1% delivery linked incrementally (child process)."""
    import pandas as pd

    from dl_platform.linkage.accuracy import accuracy_report
    from dl_platform.linkage.cascade.run import run_cascade
    from dl_platform.linkage.config import load_config
    from dl_platform.linkage.inputs import table_columns
    from dl_platform.resources.warehouse import WarehouseResource
    from dl_platform.settings import get_settings

    cfg, wh, models = load_config(), WarehouseResource.from_settings(), get_settings().models_dir
    table = "intermediate.int_identifiers_standardised"
    with wh.get_connection() as conn, wh.splink_api(conn) as db_api:
        conn.execute("drop schema if exists mpi cascade")
        t = time.monotonic()
        result = run_cascade(conn, db_api, cfg, models, "bench-full", retrain=True)
        full_seconds = time.monotonic() - t
        rp = conn.execute("select * from mpi.record_person").df()
        n_records = len(rp)
        # The 1% delivery is loaded a day after the rest, as a real delivery would be.
        keep = "* exclude (loaded_at)" if "loaded_at" in table_columns(conn, table) else "*"
        conn.execute(
            f"""create or replace table intermediate.__bench_full as
            select {keep}, now()::timestamp - case when hash(record_id) % 100 = 0 then interval 0 day
                                                    else interval 1 day end as loaded_at
            from {table}"""
        )
        conn.execute(f"create or replace table {table} as select * from intermediate.__bench_full "
                     "where hash(record_id) % 100 <> 0")
        conn.execute("drop schema if exists mpi cascade")
        run_cascade(conn, db_api, cfg, models, "bench-99")
        # Laid out as dbt builds it from the raw tables: source by source, in load order.
        conn.execute(f"create or replace table {table} as select * from intermediate.__bench_full "
                     "order by source, loaded_at")
    # The delivery arrives in a later run: a new connection, as the asset opens one per run.
    with wh.get_connection() as conn, wh.splink_api(conn) as db_api:
        t = time.monotonic()
        incremental = run_cascade(conn, db_api, cfg, models, "bench-1pct")
        incremental_seconds = time.monotonic() - t
        rp_incremental = conn.execute("select * from mpi.record_person").df()
    truth = pd.read_parquet(data_dir.parent / "truth.parquet")
    persons = pd.read_parquet(data_dir.parent / "truth_persons.parquet")
    report = accuracy_report(rp, truth, persons)
    after_delivery = accuracy_report(rp_incremental, truth).iloc[0]
    return {
        "seconds": full_seconds, "records": n_records, "records_per_s": n_records / full_seconds,
        "step_seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "incremental_seconds": incremental_seconds, "incremental_records": incremental.counts["new_records"],
        "incremental_step_seconds": {k: round(v, 2) for k, v in incremental.seconds.items()},
        "incremental_read_every_record": incremental.counts["compared_every_record"],
        **{f"incremental_{k}": float(after_delivery[k]) for k in ("precision", "recall", "f1")},
        "incremental_share_of_full": incremental_seconds / full_seconds,
        "accuracy": report.round(5).to_dict(orient="records"),
        **{k: report.iloc[0][k] for k in ("precision", "recall", "f1")},
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024,
    }


def _child(mode: str, data_dir: Path, out: Path) -> dict:
    script = HERE / ("bare_splink_baseline.py" if mode == "baseline" else Path(__file__).name)
    args = [sys.executable, str(script), "--data-dir", str(data_dir), "--out", str(out)]
    if mode == "platform":
        args.append("--platform")
    subprocess.run(args, check=True, env={**os.environ, "DL_DATA_DIR": str(data_dir)})
    return json.loads(out.read_text())


@pytest.mark.bench
@pytest.mark.parametrize("n_persons", SIZES)
def test_bench_linkage(n_persons):
    root = Path(os.environ.get("DL_BENCH_DIR") or tempfile.mkdtemp(prefix="dl_bench_")) / f"persons_{n_persons}"
    root.mkdir(parents=True, exist_ok=True)
    data_dir = _prepare(root, n_persons)
    platform = _child("platform", data_dir, root / "platform.json")
    baseline = _child("baseline", data_dir, root / "baseline.json")
    summary = {
        "persons": n_persons, "records": platform["records"],
        "platform_seconds": round(platform["seconds"], 2), "baseline_seconds": round(baseline["seconds"], 2),
        "platform_over_baseline": round(platform["seconds"] / baseline["seconds"], 2),
        "platform_records_per_s": round(platform["records_per_s"]),
        "platform_peak_rss_gib": round(platform["peak_rss_gib"], 2),
        "baseline_peak_rss_gib": round(baseline["peak_rss_gib"], 2),
        "platform_precision": round(platform["precision"], 5), "platform_recall": round(platform["recall"], 5),
        "platform_f1": round(platform["f1"], 5), "baseline_precision": round(baseline["precision"], 5),
        "baseline_recall": round(baseline["recall"], 5), "baseline_f1": round(baseline["f1"], 5),
        "incremental_1pct_seconds": round(platform["incremental_seconds"], 2),
        "incremental_share_of_full": round(platform["incremental_share_of_full"], 3),
        "incremental_step_seconds": platform["incremental_step_seconds"],
        **{f"incremental_{k}": round(platform[f"incremental_{k}"], 5) for k in ("precision", "recall", "f1")},
        "platform_step_seconds": platform["step_seconds"],
    }
    (root.parent / f"bench_linkage_{n_persons}.json").write_text(json.dumps({**summary, "platform": platform}, indent=2, default=str))
    print(json.dumps(summary, indent=2))
    assert platform["records"] == baseline["records"]
    assert platform["f1"] > 0.95 and baseline["f1"] > 0.5


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--platform", action="store_true")
    a = parser.parse_args()
    os.environ["DL_DATA_DIR"] = str(a.data_dir)
    a.out.write_text(json.dumps(_platform(a.data_dir), default=float))
