"""Linkage-check and parity logic on tiny frames counted by DuckDB, no Dagster."""

import duckdb
import numpy as np
import pandas as pd

from dl_platform.quality import linkage_checks as lc
from dl_platform.quality import parity
from dl_platform.quality.linkage_inputs import truth_outcomes


def record_person(rows):
    return pd.DataFrame(rows, columns=["source", "record_id", "person_id", "link_step"])


def rel(frame: pd.DataFrame) -> tuple[duckdb.DuckDBPyConnection, str]:
    """The frame as a relation of an in-memory DuckDB, as the checks read the warehouse."""
    conn = duckdb.connect()
    conn.register("frame", frame)
    return conn, "frame"


def test_match_rate_per_source_and_step_against_expected():
    rp = record_person(
        [("pds", f"p{i}", f"P{i}", "deterministic") for i in range(10)]
        + [("hes", f"h{i}", f"P{i}", "deterministic") for i in range(7)]
        + [("hes", "h7", "P1", "probabilistic"), ("hes", "h8", "B1", "bucket"), ("hes", "h9", "T1", "one_time")]
    )
    rates = lc.match_rates(*rel(rp))
    hes = rates.set_index("source").loc["hes"]
    assert (hes["records"], hes["deterministic"], hes["probabilistic"], hes["bucket"]) == (10, 7, 1, 1)
    assert hes["match_rate"] == 0.8
    out = lc.check_match_rate(rates, {"hes": 0.9, "pds": 0.9}, "pds")
    assert not out.passed and "hes matched 80.0% of 10 records" in out.reason
    assert lc.check_match_rate(rates, {"hes": 0.75}, "pds").passed


def test_implausible_links_two_nhs_numbers_and_activity_after_death():
    linked = pd.DataFrame({
        "person_id": ["P1", "P1", "P2", "P2"],
        "nhs_number": ["9434765919", "4010232137", "9434765919", None],
        "date_of_death": pd.to_datetime([None, None, "2023-01-01", None]),
        "activity_date": pd.to_datetime([None, None, None, "2023-05-01"]),
    })
    counts = lc.implausible_persons(*rel(linked))
    assert counts == {"persons": 2, "two_nhs_numbers": 1, "two_dates_of_death": 0, "activity_after_death": 1}
    out = lc.check_implausible(*rel(linked))
    assert not out.passed and "two different valid NHS numbers" in out.reason
    assert "9434765919" not in out.reason


def population(persons: int, duplicated: int, big: int = 0) -> pd.DataFrame:
    """`persons` with one PDS record each; `duplicated` of them hold a second one, `big` hold 6 HES records."""
    rows = [("pds", f"p{i}", f"P{i:04d}", "deterministic") for i in range(persons)]
    rows += [("pds", f"d{i}", f"P{i:04d}", "deterministic") for i in range(duplicated)]
    rows += [("hes", f"h{i}-{j}", f"P{persons - 1 - i:04d}", "probabilistic") for i in range(big) for j in range(6)]
    return record_person(rows)


def rel_population(*args, **kwargs):
    return rel(population(*args, **kwargs))


def test_a_few_duplicate_master_records_pass_and_are_listed_for_review():
    out = lc.check_cluster_size(*rel_population(1000, 4), "pds", max_records=5, max_share=0.005)
    assert out.passed
    assert out.measured == 0.004 and out.threshold == 0.005
    assert out.details["persons_with_two_master_records"] == 4 and out.details["persons_affected"] == 4
    assert out.details["persons_for_review"] == ["P0000", "P0001", "P0002", "P0003"]
    assert "4 persons hold two or more master-register records" in out.summary and "for review" in out.summary
    clean = lc.check_cluster_size(*rel_population(1000, 0), "pds", max_records=5)
    assert clean.passed and clean.details["persons_for_review"] == [] and "note" not in clean.details


def test_cluster_size_fails_above_the_share_counting_both_kinds():
    out = lc.check_cluster_size(*rel_population(1000, 4, big=2), "pds", max_records=5, max_share=0.005)
    assert not out.passed and out.measured == 0.006
    assert "2 persons hold more than 5 records (largest 7)" in out.reason
    assert "4 persons hold two or more master-register records" in out.reason
    assert "0.60% of 1000 persons, above the tolerated 0.5%" in out.reason
    assert set(out.details["persons_for_review"][:2]) == {"P0998", "P0999"}  # the largest first
    assert not lc.check_cluster_size(*rel_population(100, 1), "pds", max_records=5, max_share=0.005).passed
    # without a master only the size bound is judged
    assert lc.check_cluster_size(*rel_population(100, 1), None, max_records=5, max_share=0.005).passed


def test_cluster_review_list_is_capped():
    out = lc.check_cluster_size(*rel_population(100, 10), "pds", max_records=5, max_share=0.5, max_listed=3)
    assert out.passed and len(out.details["persons_for_review"]) == 3
    assert out.details["persons_for_review_truncated"] is True and out.details["persons_affected"] == 10


def test_multiple_match_rate():
    assert not lc.check_multiple_matches((100, 5)).passed
    assert lc.check_multiple_matches((100, 0)).passed and lc.check_multiple_matches((100, 1)).passed
    assert "not applicable" in lc.check_multiple_matches(None).summary


def biased(n=2000, seed=0, gap=0.15):
    rng = np.random.default_rng(seed)
    eth = rng.choice(["A", "B", "C"], n, p=[0.7, 0.2, 0.1])
    rate = np.where(eth == "C", 0.95 - gap, 0.95)
    return pd.DataFrame({"matched": rng.random(n) < rate, "ethnic_group": eth,
                         "sex": rng.choice(["M", "F"], n)})


def test_parity_fails_on_a_biased_group_and_passes_when_fair():
    out = parity.check_parity(parity.parity_table(*rel(biased())))
    assert not out.passed and "ethnic_group 'C'" in out.reason and "pp" in out.reason
    fair = parity.check_parity(parity.parity_table(*rel(biased(gap=0.0))))
    assert fair.passed, fair.reason


def test_parity_ignores_small_groups():
    frame = pd.DataFrame({"matched": [True] * 100 + [False] * 5, "sex": ["M"] * 100 + ["F"] * 5})
    assert parity.check_parity(parity.parity_table(*rel(frame))).passed


def test_precision_recall_by_group_against_truth():
    records = pd.DataFrame({
        "source": ["pds", "pds", "hes", "hes", "hes"],
        "record_id": list("abcde"),
        "person_id": ["P1", "P2", "P1", "P1", "B9"],
        "person_key": [1, 2, 1, 2, 2],
        "matched": [True, True, True, True, False],
        "sex": ["M", "F", "M", "F", "F"],
    })
    truth = truth_outcomes(records, "pds")
    assert truth["correct"].tolist() == [True, False, False]
    pr = parity.precision_recall_by_group(truth, ("sex",)).set_index(["attribute", "group"])
    assert pr.loc[("all", "all"), "precision"] == 0.5 and round(pr.loc[("all", "all"), "recall"], 4) == 0.3333
    assert pr.loc[("sex", "F"), "recall"] == 0.0 and pr.loc[("sex", "M"), "recall"] == 1.0


def test_evidence_and_attributes_are_joined_from_the_warehouse(tmp_path):
    """The loaders join record_person, standardised identifiers, payload dates and dim_person in
    DuckDB: each record keeps its own evidence, unmatched keys stay null, nothing is duplicated."""
    import duckdb

    from dl_platform.quality.linkage_inputs import load_linked_evidence, record_attributes
    from dl_platform.settings import get_settings
    from dl_platform.sources.registry import load_registry

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create schema mpi; create schema intermediate; create schema raw; create schema marts")
    conn.execute("""create table mpi.record_person as select * from (values
        ('pds', '1', 'P1', 'deterministic', 1.0), ('hes_apc', '1', 'P1', 'probabilistic', 0.99),
        ('hes_apc', '2', 'P2', 'bucket', null), ('ecds', '1', 'P2', 'one_time', null))
        t(source, record_id, person_id, link_step, match_probability)""")
    conn.execute("""create table intermediate.int_identifiers_standardised as select * from (values
        ('pds', '1', '9434765919', true, 'F', date '1950-01-01'), ('hes_apc', '1', '4010232137', false, 'F', null),
        ('hes_apc', '2', '4010232137', true, 'M', date '2000-06-01'))
        t(source, record_id, nhs_number, nhs_number_valid, sex, date_of_birth)""")
    conn.execute("""create table raw.pds__payload as select * from (values ('1', '2023-01-01'))
        t(record_id, date_of_death)""")
    conn.execute("""create table raw.hes_apc__payload as select * from (values ('1', '01/05/2023'), ('2', '2023-13-01'))
        t(record_id, "EPIEND")""")
    conn.execute("create table marts.dim_person as select * from (values ('P1', 'F', '75+'), ('P2', 'M', '18-34')) "
                 "t(person_id, sex, age_band)")
    registry = load_registry(get_settings().sources_file)
    evidence = load_linked_evidence(conn, registry).set_index(["source", "record_id"]).sort_index()
    assert len(evidence) == 4
    assert evidence.loc[("pds", "1"), "nhs_number"] == "9434765919"
    assert pd.isna(evidence.loc[("hes_apc", "1"), "nhs_number"])  # not a valid number
    assert evidence.loc[("pds", "1"), "date_of_death"] == pd.Timestamp("2023-01-01")
    assert evidence.loc[("hes_apc", "1"), "activity_date"] == pd.Timestamp("2023-05-01")  # UK order
    assert pd.isna(evidence.loc[("hes_apc", "2"), "activity_date"])  # impossible month
    assert lc.implausible_persons(*rel(evidence.reset_index()))["activity_after_death"] == 1
    records, basis = record_attributes(conn, pd.Timestamp("2026-01-01"))
    assert basis == "marts.dim_person" and len(records) == 4
    by_record = records.set_index(["source", "record_id"])
    assert by_record.loc[("ecds", "1"), "age_band"] == "18-34"
    assert by_record["matched"].to_dict() == {  # matched to the master: the two first steps only
        ("ecds", "1"): False, ("hes_apc", "1"): True, ("hes_apc", "2"): False, ("pds", "1"): True}
    conn.execute("drop table marts.dim_person")
    records, basis = record_attributes(conn, pd.Timestamp("2026-01-01"))
    assert basis.startswith("record identifiers")
    assert records.set_index(["source", "record_id"]).loc[("pds", "1"), "age_band"] == "75+"
