"""The linkage cascade on a small synthetic population: accuracy floors, every step,
stable IDs, incremental linkage, no-master registries and bad input.

One population is linked once per session (`linked`); scenario tests copy its trained
model so they link in well under a second each.
"""

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "linkage"))
from population import SOURCES, link_records, make_population  # noqa: E402

from dl_platform.linkage.accuracy import accuracy_report  # noqa: E402

N_PERSONS = 1500
STEPS = {"deterministic", "probabilistic", "bucket", "one_time"}


@pytest.fixture(scope="session")
def linked(tmp_path_factory):
    """(records, truth, persons, record_person, diagnostics, result, data_dir) for one linked population."""
    data_dir = tmp_path_factory.mktemp("linkage_pop")
    records, truth, persons = make_population(N_PERSONS, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(data_dir))
        rp, diag, result = link_records(data_dir, records, retrain=True)
    return records, truth, persons, rp, diag, result, data_dir


@pytest.fixture
def scenario_dir(tmp_path, monkeypatch, linked):
    """A fresh data dir holding a copy of the session's trained model."""
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    shutil.copytree(linked[6] / "models", tmp_path / "models")
    return tmp_path


def test_one_row_per_linked_record_and_no_opt_out_records(linked):
    records, _, _, rp, _, _, _ = linked
    expected = records[records.link_enabled]
    assert len(rp) == len(expected)
    assert not rp.duplicated(["source", "record_id"]).any()
    assert set(rp.source) == set(expected.source)
    assert "national_opt_out" not in set(rp.source)
    assert set(rp.link_step) <= STEPS
    assert rp.person_id.str.match(r"^P[0-9a-f]{16}$").all()
    assert list(rp.columns) == ["source", "record_id", "person_id", "link_step", "match_probability"]


def test_accuracy_meets_floors(linked):
    _, truth, persons, rp, _, _, _ = linked
    report = accuracy_report(rp, truth, persons)
    overall = report[report.dimension == "overall"].iloc[0]
    print(report[["dimension", "value", "precision", "recall", "f1", "records"]].to_string())
    assert overall.precision >= 0.99
    assert overall.recall >= 0.97
    per_step = report[report.dimension == "link_step"].set_index("value")
    assert per_step.loc["deterministic", "precision"] >= 0.999
    assert per_step.loc["probabilistic", "precision"] >= 0.99


def test_every_step_is_used_and_diagnosed(linked):
    _, _, _, rp, diag, result, _ = linked
    assert {"deterministic", "probabilistic", "bucket"} <= set(rp.link_step)
    assert len(diag) == len(rp)
    merged = rp.merge(diag, on=["source", "record_id"], suffixes=("", "_d"))
    assert (merged.person_id == merged.person_id_d).all()
    prob = diag[diag.link_step == "probabilistic"]
    assert prob.matched_master_record_id.notna().all()
    chosen = result.thresholds["probabilistic"]
    assert chosen.source == "expected_f1" and chosen.candidates >= 300
    assert (prob.match_probability >= chosen.threshold).all()
    assert prob.gamma_date_of_birth.notna().all()
    assert result.model is not None and result.model.trained_now


def test_deterministic_records_share_the_master_person(linked):
    records, _, _, rp, _, _, _ = linked
    keyed = rp.merge(records, on=["source", "record_id"])
    master = keyed[keyed.is_master][["nhs_number", "date_of_birth", "person_id"]]
    det = keyed[(keyed.link_step == "deterministic") & ~keyed.is_master]
    joined = det.merge(master, on=["nhs_number", "date_of_birth"], suffixes=("", "_master"))
    assert len(joined) == len(det) > 0
    assert (joined.person_id == joined.person_id_master).all()


def test_rerun_and_relink_keep_identical_ids(linked, scenario_dir):
    records, _, _, rp, _, _, _ = linked
    first, _, _ = link_records(scenario_dir, records, run_id="a")
    again, _, res = link_records(scenario_dir, records, run_id="b")
    assert res.counts["new_records"] == 0
    pd.testing.assert_frame_equal(first, again)
    relinked, _, res = link_records(scenario_dir, records, relink=True, run_id="c")
    assert res.counts["new_records"] == len(first)
    pd.testing.assert_frame_equal(first, relinked)
    # the same data in another warehouse gives other IDs only if the salt differs: IDs are not identifiers
    assert set(first.person_id) != set(rp.person_id)


def test_new_delivery_links_incrementally_without_renumbering(linked, scenario_dir):
    records, truth, _, _, _, _, _ = linked
    later = records.sample(frac=0.02, random_state=3)
    earlier = records.drop(later.index)
    before, _, res1 = link_records(scenario_dir, earlier, run_id="d1")
    after, _, res2 = link_records(scenario_dir, records, run_id="d2")
    assert res2.counts["new_records"] == len(later[later.link_enabled])
    assert not res2.model.trained_now
    kept = before.merge(after, on=["source", "record_id"], suffixes=("_before", "_after"))
    assert len(kept) == len(before)
    assert (kept.person_id_before == kept.person_id_after).all()
    # new records of known persons join those persons
    t = after.merge(truth, on=["source", "record_id"])
    new_keys = set(zip(later.source, later.record_id, strict=True))
    t["is_new"] = [k in new_keys for k in zip(t.source, t.record_id, strict=True)]
    old_person_of_key = t[~t.is_new].groupby("person_key").person_id.agg(lambda s: s.mode()[0])
    new = t[t.is_new & t.person_key.isin(old_person_of_key.index)]
    agree = (new.person_id == new.person_key.map(old_person_of_key)).mean()
    assert agree >= 0.9


def test_withdrawn_records_leave_the_index_and_the_rest_keep_their_ids(linked, scenario_dir):
    records = linked[0]
    before, _, _ = link_records(scenario_dir, records, run_id="all")
    withdrawn = records.sample(frac=0.03, random_state=11)
    after, diag, res = link_records(scenario_dir, records.drop(withdrawn.index), run_id="withdrawn")
    assert res.counts["new_records"] == 0
    gone = set(zip(withdrawn.source, withdrawn.record_id, strict=True))
    assert not gone & set(zip(after.source, after.record_id, strict=True))
    assert not gone & set(zip(diag.source, diag.record_id, strict=True))
    kept = before.merge(after, on=["source", "record_id"], suffixes=("_before", "_after"))
    assert len(kept) == len(after) == len(before) - len(gone & set(zip(before.source, before.record_id, strict=True)))
    assert (kept.person_id_before == kept.person_id_after).all()


def test_searching_only_reachable_records_changes_no_link(linked, tmp_path, monkeypatch):
    """The pre-filter that keeps an incremental run small must give exactly the same index."""
    import dl_platform.linkage.predict as predict

    records = linked[0]
    later = records.sample(frac=0.02, random_state=5)
    results, calls = [], []
    spy = predict.reachable_sql
    monkeypatch.setattr(predict, "reachable_sql", lambda *a: calls.append(a) or spy(*a))
    for ratio in (predict.PREFILTER_RATIO, float("inf")):
        data_dir = tmp_path / f"ratio_{ratio}"
        shutil.copytree(linked[6] / "models", data_dir / "models")
        monkeypatch.setenv("DL_DATA_DIR", str(data_dir))
        monkeypatch.setattr(predict, "PREFILTER_RATIO", ratio)
        link_records(data_dir, records.drop(later.index), run_id="d1")
        rp, diag, _ = link_records(data_dir, records, run_id="d2")
        # Each warehouse has its own ID salt: compare who is grouped with whom, not the IDs.
        key = rp.source + "|" + rp.record_id
        rp["person_id"] = rp.person_id.map(key.groupby(rp.person_id).min())
        results.append((rp, diag.drop(columns=["person_id", "linked_at", "run_id"])))
    assert calls, "the pre-filter never ran, so this test proves nothing"
    pd.testing.assert_frame_equal(results[0][0], results[1][0])
    pd.testing.assert_frame_equal(results[0][1], results[1][1])


def test_registry_without_master_goes_to_the_bucket(scenario_dir):
    sources = {k: v for k, v in SOURCES.items() if k != "pds"}
    records, truth, persons = make_population(400, seed=11, sources=sources)
    rp, diag, _ = link_records(scenario_dir, records)
    assert set(rp.link_step) <= {"bucket", "one_time"}
    assert "probabilistic" not in "".join(diag.steps_attempted)
    overall = accuracy_report(rp, truth).iloc[0]
    assert overall.precision >= 0.97 and overall.recall >= 0.85


def test_source_without_names_nhs_or_sex_still_links(scenario_dir):
    sources = {"pds": SOURCES["pds"], "hes_apc": (3, 0.6, 2, False, 0.0, 0.05, True)}
    records, truth, _ = make_population(300, seed=12, sources=sources)
    records.loc[records.source == "hes_apc", "sex"] = None
    rp, _, _ = link_records(scenario_dir, records)
    assert len(rp) == len(records)
    hes = rp[rp.source == "hes_apc"]
    assert (hes.link_step == "probabilistic").mean() > 0.5
    assert accuracy_report(rp, truth).iloc[0].precision >= 0.95


def _loaded(frame: pd.DataFrame, day: int) -> pd.DataFrame:
    """`frame` as delivered on day `day` (the standardised `loaded_at` dbt carries from raw)."""
    return frame.assign(loaded_at=pd.Timestamp("2026-01-01") + pd.Timedelta(days=day))


def _grouping(rp: pd.DataFrame) -> pd.Series:
    """Who is grouped with whom, independent of each warehouse's ID salt."""
    key = rp.source + "|" + rp.record_id
    return rp.person_id.map(key.groupby(rp.person_id).min())


def test_delivery_found_by_watermark_links_like_comparing_every_record(linked, tmp_path, monkeypatch):
    """With `loaded_at`, only rows loaded since the last run are read; the index must be the same
    as when every record is compared with the index (no `loaded_at`)."""
    records = linked[0]
    later = records.sample(frac=0.02, random_state=21)
    earlier = records.drop(later.index)
    runs = {}
    for mode in ("watermark", "every_record"):
        data_dir = tmp_path / mode
        shutil.copytree(linked[6] / "models", data_dir / "models")
        monkeypatch.setenv("DL_DATA_DIR", str(data_dir))
        stamp = _loaded if mode == "watermark" else (lambda f, day: f)
        link_records(data_dir, stamp(earlier, 0), run_id="day0")
        rp, _, res = link_records(data_dir, pd.concat([stamp(earlier, 0), stamp(later, 1)]), run_id="day1")
        runs[mode] = (rp.assign(person_id=_grouping(rp)), res)
    watermark, every = runs["watermark"][1], runs["every_record"][1]
    assert watermark.counts["compared_every_record"] is False
    assert every.counts["compared_every_record"] is True
    assert watermark.counts["new_records"] == every.counts["new_records"] == int(later.link_enabled.sum())
    pd.testing.assert_frame_equal(runs["watermark"][0], runs["every_record"][0])


def test_redelivered_record_keeps_its_person_and_refreshes_the_index(linked, scenario_dir):
    records = _loaded(linked[0], 0)
    before, _, _ = link_records(scenario_dir, records, run_id="day0")
    fixed = records[records.source == "hes_apc"].head(1).copy()
    fixed["family_name"] = "CORRECTED"
    again = pd.concat([records.drop(fixed.index), _loaded(fixed, 1)])
    after, _, res = link_records(scenario_dir, again, run_id="day1")
    assert (res.counts["new_records"], res.counts["redelivered"], res.counts["withdrawn"]) == (0, 1, 0)
    pd.testing.assert_frame_equal(before, after)
    from dl_platform.resources.warehouse import WarehouseResource

    with WarehouseResource.from_settings().get_connection() as conn:
        names = conn.execute(
            "select family_name from mpi.record_index where source = ? and record_id = ?",
            [fixed.source.iloc[0], fixed.record_id.iloc[0]],
        ).fetchall()
    assert names == [("CORRECTED",)]


def test_record_loaded_before_the_watermark_is_still_linked(linked, scenario_dir):
    """A record the watermark cannot see (loaded earlier, never linked) is found by the count check."""
    records = linked[0]
    late = records[records.link_enabled].sample(n=3, random_state=4)
    link_records(scenario_dir, _loaded(records.drop(late.index), 5), run_id="day5")
    rp, _, res = link_records(scenario_dir, pd.concat([_loaded(records.drop(late.index), 5), _loaded(late, 1)]),
                              run_id="again")
    assert res.counts["compared_every_record"] is True
    assert res.counts["new_records"] == 3
    assert len(rp) == int(records.link_enabled.sum())


def test_withdrawal_is_found_when_reading_by_watermark(linked, scenario_dir):
    records = _loaded(linked[0], 0)
    before, _, _ = link_records(scenario_dir, records, run_id="day0")
    gone = records[records.link_enabled].sample(n=7, random_state=8)
    after, _, res = link_records(scenario_dir, records.drop(gone.index), run_id="day1")
    assert (res.counts["new_records"], res.counts["withdrawn"]) == (0, 7)
    assert res.counts["compared_every_record"] is False
    assert len(after) == len(before) - 7


def test_failed_run_changes_nothing_and_a_lost_index_is_rebuilt(linked, scenario_dir, monkeypatch):
    import dl_platform.linkage.cascade.run as run
    from dl_platform.resources.warehouse import WarehouseResource

    records = _loaded(linked[0], 0)
    later = records.sample(frac=0.02, random_state=9)
    before, _, _ = link_records(scenario_dir, records.drop(later.index), run_id="day0")

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as mp, pytest.raises(RuntimeError, match="disk full"):
        mp.setattr(run, "write_index", fail)  # fails after record_person was appended to
        link_records(scenario_dir, pd.concat([records.drop(later.index), _loaded(later, 1)]), run_id="fails")
    with WarehouseResource.from_settings().get_connection() as conn:
        assert conn.execute("select count(*) from mpi.record_person").fetchall()[0][0] == len(before)
        conn.execute("drop table mpi.record_index")
    after, _, res = link_records(scenario_dir, pd.concat([records.drop(later.index), _loaded(later, 1)]),
                                 run_id="day1")
    assert res.counts["index_rebuilt"] is True
    assert res.counts["new_records"] == int(later.link_enabled.sum())
    kept = before.merge(after, on=["source", "record_id"], suffixes=("_before", "_after"))
    assert len(kept) == len(before) and (kept.person_id_before == kept.person_id_after).all()
