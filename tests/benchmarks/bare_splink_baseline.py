"""A fair bare-Splink baseline: what a competent analyst writes with Splink 5 alone, given the
platform's own input and knobs, with no cascade, no master, no stable IDs.

Same as the platform:
- input: `dl_platform.linkage.inputs.build_link_input` over `intermediate.int_identifiers_standardised`
  (invalid NHS numbers blanked, the standardised names, dates and postcodes; every record);
- training budget from `config/linkage.yml` (`load_config()`): u by random sampling with
  `max_pairs=u_max_pairs`, `seed=seed`, one chunk; EM sampled to `em_max_pairs` pairs above
  100k records (as `linkage/train.py`), without term frequencies;
- threshold policy: `thresholds.expected_f1_threshold` over its own predictions.

A notebook's own choices: library comparisons (`ExactMatch` NHS number and sex, `NameComparison`
given and family name with term-frequency adjustments, `DateOfBirthComparison`,
`PostcodeComparison`), each only for a field that has values; prediction blocking on NHS
number, DOB + family-name initial, DOB + postcode; prior from a deterministic rule (NHS number
+ DOB, else given + family name + DOB, recall 0.9); EM on NHS number then DOB + postcode (without
NHS numbers: given + family name, then DOB + postcode); predict at 0.01, cluster connected
components at the chosen threshold. Also clustered at Splink's conventional 0.5, for reference.

Run in its own process to time it (peak RSS is per process), from the repository root:
`python -m tests.benchmarks.bare_splink_baseline --data-dir DATA --out result.json`
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

PREDICT_FLOOR = 0.01
CONVENTIONAL = 0.5
CLUSTERS = "__baseline_clusters"
CLUSTERS_AT_CONVENTIONAL = "__baseline_clusters_05"
# Records above which EM samples its pairs (as the platform's training does).
EM_SAMPLE_ABOVE = 100_000


def comparisons(fields: tuple[str, ...]) -> list:
    """Library comparisons for the fields that carry values."""
    library = {
        "nhs_number": cl.ExactMatch("nhs_number"),
        "given_name": cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        "family_name": cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
        "date_of_birth": cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
        "sex": cl.ExactMatch("sex"),
        "postcode": cl.PostcodeComparison("postcode"),
    }
    return [c for f, c in library.items() if f in fields]


def prediction_rules(fields: tuple[str, ...]) -> list:
    """NHS number; DOB + family-name initial; DOB + postcode (those whose fields exist)."""
    rules = [(("nhs_number",), block_on("nhs_number")),
             (("date_of_birth", "family_name"), block_on("date_of_birth", "substr(family_name, 1, 1)")),
             (("date_of_birth", "postcode"), block_on("date_of_birth", "postcode"))]
    return [rule for needs, rule in rules if set(needs) <= set(fields)]


def training_rules(fields: tuple[str, ...]) -> list:
    """EM sessions: each block fixes some fields and teaches the others."""
    first = block_on("nhs_number") if "nhs_number" in fields else block_on("given_name", "family_name")
    return [first, block_on("date_of_birth", "postcode")]


def prior_rule(fields: tuple[str, ...]) -> str:
    if "nhs_number" in fields:
        return "l.nhs_number = r.nhs_number and l.date_of_birth = r.date_of_birth"
    return "l.given_name = r.given_name and l.family_name = r.family_name and l.date_of_birth = r.date_of_birth"


def _clusters(conn: Any, linker: Linker, predictions: Any, threshold: float, name: str) -> None:
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    conn.execute(f"""create or replace temp table {name} as
        select source, record_id, cast(cluster_id as varchar) as person_id from {clusters.physical_name}""")


def run_baseline(conn: Any, db_api: Any, cfg: Any = None) -> dict:
    """Link the standardised table with bare Splink; return timings and every knob used.

    Leaves `__baseline_clusters` (chosen threshold) and `__baseline_clusters_05` (0.5), each
    (source, record_id, person_id), on the connection.
    """
    from dl_platform.linkage.config import load_config
    from dl_platform.linkage.inputs import LINK_INPUT, available_fields, build_link_input
    from dl_platform.linkage.thresholds import expected_f1_threshold

    cfg = cfg or load_config()
    t0 = time.monotonic()
    counts = build_link_input(conn, cfg)
    fields = tuple(f for f in available_fields(counts) if f != "address")
    n_records = counts["records"]
    em_max_pairs = cfg.em_max_pairs if n_records > EM_SAMPLE_ABOVE else None
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id", comparisons=comparisons(fields),
        blocking_rules_to_generate_predictions=prediction_rules(fields),
        additional_columns_to_retain=["source", "record_id"],
    )
    t_train = time.monotonic()
    linker = Linker(db_api.register(LINK_INPUT, table_name="__baseline_input"), settings,
                    log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([prior_rule(fields)], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=cfg.u_max_pairs, seed=cfg.seed, num_chunks=1)
    for rule in training_rules(fields):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs)
    train_seconds = time.monotonic() - t_train
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
    choice = expected_f1_threshold(
        conn, f"select match_probability as p from {predictions.physical_name}", "baseline")
    threshold = choice.threshold if choice else CONVENTIONAL
    _clusters(conn, linker, predictions, threshold, CLUSTERS)
    seconds = time.monotonic() - t0
    _clusters(conn, linker, predictions, CONVENTIONAL, CLUSTERS_AT_CONVENTIONAL)
    n_pairs = conn.execute(f"select count(*) from {predictions.physical_name}").fetchall()[0][0]
    return {
        "train_seconds": train_seconds, "seconds": seconds, "records": n_records, "fields": list(fields),
        "scored_pairs": int(n_pairs), "threshold": threshold,
        "threshold_choice": choice.as_metadata() if choice else None,
        "knobs": {
            "u_max_pairs": cfg.u_max_pairs, "u_num_chunks": 1, "seed": cfg.seed,
            "em_max_pairs": em_max_pairs, "em_without_term_frequencies": True,
            "prior_rule": prior_rule(fields), "prior_recall": 0.9, "predict_threshold": PREDICT_FLOOR,
            "prediction_rules": [r.get_blocking_rule("duckdb").blocking_rule_sql for r in prediction_rules(fields)],
            "training_rules": [r.get_blocking_rule("duckdb").blocking_rule_sql for r in training_rules(fields)],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ["DL_DATA_DIR"] = str(args.data_dir)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from dl_platform.resources.warehouse import WarehouseResource
    from tests.benchmarks.scoring import read_truth, score

    wh = WarehouseResource.from_settings()
    with wh.get_connection() as conn, wh.splink_api(conn) as db_api:
        result = run_baseline(conn, db_api)
        chosen = conn.execute(f"select * from {CLUSTERS}").df()
        conventional = conn.execute(f"select * from {CLUSTERS_AT_CONVENTIONAL}").df()
    truth = read_truth(args.data_dir)
    result["at_threshold"] = score(chosen, truth)
    result["at_0_5"] = score(conventional, truth)
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    args.out.write_text(json.dumps(result, default=float, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
