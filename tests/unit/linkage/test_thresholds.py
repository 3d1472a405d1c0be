"""Thresholds chosen from the model: the expected-F1 optimum, configured override, reuse."""

from __future__ import annotations

import duckdb
import pytest

from dl_platform.linkage.thresholds import ThresholdPolicy, expected_f1_threshold


def _candidates(conn, probabilities):
    conn.execute("create or replace table c (p double)")
    conn.executemany("insert into c values (?)", [[p] for p in probabilities])
    return "select p from c"


def _brute_force(probabilities):
    """Expected F1 at every candidate threshold, by definition."""
    mass = sum(probabilities)
    best = max(
        (2 * sum(p for p in probabilities if p >= t) / (sum(1 for p in probabilities if p >= t) + mass), t)
        for t in probabilities
    )
    return best[1], best[0]


@pytest.mark.parametrize("probabilities", [
    [0.99] * 50 + [0.6] * 10 + [0.3] * 20 + [0.05] * 100,
    [0.999] * 5 + [0.45] * 40,
    [0.9, 0.8, 0.7, 0.2, 0.1, 0.02],
])
def test_the_choice_maximises_expected_f1(probabilities):
    conn = duckdb.connect()
    choice = expected_f1_threshold(conn, _candidates(conn, probabilities), "bucket")
    threshold, f1 = _brute_force([p for p in probabilities if p >= 0.01])
    assert choice.expected_f1 == pytest.approx(f1)
    # The same decisions as the optimum, at the point where accepting more stops paying (F1/2).
    assert [p >= choice.threshold for p in probabilities] == [p >= threshold for p in probabilities]
    assert choice.threshold == pytest.approx(min(threshold, max(f1 / 2, max(
        [p for p in probabilities if p < threshold], default=0) + 1e-9)))


def test_the_threshold_sits_at_half_the_best_expected_f1():
    """Accepting a candidate of probability p helps F1 exactly when p > F1/2: a data set the
    model finds easy gets a threshold near 0.5, a murky one a lower one."""
    conn = duckdb.connect()
    thresholds = []
    for clear in (5000, 300):
        probabilities = [0.999] * clear + [k / 1000 for k in range(1, 1000)]  # one murky pair per 0.001
        choice = expected_f1_threshold(conn, _candidates(conn, probabilities), "bucket")
        assert choice.threshold == pytest.approx(choice.expected_f1 / 2, abs=0.002)
        thresholds.append(choice.threshold)
    assert thresholds[0] > 0.45 and thresholds[1] < thresholds[0] - 0.05


def test_configured_wins_and_a_small_run_reuses_the_last_choice(tmp_path):
    conn = duckdb.connect()
    sql = _candidates(conn, [0.99] * 400 + [0.2] * 500)
    policy = ThresholdPolicy(tmp_path, revision=3, min_candidates=300, configured={"bucket": None})
    assert policy.choose(conn, sql, "bucket").source == "expected_f1"
    small = _candidates(conn, [0.42] * 10)
    reused = policy.choose(conn, small, "bucket")
    # Saved at F1/2 of the first run (0.884 / 2), not at its lowest accepted candidate.
    assert (reused.source, reused.threshold) == ("saved", pytest.approx(0.442, abs=0.001))
    # A new model revision does not inherit another model's threshold.
    fresh = ThresholdPolicy(tmp_path, revision=4, min_candidates=300, configured={"bucket": None})
    assert fresh.choose(conn, small, "bucket").source == "expected_f1"
    fixed = ThresholdPolicy(tmp_path, revision=3, min_candidates=300, configured={"bucket": 0.8})
    assert (fixed.choose(conn, sql, "bucket").source, fixed.current("bucket").threshold) == ("configured", 0.8)
