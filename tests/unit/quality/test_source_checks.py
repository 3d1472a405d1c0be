"""Source-check logic on tiny frames, no Dagster: each injected fault fails its check."""

import datetime as dt

import pandas as pd
import pytest

from dl_platform.quality import completeness, consistency, period, volume
from dl_platform.quality.source_checks import CATALOGUE, evaluate
from dl_platform.quality.thresholds import thresholds
from dl_platform.sources.registry import Period, Source

TODAY = pd.Timestamp("2025-06-01")
PERIOD = Period(dt.date(2022, 4, 1), dt.date(2025, 3, 31), "EPIEND")


def months(start: str, n: int, per_month: int = 40) -> pd.Series:
    days = [pd.Timestamp(start) + pd.DateOffset(months=m) + pd.Timedelta(days=d % 27)
            for m in range(n) for d in range(per_month)]
    return pd.Series(days, dtype="datetime64[ns]")


def test_volume_half_the_previous_delivery_fails_with_both_counts():
    log = pd.DataFrame({"rows_read": [1000, 500]})
    out = volume.check_volume(log, 0.2)
    assert not out.passed
    assert "500 rows against 1000" in out.reason and "-50%" in out.reason
    assert volume.check_volume(pd.DataFrame({"rows_read": [1000, 1100]}), 0.2).passed


def test_volume_tolerates_chance_variation_in_small_deliveries():
    # +25% on 64 rows is within Poisson noise; the same +25% on 6,400 rows is not.
    assert volume.check_volume(pd.DataFrame({"rows_read": [64, 80]}), 0.2).passed
    assert not volume.check_volume(pd.DataFrame({"rows_read": [6400, 8000]}), 0.2).passed


def test_volume_compares_a_delivery_with_the_last_one_of_its_kind():
    files = ["hes_apc_2023-24.parquet", "hes_apc_2024-25.parquet", "hes_apc_2024-25_refresh1.parquet"]
    log = pd.DataFrame({"delivery_file": files, "rows_read": [10_000, 10_200, 300]})
    out = volume.check_volume(log, 0.2)
    assert out.passed and "first delivery" in out.summary  # a refresh is not a truncated annual file
    later = pd.DataFrame({"delivery_file": [*files, "hes_apc_2024-25_refresh2.parquet"],
                          "rows_read": [10_000, 10_200, 3_000, 1_000]})
    assert "1000 rows against 3000" in volume.check_volume(later, 0.2).reason
    truncated = pd.DataFrame({"delivery_file": files[:2], "rows_read": [10_000, 5_000]})
    assert not volume.check_volume(truncated, 0.2).passed


def test_volume_first_delivery_passes_with_a_note():
    out = volume.check_volume(pd.DataFrame({"rows_read": [10]}), 0.2)
    assert out.passed and "first delivery" in out.summary


def test_completeness_fails_for_a_provider_without_nhs_numbers_even_when_overall_is_fine():
    n = 200
    nhs = pd.Series(["9434765919"] * n)
    org = pd.Series(["RR8"] * 170 + ["RAE"] * 30)
    nhs[org == "RAE"] = None
    ident = pd.DataFrame({"record_id": [str(i) for i in range(n)], "nhs_number": nhs})
    out = completeness.check_completeness(ident, {"record_id": 1.0, "nhs_number": 0.5}, TODAY,
                                          {"organisation": org})
    assert not out.passed
    assert "organisation 'RAE'" in out.reason and "NHS number" in out.reason
    assert "9434765919" not in out.reason
    clean = completeness.check_completeness(ident.assign(nhs_number="9434765919"),
                                            {"record_id": 1.0, "nhs_number": 0.5}, TODAY, {"organisation": org})
    assert clean.passed


def test_completeness_tells_a_small_groups_bad_luck_from_a_fault():
    def outcome(n_group: int, valid_in_group: int):
        nhs = pd.Series(["9434765919"] * 500 + [None] * n_group)
        nhs.iloc[500 : 500 + valid_in_group] = "9434765919"
        org = pd.Series(["RR8"] * 500 + ["RAE"] * n_group)
        ident = pd.DataFrame({"record_id": [str(i) for i in range(len(nhs))], "nhs_number": nhs})
        return completeness.check_completeness(ident, {"nhs_number": 0.3}, TODAY, {"organisation": org})

    assert outcome(21, 1).passed  # 1 of 21 against a 15% floor: p = 0.16
    failed = outcome(300, 14)  # the same share over 300 records cannot be chance
    assert not failed.passed and "organisation 'RAE'" in failed.reason and "p=" in failed.reason


def test_completeness_overall_minimum():
    ident = pd.DataFrame({"record_id": list("abcd"), "date_of_birth": ["1980-01-01", "31/02/1980", None, "x"]})
    out = completeness.check_completeness(ident, {"date_of_birth": 0.9}, TODAY)
    assert not out.passed and "25.0%" in out.reason and out.measured["date_of_birth"] == 0.25


def test_missing_month_is_named():
    dates = months("2022-04-01", 24)
    dates = dates[dates.dt.to_period("M") != pd.Period("2023-01", "M")]
    out = period.check_missing_months(dates, PERIOD)
    assert not out.passed and "2023-01" in out.reason
    assert period.check_missing_months(months("2022-04-01", 24), PERIOD).passed
    sparse = months("2022-04-01", 24, per_month=3)
    sparse = sparse[sparse.dt.to_period("M") != pd.Period("2023-01", "M")]
    out = period.check_missing_months(sparse, PERIOD)
    assert out.passed and "too few records a month" in out.summary


def test_records_outside_the_coverage_period_fail():
    dates = pd.concat([months("2022-04-01", 3), pd.Series([pd.Timestamp("2026-01-01")])], ignore_index=True)
    out = period.check_within_period(dates, PERIOD)
    assert not out.passed and "1 after" in out.reason


def test_financial_year_uses_april_to_march():
    dates = pd.Series(pd.to_datetime(["2023-03-31", "2023-04-01", "2024-12-01"]))
    assert period.financial_year_code(dates).tolist() == ["2223", "2324", "2425"]
    out = period.check_financial_year(dates, pd.Series(["2223", "2223", "2425"]), "EPIEND")
    assert not out.passed and "1 of 3" in out.reason


def test_no_period_declared_skips_gracefully():
    for out in (period.check_within_period(pd.Series(dtype="datetime64[ns]"), None),
                period.check_missing_months(pd.Series(dtype="datetime64[ns]"), None)):
        assert out.passed and out.details["note"] == "not applicable: no period declared"


def test_all_one_sex_fails_and_a_mix_passes():
    out = consistency.check_sex_mix(pd.Series(["1"] * 100 + ["9"] * 5))
    assert not out.passed and "100.0% of 100" in out.reason and "male" in out.reason
    assert consistency.check_sex_mix(pd.Series(["M", "F"] * 50)).passed


def test_dates_of_birth_and_death():
    dob = pd.Series(pd.to_datetime(["1950-01-01", "2030-01-01", "1990-05-05"]))
    assert not consistency.check_future_dob(dob, TODAY).passed
    dod = pd.Series(pd.to_datetime(["1949-01-01", None, None]))
    out = consistency.check_death_before_birth(dob, dod)
    assert not out.passed and out.measured == 1


def test_activity_after_death_counts_only_records_of_the_dead():
    activity = pd.Series(pd.to_datetime(["2023-01-01", "2023-09-01", "2024-01-01"]))
    death = pd.Series(pd.to_datetime(["2023-06-15", "2023-06-15", None]))
    out = consistency.check_activity_after_death(activity, death, "EPIEND")
    assert not out.passed and out.measured == 1 and "EPIEND" in out.reason
    assert consistency.check_activity_after_death(activity, death.where(activity < "2023-06-01"), "EPIEND").passed


def test_duplicate_record_ids_fail():
    assert not consistency.check_unique(pd.Series(["a", "b", "b"])).passed
    assert consistency.check_unique(pd.Series(["a", "b"])).passed


def test_trend_break_is_flagged_but_noise_is_not():
    steady = months("2022-04-01", 18, per_month=60)
    assert volume.check_trend(steady, 0.5).passed
    broken = pd.concat([steady, months("2023-10-01", 1, per_month=200)], ignore_index=True)
    out = volume.check_trend(broken, 0.5)
    assert not out.passed and "2023-10" in out.reason
    assert "not applicable" in volume.check_trend(months("2022-04-01", 18, per_month=5), 0.5).summary


@pytest.fixture
def bare_source() -> Source:
    return Source(name="opt_out", title="t", role="contributing", primacy=9, load="append",
                  identifiers={"record_id": "event_id", "nhs_number": "nhs_number"}, link=False)


def test_registry_entry_with_few_fields_and_no_payload_passes_every_check(bare_source):
    frames = {
        "identifiers": pd.DataFrame({"record_id": ["1", "2"], "nhs_number": ["9434765919", "9434765919"],
                                     "_delivery_file": ["f.csv", "f.csv"]}),
        "payload": pd.DataFrame({"record_id": ["1", "2"]}),
        "deliveries": pd.DataFrame({"rows_read": [2], "rows_quarantined": [0]}),
    }
    outcomes = evaluate(frames, bare_source, TODAY)
    assert [o.name for o in outcomes] == [c.name for c in CATALOGUE]
    assert all(o.passed for o in outcomes), [o.reason for o in outcomes if not o.passed]
    notes = {o.name: o.details.get("note", "") for o in outcomes}
    assert notes["no_missing_months"] == "not applicable: no period declared"
    assert notes["sex_not_all_one_value"].startswith("not applicable")


def test_unloaded_source_is_not_applicable(bare_source):
    assert all(o.passed and "not been loaded" in o.summary for o in evaluate({}, bare_source, TODAY))


def test_registry_overrides_thresholds(bare_source):
    tuned = Source(**{**bare_source.__dict__, "checks": {"volume_tolerance": 0.1,
                                                        "completeness": {"nhs_number": 0.95}}})
    t = thresholds(tuned)
    assert t["volume_tolerance"] == 0.1 and t["completeness"]["nhs_number"] == 0.95
    assert thresholds(bare_source)["volume_tolerance"] == 0.2
