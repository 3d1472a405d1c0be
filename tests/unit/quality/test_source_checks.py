"""Source checks on tiny raw tables in an in-memory DuckDB, no Dagster: the counts come from
the real SQL (`source_stats`, dbt's rule macros), and each injected fault fails its check."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dl_platform.quality import volume
from dl_platform.quality.source_checks import CATALOGUE, evaluate
from dl_platform.quality.source_stats import collect
from dl_platform.quality.thresholds import thresholds
from dl_platform.sources.registry import Period, Registry, Source

TODAY = pd.Timestamp("2025-06-01")
PERIOD = Period(dt.date(2022, 4, 1), dt.date(2025, 3, 31), "EPIEND")


def months(start: str, n: int, per_month: int = 40) -> list[str]:
    """ISO dates spread over `n` months from `start`, `per_month` records each."""
    return [(pd.Timestamp(start) + pd.DateOffset(months=m) + pd.Timedelta(days=d % 27)).date().isoformat()
            for m in range(n) for d in range(per_month)]


def source(name: str = "hes", *, period: Period | None = PERIOD, master: bool = False,
           checks: dict | None = None, **identifiers: str) -> Source:
    return Source(name=name, title=name, role="master" if master else "contributing", primacy=1 if master else 2,
                  load="append", identifiers={"record_id": "id", **identifiers}, period=period,
                  checks=checks or {})


def outcomes(src: Source, ident: dict, payload: dict | None = None, *, master: Source | None = None,
             master_tables: tuple[dict, dict] | None = None, log_rows: list[int] | None = None) -> dict:
    """Load the given columns as `src`'s raw tables (and the master's), collect and evaluate."""
    conn = duckdb.connect()
    conn.execute("create schema raw")

    def table(name: str, columns: dict) -> None:
        frame = pd.DataFrame(columns).astype("string")
        conn.register("frame", frame)
        conn.execute(f"create table raw.{name} as select * from frame")
        conn.unregister("frame")

    def load(s: Source, ident_cols: dict, payload_cols: dict | None) -> None:
        n = len(next(iter(ident_cols.values())))
        table(f"{s.name}__identifiers", {"_delivery_file": ["f.csv"] * n, **ident_cols})
        table(f"{s.name}__payload", {"record_id": ident_cols["record_id"], **(payload_cols or {})})

    load(src, ident, payload)
    if master and master_tables:
        load(master, *master_tables)
    sources = {s.name: s for s in (src, master) if s}
    stats = collect(conn, src, Registry(path=None, sources=sources), TODAY)
    if log_rows:
        stats.deliveries = pd.DataFrame({"rows_read": log_rows, "rows_quarantined": [0] * len(log_rows)})
    return {o.name: o for o in evaluate(stats, src, TODAY)}


def ids(n: int) -> list[str]:
    return [str(i) for i in range(n)]


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
    org = ["RR8"] * 170 + ["RAE"] * 30
    nhs = ["9434765919" if o == "RR8" else None for o in org]
    src = source(nhs_number="nhs", period=None, checks={"completeness": {"record_id": 1.0, "nhs_number": 0.5}})
    out = outcomes(src, {"record_id": ids(200), "nhs_number": nhs}, {"PROCODET": org})["identifier_completeness"]
    assert not out.passed
    assert "organisation 'RAE'" in out.reason and "NHS number" in out.reason
    assert "9434765919" not in out.reason
    clean = outcomes(src, {"record_id": ids(200), "nhs_number": ["943 476 5919"] * 200}, {"PROCODET": org})
    assert clean["identifier_completeness"].passed


def test_completeness_tells_a_small_groups_bad_luck_from_a_fault():
    def outcome(n_group: int, valid_in_group: int):
        nhs = ["9434765919"] * (500 + valid_in_group) + [None] * (n_group - valid_in_group)
        org = ["RR8"] * 500 + ["RAE"] * n_group
        src = source(nhs_number="nhs", period=None, checks={"completeness": {"nhs_number": 0.3}})
        return outcomes(src, {"record_id": ids(len(nhs)), "nhs_number": nhs}, {"PROCODET": org})["identifier_completeness"]

    assert outcome(21, 1).passed  # 1 of 21 against a 15% floor: p = 0.16
    failed = outcome(300, 14)  # the same share over 300 records cannot be chance
    assert not failed.passed and "organisation 'RAE'" in failed.reason and "p=" in failed.reason


def test_completeness_judges_values_by_the_dbt_rules():
    src = source(date_of_birth="dob", postcode="pc", nhs_number="nhs", period=None,
                 checks={"completeness": {"date_of_birth": 0.9, "postcode": 0.9, "nhs_number": 0.9}})
    out = outcomes(src, {
        "record_id": list("abcd"),
        "date_of_birth": ["1980-01-01", "31/02/1980", None, "1/2/1980"],  # D/M/YYYY is a date to dbt too
        "postcode": ["ls1 4ap", "ZZ99 3VZ", "LS1", None],  # a pseudo-postcode is not a place
        "nhs_number": ["9434765919", "9434765918", "943-476-5919", "1111111111"],
    })["identifier_completeness"]
    assert not out.passed
    assert out.measured == {"record_id": 1.0, "date_of_birth": 0.5, "postcode": 0.25, "nhs_number": 0.5}


def test_missing_month_is_named():
    src = source(period=PERIOD)
    gap = [d for d in months("2022-04-01", 24) if not d.startswith("2023-01")]
    out = outcomes(src, {"record_id": ids(len(gap))}, {"EPIEND": gap})["no_missing_months"]
    assert not out.passed and "2023-01" in out.reason
    full = months("2022-04-01", 24)
    assert outcomes(src, {"record_id": ids(len(full))}, {"EPIEND": full})["no_missing_months"].passed
    sparse = [d for d in months("2022-04-01", 24, per_month=3) if not d.startswith("2023-01")]
    out = outcomes(src, {"record_id": ids(len(sparse))}, {"EPIEND": sparse})["no_missing_months"]
    assert out.passed and "too few records a month" in out.summary


def test_records_outside_the_coverage_period_fail():
    dates = months("2022-04-01", 3) + ["2026-01-01", "not a date"]
    out = outcomes(source(), {"record_id": ids(len(dates))}, {"EPIEND": dates})["within_coverage_period"]
    assert not out.passed and "1 after" in out.reason and out.details["undated"] == 1


def test_financial_year_uses_april_to_march():
    dates = ["2023-03-31", "2023-04-01", "2024-12-01"]
    out = outcomes(source(), {"record_id": ids(3)}, {"EPIEND": dates, "FYEAR": ["2223", "2223", "2425"]})
    assert not out["filed_in_right_financial_year"].passed and "1 of 3" in out["filed_in_right_financial_year"].reason
    right = outcomes(source(), {"record_id": ids(3)}, {"EPIEND": dates, "FYEAR": ["2223", "2324", " 2425 "]})
    assert right["filed_in_right_financial_year"].passed


def test_no_period_declared_skips_gracefully():
    out = outcomes(source(period=None), {"record_id": ids(2)}, {"EPIEND": ["2023-01-01", "2023-01-02"]})
    for name in ("within_coverage_period", "no_missing_months"):
        assert out[name].passed and out[name].details["note"] == "not applicable: no period declared"


def test_all_one_sex_fails_and_a_mix_passes():
    src = source(sex="sex", period=None)
    out = outcomes(src, {"record_id": ids(105), "sex": ["1"] * 100 + ["9"] * 5})["sex_not_all_one_value"]
    assert not out.passed and "100.0% of 100" in out.reason and "male" in out.reason
    assert outcomes(src, {"record_id": ids(100), "sex": ["M", "Female"] * 50})["sex_not_all_one_value"].passed


def test_dates_of_birth_and_death():
    src = source(date_of_birth="dob", period=None)
    out = outcomes(src, {"record_id": ids(3), "date_of_birth": ["1950-01-01", "2030-01-01", "19900505"]},
                   {"date_of_death": ["1949-01-01", None, None]})
    assert not out["no_future_dates_of_birth"].passed and out["no_future_dates_of_birth"].measured == 1
    assert not out["no_death_before_birth"].passed and out["no_death_before_birth"].measured == 1


def test_activity_after_death_counts_only_records_of_the_dead():
    master = source("pds", master=True, period=None, nhs_number="nhs")
    dead = ("9434765919", "2023-06-15")
    tables = ({"record_id": ["m1", "m2"], "nhs_number": [dead[0], "4010232137"]},
              {"date_of_death": [dead[1], None]})
    src = source(nhs_number="nhs")
    activity = {"record_id": ids(3), "nhs_number": ["943 476 5919", "9434765919", "4010232137"]}
    out = outcomes(src, activity, {"EPIEND": ["2023-01-01", "2023-09-01", "2024-01-01"]},
                   master=master, master_tables=tables)["no_activity_after_death"]
    assert not out.passed and out.measured == 1 and "EPIEND" in out.reason
    assert out.details["records_of_deceased"] == 2
    before = outcomes(src, activity, {"EPIEND": ["2023-01-01", "2023-05-01", "2024-01-01"]},
                      master=master, master_tables=tables)["no_activity_after_death"]
    assert before.passed


def test_duplicate_record_ids_fail():
    assert not outcomes(source(period=None), {"record_id": ["a", "b", "b"]})["record_id_unique"].passed
    assert outcomes(source(period=None), {"record_id": ["a", "b"]})["record_id_unique"].passed


def test_trend_break_is_flagged_but_noise_is_not():
    steady = months("2022-04-01", 18, per_month=60)
    assert outcomes(source(), {"record_id": ids(len(steady))}, {"EPIEND": steady})["monthly_volume_trend"].passed
    broken = steady + months("2023-10-01", 1, per_month=200)
    out = outcomes(source(), {"record_id": ids(len(broken))}, {"EPIEND": broken})["monthly_volume_trend"]
    assert not out.passed and "2023-10" in out.reason
    sparse = months("2022-04-01", 18, per_month=5)
    out = outcomes(source(), {"record_id": ids(len(sparse))}, {"EPIEND": sparse})["monthly_volume_trend"]
    assert "not applicable" in out.summary


@pytest.fixture
def bare_source() -> Source:
    return Source(name="opt_out", title="t", role="contributing", primacy=9, load="append",
                  identifiers={"record_id": "event_id", "nhs_number": "nhs_number"}, link=False)


def test_registry_entry_with_few_fields_and_no_payload_passes_every_check(bare_source):
    out = outcomes(bare_source, {"record_id": ["1", "2"], "nhs_number": ["9434765919", "9434765919"]},
                   log_rows=[2])
    assert list(out) == [c.name for c in CATALOGUE]
    assert all(o.passed for o in out.values()), [o.reason for o in out.values() if not o.passed]
    notes = {o.name: o.details.get("note", "") for o in out.values()}
    assert notes["no_missing_months"] == "not applicable: no period declared"
    assert notes["sex_not_all_one_value"].startswith("not applicable")


def test_unloaded_source_is_not_applicable(bare_source):
    assert all(o.passed and "not been loaded" in o.summary for o in evaluate(None, bare_source, TODAY))


def test_registry_overrides_thresholds(bare_source):
    tuned = Source(**{**bare_source.__dict__, "checks": {"volume_tolerance": 0.1,
                                                        "completeness": {"nhs_number": 0.95}}})
    t = thresholds(tuned)
    assert t["volume_tolerance"] == 0.1 and t["completeness"]["nhs_number"] == 0.95
    assert thresholds(bare_source)["volume_tolerance"] == 0.2
