"""A bare-Splink baseline: the same standardised records, a plain dedupe-and-cluster with
comparable settings and no platform (no cascade, no guard, no stable IDs).

Run as a script to time it in its own process (peak RSS is per process):
`python tests/benchmarks/bare_splink_baseline.py --warehouse W --out result.json`
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path

import splink.comparison_library as cl
from splink import Linker, block_on

U_MAX_PAIRS = 1e6
THRESHOLD = 0.95


def settings() -> dict:
    """A competent notebook model: library comparisons, TF on names, DOB+initial blocking."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [
            cl.ExactMatch("nhs_number"),
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode"),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("nhs_number"),
            block_on("date_of_birth", "substr(family_name, 1, 1)"),
            block_on("date_of_birth", "postcode"),
        ],
    }


def run_baseline(conn, db_api) -> dict:
    """Link `intermediate.int_identifiers_standardised` with bare Splink; return timings.

    Leaves `__baseline_clusters(source, record_id, person_id)` on the connection.
    """
    t0 = time.monotonic()
    conn.execute(
        """create or replace temp table __baseline_input as
        select source || '|' || record_id as unique_id, source, record_id,
               case when nhs_number_valid then nhs_number end as nhs_number, given_name, family_name,
               cast(date_of_birth as date) as date_of_birth, sex, postcode
        from intermediate.int_identifiers_standardised where link_enabled"""
    )
    sdf = db_api.register("__baseline_input", table_name="baseline_input")
    from splink import SettingsCreator

    linker = Linker(sdf, SettingsCreator(**settings()), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number", "date_of_birth")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("nhs_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth", "postcode"))
    t_train = time.monotonic() - t0
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    conn.execute(
        f"""create or replace temp table __baseline_clusters as
        select source, record_id, cast(cluster_id as varchar) as person_id from {clusters.physical_name}"""
    )
    return {"seconds": time.monotonic() - t0, "train_seconds": t_train}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import os

    os.environ["DL_DATA_DIR"] = str(args.data_dir)
    import pandas as pd

    from dl_platform.linkage.accuracy import pairwise_scores
    from dl_platform.resources.warehouse import WarehouseResource

    wh = WarehouseResource.from_settings()
    with wh.get_connection() as conn, wh.splink_api(conn) as db_api:
        timing = run_baseline(conn, db_api)
        clusters = conn.execute("select * from __baseline_clusters").df()
    truth = pd.read_parquet(args.data_dir.parent / "truth.parquet")
    frame = clusters.merge(truth, on=["source", "record_id"])
    scores = pairwise_scores(frame)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    args.out.write_text(json.dumps({**timing, **scores, "records": len(clusters), "peak_rss_gib": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
