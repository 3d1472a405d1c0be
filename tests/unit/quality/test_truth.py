"""The truth file: schema, clear errors naming the file, scoring and the precision/recall floor. No Dagster."""

import pandas as pd
import pytest

from dl_platform.quality.truth import (
    FLOOR_CHECK,
    TruthFileError,
    attach_truth,
    check_precision_recall,
    load_truth,
    persons_path_for,
    score_against_truth,
)
from dl_platform.settings import get_settings


def truth_frame(**extra) -> pd.DataFrame:
    return pd.DataFrame({"source": ["pds", "pds", "hes", "hes"], "record_id": ["P1", "P2", "H1", "H2"],
                         "person_key": ["k1", "k2", "k1", "k2"], **extra})


def record_person() -> pd.DataFrame:
    return pd.DataFrame({"source": ["pds", "pds", "hes", "hes"], "record_id": ["P1", "P2", "H1", "H2"],
                         "person_id": ["A", "B", "A", "C"],
                         "link_step": ["deterministic", "deterministic", "deterministic", "bucket"]})


def test_truth_file_is_named_only_by_dl_truth_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DL_TRUTH_FILE", raising=False)
    (tmp_path / "truth.parquet").write_bytes(b"lying in the data folder")
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    assert get_settings().truth_file is None
    monkeypatch.setenv("DL_TRUTH_FILE", "")
    assert get_settings().truth_file is None
    monkeypatch.setenv("DL_TRUTH_FILE", str(tmp_path / "elsewhere.parquet"))
    assert get_settings().truth_file == (tmp_path / "elsewhere.parquet").resolve()


def test_a_good_truth_file_with_its_sibling_persons_file(tmp_path):
    path = tmp_path / "truth.parquet"
    truth_frame().to_parquet(path)
    pd.DataFrame({"person_key": ["k1", "k2"], "sex": ["F", "M"], "imd_decile": [1, 10],
                  "date_of_birth": ["1970-01-01", "1980-01-01"]}).to_parquet(tmp_path / "truth_persons.parquet")
    truth = load_truth(path)
    assert persons_path_for(path) == tmp_path / "truth_persons.parquet" == truth.persons_path
    assert list(truth.records.columns) == ["source", "record_id", "person_key"]
    assert set(truth.persons.columns) == {"person_key", "sex", "imd_quintile"}
    assert truth.persons.set_index("person_key")["imd_quintile"].to_dict() == {"k1": "1", "k2": "5"}


def test_integer_ids_csv_and_attributes_in_the_truth_file_itself(tmp_path):
    path = tmp_path / "clerical.parquet"
    pd.DataFrame({"source": ["pds", "hes"], "record_id": [1, 2], "person_key": [7, 7],
                  "ethnic_group": ["Asian", "Asian"]}).to_parquet(path)
    truth = load_truth(path)
    assert truth.records["record_id"].tolist() == ["1", "2"] and truth.persons_path is None
    assert truth.persons.to_dict(orient="records") == [{"person_key": "7", "ethnic_group": "Asian"}]
    repeated = tmp_path / "redelivered.parquet"
    pd.concat([truth_frame(), truth_frame().iloc[:1]]).to_parquet(repeated)  # the same record, same person
    assert len(load_truth(repeated).records) == 4
    csv = tmp_path / "truth.csv"
    truth_frame().to_csv(csv, index=False)
    assert len(load_truth(csv).records) == 4 and load_truth(csv).persons is None


def test_a_truth_file_of_the_wrong_shape_names_the_file_and_the_missing_columns(tmp_path):
    path = tmp_path / "truth.parquet"
    pd.DataFrame({"src": ["pds"], "id": ["P1"], "cluster": [1]}).to_parquet(path)
    with pytest.raises(TruthFileError) as err:
        load_truth(path)
    message = str(err.value)
    assert str(path) in message
    assert "missing required column(s) source, record_id, person_key" in message
    assert "its columns: src, id, cluster" in message
    assert err.value.missing == ("source", "record_id", "person_key")


@pytest.mark.parametrize(("frame", "expected"), [
    (truth_frame().assign(record_id=[1.0, 2.0, 3.0, 4.0]), "column record_id holds decimal values"),
    (truth_frame().assign(person_key=["k1", None, "k1", "k2"]), "1 of 4 rows have no person_key"),
    (truth_frame().assign(record_id=["P1", "P1", "H1", "H2"]), "1 records (source, record_id) are given two or more"),
    (truth_frame().assign(source=[1, 1, 2, 2]), "column source holds integer values"),
    (truth_frame().iloc[:0], "has no rows"),
])
def test_wrong_types_nulls_and_duplicates_are_named_without_values(tmp_path, frame, expected):
    path = tmp_path / "truth.parquet"
    frame.to_parquet(path)
    with pytest.raises(TruthFileError) as err:
        load_truth(path)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "P1" not in str(err.value) and "k1" not in str(err.value)


def test_unreadable_missing_and_unsupported_files(tmp_path):
    bad = tmp_path / "truth.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(TruthFileError, match="cannot be read as Parquet"):
        load_truth(bad)
    with pytest.raises(TruthFileError, match="does not exist"):
        load_truth(tmp_path / "absent.parquet")
    (tmp_path / "truth.xlsx").write_bytes(b"x")
    with pytest.raises(TruthFileError, match="unsupported file type '.xlsx'"):
        load_truth(tmp_path / "truth.xlsx")


def test_a_bad_sibling_persons_file_is_named(tmp_path):
    path = tmp_path / "truth.parquet"
    truth_frame().to_parquet(path)
    pd.DataFrame({"key": ["k1"], "sex": ["F"]}).to_parquet(tmp_path / "truth_persons.parquet")
    with pytest.raises(TruthFileError) as err:
        load_truth(path)
    assert str(tmp_path / "truth_persons.parquet") in str(err.value) and "person_key" in str(err.value)


def test_scores_and_coverage_against_truth(tmp_path):
    path = tmp_path / "truth.parquet"
    truth_frame(sex=["F", "M", "F", "M"]).to_parquet(path)
    truth = load_truth(path)
    rp = pd.concat([record_person(), pd.DataFrame({"source": ["hes"], "record_id": ["H9"], "person_id": ["D"],
                                                   "link_step": ["one_time"]})], ignore_index=True)
    report, coverage = score_against_truth(rp, truth)
    assert coverage == {"records_scored": 4, "mpi_records_without_truth": 1, "truth_records_not_in_mpi": 0}
    overall = report.iloc[0]
    assert (overall.precision, overall.recall) == (1.0, 0.5)
    assert set(report.dimension) == {"overall", "link_step", "source", "sex"}
    attached = attach_truth(rp.assign(sex="unknown"), truth)
    assert attached["person_key"].tolist()[:4] == ["k1", "k2", "k1", "k2"] and pd.isna(attached["person_key"].iloc[4])
    assert attached["sex"].tolist()[:4] == ["F", "M", "F", "M"]


def test_truth_of_other_data_is_refused_with_the_sources_named(tmp_path):
    path = tmp_path / "truth.parquet"
    truth_frame().assign(source="elsewhere").to_parquet(path)
    with pytest.raises(TruthFileError) as err:
        score_against_truth(record_person(), load_truth(path))
    assert "none of its 4 records is in mpi.record_person" in str(err.value)
    assert "sources in the file: elsewhere; in the MPI: hes, pds" in str(err.value)


def test_precision_recall_floor():
    ok = check_precision_recall(pd.Series({"precision": 0.999, "recall": 0.97, "f1": 0.98, "records": 10}))
    assert ok.passed and ok.name == FLOOR_CHECK
    low = check_precision_recall(pd.Series({"precision": 0.98, "recall": 0.97, "f1": 0.97, "records": 10}))
    assert not low.passed and "precision 0.9800 against truth is below the floor 0.99" in low.reason
    assert "recall" not in low.reason
    assert not check_precision_recall(pd.Series({"precision": 1.0, "recall": 0.9, "f1": 0.9, "records": 10}),
                                      min_recall=0.95).passed


def test_the_demo_names_its_synthetic_truth_only_when_the_user_has_not(monkeypatch, tmp_path):
    from dl_platform.demo import demo_truth_env

    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DL_TRUTH_FILE", raising=False)
    assert demo_truth_env() == {}  # nothing generated yet
    truth_frame().to_parquet(tmp_path / "truth.parquet")
    assert demo_truth_env() == {"DL_TRUTH_FILE": str(tmp_path.resolve() / "truth.parquet")}
    monkeypatch.setenv("DL_TRUTH_FILE", str(tmp_path / "mine.csv"))
    assert demo_truth_env() == {}
