"""Bad and awkward input: multiple matches, shared NHS numbers, all-null dates of birth,
a source with no usable identifiers. Each scenario links a small population with a model
trained once per module on that population."""

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "linkage"))
from population import SOURCES, link_records, make_population, nhs_number  # noqa: E402

from dl_platform.linkage.accuracy import accuracy_report  # noqa: E402

SMALL = {k: SOURCES[k] for k in ("pds", "gp_registrations", "hes_apc")}


@pytest.fixture(scope="module")
def small():
    return make_population(300, seed=21, sources=SMALL)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small):
    """A data dir whose models/ holds a model trained on the small population."""
    base = tmp_path_factory.mktemp("bad_input_model")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(base))
        link_records(base, small[0], retrain=True)
    return base


@pytest.fixture
def data_dir(tmp_path, monkeypatch, trained):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    shutil.copytree(trained / "models", tmp_path / "models")
    return tmp_path


def _record(records: pd.DataFrame, source: str, **changes) -> pd.DataFrame:
    row = records[records.source == source].head(1).copy()
    for k, v in changes.items():
        row[k] = v
    return row


def test_two_close_master_candidates_are_flagged_not_resolved(data_dir, small):
    import numpy as np

    records, _, _ = small
    m1 = records[records.is_master].iloc[[0]].copy()
    m2 = m1.assign(record_id="PDSDUP", nhs_number=nhs_number(np.random.default_rng(5)))
    probe = m1.assign(source="gp_registrations", record_id="GPPROBE", is_master=False, source_primacy=2,
                      nhs_number=None, nhs_number_valid=False, address=None)
    rp, diag, _ = link_records(data_dir, pd.concat([records, m2, probe], ignore_index=True))
    d = diag.set_index("record_id").loc["GPPROBE"]
    assert bool(d.multiple_match)
    assert d.n_candidates_above_threshold >= 2
    assert d.link_step == "bucket"
    persons = rp.set_index("record_id").person_id
    assert persons["GPPROBE"] not in {persons[m1.record_id.iloc[0]], persons["PDSDUP"]}


def test_nhs_number_shared_by_two_people_does_not_merge_them(data_dir, small):
    records, truth, _ = small
    masters = records[records.is_master]
    b, c = masters.iloc[1], masters.iloc[2]
    assert b.date_of_birth != c.date_of_birth
    wrong = pd.DataFrame([b]).assign(source="gp_registrations", record_id="GPSHARED", is_master=False,
                                     source_primacy=2, nhs_number=c.nhs_number, address=None)
    rp, diag, _ = link_records(data_dir, pd.concat([records, wrong], ignore_index=True))
    persons = rp.set_index("record_id").person_id
    assert persons["GPSHARED"] == persons[b.record_id]
    assert persons["GPSHARED"] != persons[c.record_id]
    assert "deterministic>probabilistic" in diag.set_index("record_id").loc["GPSHARED", "steps_attempted"]


def test_all_null_dates_of_birth_in_a_source(data_dir, small):
    records, truth, _ = small
    records = records.copy()
    records.loc[records.source == "gp_registrations", "date_of_birth"] = None
    rp, _, _ = link_records(data_dir, records)
    gp = rp[rp.source == "gp_registrations"]
    assert len(rp) == len(records)
    assert (gp.link_step != "deterministic").all()
    report = accuracy_report(rp, truth).set_index(["dimension", "value"])
    assert report.loc[("source", "gp_registrations"), "precision"] >= 0.98
    assert report.loc[("source", "gp_registrations"), "recall"] >= 0.9


def test_source_with_no_usable_identifiers_gets_one_time_ids(data_dir, small):
    records, _, _ = small
    junk = records[records.source == "hes_apc"].head(20).assign(
        source="junk_feed", record_id=[f"J{i}" for i in range(20)], nhs_number=None, nhs_number_valid=False,
        date_of_birth=None, given_name=None, family_name=None)
    rp, diag, _ = link_records(data_dir, pd.concat([records, junk], ignore_index=True))
    j = rp[rp.source == "junk_feed"]
    assert len(j) == 20
    assert (j.link_step == "one_time").all()
    assert j.person_id.nunique() == 20
    assert j.match_probability.isna().all()
    assert (diag[diag.source == "junk_feed"].steps_attempted == "one_time").all()
