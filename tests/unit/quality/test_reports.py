"""Report building on tiny frames: governance statuses and counts, linkage threshold curve."""

import duckdb
import pandas as pd

from dl_platform.quality import governance, linkage_report
from dl_platform.quality.linkage_checks import match_rates
from dl_platform.quality.linkage_evaluation import LinkageEvaluation
from dl_platform.quality.outcome import CheckOutcome


def test_check_status_distinguishes_warned_from_failed():
    assert governance.check_status(True, "ERROR") == "passed"
    assert governance.check_status(False, "WARN") == "warned"
    assert governance.check_status(False, "ERROR") == "failed"
    assert governance.check_status(None, None) == "not run"


def governance_inputs() -> governance.GovernanceInputs:
    deliveries = pd.DataFrame({
        "source": ["pds", "hes_apc"], "delivery_file": ["pds_1.csv", "hes_1.parquet"],
        "file_sha256": ["a" * 64, "b" * 64], "rows_read": [10, 20], "rows_accepted": [10, 18],
        "rows_quarantined": [0, 2], "outcome": ["loaded", "loaded"], "message": ["", ""],
        "loaded_at": pd.to_datetime(["2025-01-01", "2025-01-02"]), "run_id": ["r1", "r0"],
    })
    checks = pd.DataFrame({
        "asset": ["raw/pds", "raw/hes_apc", "raw/hes_apc"], "check": ["a", "b", "c"],
        "status": ["passed", "warned", "failed"], "severity": ["ERROR", "WARN", "ERROR"],
        "run_id": ["r1", "r1", "r1"], "evaluated_at": pd.NaT, "description": ["ok", "meh", "half the rows"],
    })
    quarantine = pd.DataFrame({"source": ["hes_apc"], "delivery_file": ["hes_1.parquet"],
                               "rule": ["record_id_unique"], "reason": ["dup"], "rows": [2]})
    return governance.GovernanceInputs("r1", deliveries, quarantine, checks, pd.DataFrame(), pd.DataFrame(),
                                       "no extracts released")


def test_governance_counts_summary_and_page():
    inputs = governance_inputs()
    c = governance.counts(inputs)
    assert (c["deliveries"], c["deliveries_this_run"], c["rows_quarantined"]) == (2, 1, 2)
    assert (c["checks_passed"], c["checks_warned"], c["checks_failed"]) == (1, 1, 1)
    summary = governance.summary_markdown(inputs)
    assert "half the rows" in summary and "| raw/pds | a |" not in summary
    page = governance.render_html(inputs)
    assert "pds_1.csv" in page and "record_id_unique" in page and "no extracts released" in page
    assert "a" * 64 not in page  # hashes are shortened for reading


def test_released_counts_only_released_versions():
    frame = pd.DataFrame({"status": ["released", "flagged"]})
    assert governance.count_released(frame) == 1


def record_person() -> pd.DataFrame:
    return pd.DataFrame({
        "source": ["pds"] * 4 + ["hes"] * 4,
        "record_id": list("abcdefgh"),
        "person_id": ["P1", "P2", "P3", "P4", "P1", "P2", "P3", "B1"],
        "link_step": ["deterministic"] * 5 + ["probabilistic", "probabilistic", "bucket"],
        "match_probability": [1, 1, 1, 1, 1, 0.6, 0.95, 0.1],
    })


def test_threshold_sensitivity_falls_as_the_threshold_rises():
    curve = linkage_report.threshold_sensitivity(record_person(), "pds")
    assert curve["match_rate"].iloc[0] == 0.75 and curve["match_rate"].iloc[-1] == 0.25
    assert curve["match_rate"].is_monotonic_decreasing
    hes = record_person().query("source == 'hes'").astype({"source": "string"})
    assert linkage_report.threshold_sensitivity(hes, None)["match_rate"].iloc[0] == 0.75


def test_linkage_page_embeds_charts_and_history_has_one_row_per_source():
    rp = record_person()
    conn = duckdb.connect()
    conn.register("rp", rp)
    rates = match_rates(conn, "rp")
    history = linkage_report.history_rows(rates, "run1", pd.Timestamp("2025-01-01"))
    assert list(history["source"]) == ["hes", "pds"] and set(history["run_id"]) == {"run1"}
    evaluation = LinkageEvaluation([CheckOutcome("match_rate_per_source", False, reason="hes low")], rp, rates)
    weights = linkage_report.match_weights(rp, None)
    page = linkage_report.render_html(evaluation, history, weights,
                                      linkage_report.threshold_sensitivity(rp, "pds"), "run1")
    assert page.count("data:image/png;base64") == 4 and "hes low" in page
    assert "FAILED" in linkage_report.summary_markdown(evaluation)


def test_linkage_page_says_when_precision_recall_were_not_measured():
    rp = record_person()
    conn = duckdb.connect()
    conn.register("rp", rp)
    rates = match_rates(conn, "rp")
    curve = linkage_report.threshold_sensitivity(rp, "pds")
    without = LinkageEvaluation([], rp, rates, extra={"truth": "no truth file configured (DL_TRUTH_FILE)"})
    page = linkage_report.render_html(without, pd.DataFrame(), linkage_report.match_weights(rp, None), curve, "r")
    assert "no truth file configured" in page and "Precision and recall by group" not in page
    pr = pd.DataFrame({"attribute": ["all"], "group": ["all"], "records": [4], "precision": [1.0], "recall": [0.75]})
    with_truth = LinkageEvaluation([], rp, rates, precision_recall=pr, extra={"truth": "against truth.parquet"})
    page = linkage_report.render_html(with_truth, pd.DataFrame(), linkage_report.match_weights(rp, None), curve, "r")
    assert "Precision and recall by group (truth file)" in page and "0.7500" in page


def test_the_report_states_each_threshold_and_why():
    from dl_platform.quality.linkage_report import threshold_table

    choices = {
        "thresholds": {
            "probabilistic": {"step": "probabilistic", "threshold": 0.51, "source": "expected_f1",
                              "candidates": 7000, "expected_precision": 0.99, "expected_recall": 0.995,
                              "expected_f1": 0.9925},
            "bucket": {"step": "bucket", "threshold": 0.8, "source": "configured", "candidates": 40},
            "sensitivity_delta": 0.05,
        },
        "threshold_sensitivity": {"probabilistic": {"gained_at_lower": 12, "lost_at_higher": 30}},
    }
    table = threshold_table(choices).set_index("step")
    assert list(table.index) == ["probabilistic", "bucket"]
    assert table.loc["probabilistic", "source"] == "expected_f1" and table.loc["bucket", "source"] == "configured"
    assert table.loc["probabilistic", "lost_at_higher"] == 30 and pd.isna(table.loc["bucket", "gained_at_lower"])
    assert threshold_table({}).empty
