"""Pairwise accuracy arithmetic on tiny frames."""

import pandas as pd

from dl_platform.linkage.accuracy import accuracy_report, pairwise_scores, scores_by_dimension


def _frame(person_ids, person_keys):
    return pd.DataFrame({"person_id": person_ids, "person_key": person_keys})


def test_perfect_linkage_scores_one():
    s = pairwise_scores(_frame(["a", "a", "b"], ["x", "x", "y"]))
    assert s["precision"] == s["recall"] == s["f1"] == 1.0
    assert s["true_pairs"] == 1


def test_false_merge_lowers_precision_and_missed_link_lowers_recall():
    merged = pairwise_scores(_frame(["a", "a", "a"], ["x", "x", "y"]))
    assert merged["predicted_pairs"] == 3 and merged["correct_pairs"] == 1
    assert merged["precision"] == 1 / 3 and merged["recall"] == 1.0
    split = pairwise_scores(_frame(["a", "b", "c"], ["x", "x", "y"]))
    assert split["recall"] == 0.0 and split["precision"] == 1.0


def test_subset_counts_pairs_touching_the_subset():
    frame = _frame(["a", "a", "a", "b"], ["x", "x", "x", "y"])
    s = pairwise_scores(frame, pd.Series([True, False, False, False]))
    assert s["true_pairs"] == 2 and s["correct_pairs"] == 2


def test_report_has_overall_step_source_and_subgroups():
    rp = pd.DataFrame({"source": ["s1", "s2", "s2"], "record_id": ["1", "2", "3"], "person_id": ["a", "a", "b"],
                       "link_step": ["deterministic", "probabilistic", "bucket"]})
    truth = pd.DataFrame({"source": ["s1", "s2", "s2"], "record_id": ["1", "2", "3"], "person_key": ["x", "x", "x"]})
    persons = pd.DataFrame({"person_key": ["x"], "sex": ["F"], "imd_decile": [3]})
    report = accuracy_report(rp, truth, persons)
    assert set(report.dimension) == {"overall", "link_step", "source", "sex", "imd_quintile"}
    assert report[report.dimension == "imd_quintile"].value.tolist() == ["2"]
    overall = report[report.dimension == "overall"].iloc[0]
    assert overall.recall == 1 / 3 and overall.precision == 1.0


def test_scores_by_dimension_nests_the_report_for_metadata():
    rp = pd.DataFrame({"source": ["s1", "s2"], "record_id": ["1", "2"], "person_id": ["a", "b"],
                       "link_step": ["deterministic", "bucket"]})
    truth = pd.DataFrame({"source": ["s1", "s2"], "record_id": ["1", "2"], "person_key": ["x", "x"]})
    tables = scores_by_dimension(accuracy_report(rp, truth))
    assert set(tables) == {"overall", "link_step", "source"}
    assert tables["source"]["s2"] == {"precision": 1.0, "recall": 0.0, "f1": 0.0, "records": 1}
