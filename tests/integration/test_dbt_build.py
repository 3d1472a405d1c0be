"""The dbt stage through Dagster on a small hand-built warehouse: models, checks, marts, publishing.

Raw tables are written as the raw assets write them (CONTRACTS: raw.<source>__identifiers with
standard field names, raw.<source>__payload with delivery names, all text) and a tiny MPI stands
in for the linkage stage, so every expected flag and count below is known by construction.
"""

import threading
import time

import dagster as dg
import pandas as pd
import pytest

from dl_platform.resources import build_resources, open_warehouse
from dl_platform.standardise.analyst_queries import load_analyst_queries
from dl_platform.standardise.publish import looks_identifying


def nhs_number(stem: str) -> str:
    """A Modulus-11-valid NHS number from a 9-digit stem (test data only; 999 range never issued)."""
    total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    assert check != 10, stem
    return stem + str(check)


NHS = {p: nhs_number(f"99900{i:04d}") for i, p in enumerate(["P1", "P2", "P3", "P4", "P5"], start=1)}
PROVENANCE = {"_delivery_file": "fixture.csv", "_file_sha256": "0" * 64, "_row_number": 1,
              "_loaded_at": pd.Timestamp("2025-04-01")}
POSTCODES = {"P1": "sw14 4hl", "P2": "WC2H3PF", "P3": "HP18 4JJ", "P4": "PE10 4GQ", "P5": "ZZ99 3VZ"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).assign(**PROVENANCE)
    return frame.astype({c: "string" for c in frame.columns if not c.startswith("_")})


def raw_tables() -> dict[str, pd.DataFrame]:
    """Every demo source's raw identifiers and payload tables, as the raw assets would write them."""
    t: dict[str, pd.DataFrame] = {}
    t["pds__identifiers"] = _frame([
        {"record_id": f"pds{i}", "nhs_number": NHS[p], "given_name": g, "family_name": f,
         "date_of_birth": dob, "sex": sex, "postcode": POSTCODES[p], "address": "1 High St"}
        for i, (p, g, f, dob, sex) in enumerate([
            ("P1", "Zoë", "Smith-Jones", "1950-03-01", "2"), ("P2", "Bob", "O'Brien", "1990-07-15", "1"),
            ("P3", "Ann", "Lee", "1975-12-31", "2"), ("P4", "Tom", "Khan", "2001-01-01", "1"),
            ("P5", "Eve", "Ng", "1930-05-05", "9")], start=1)
    ])
    t["pds__payload"] = _frame([
        {"record_id": "pds1", "date_of_death": "", "ethnic_category": "A", "gp_practice_code": "B10001"},
        {"record_id": "pds2", "date_of_death": "", "ethnic_category": "Z", "gp_practice_code": "B10002"},
        {"record_id": "pds3", "date_of_death": "", "ethnic_category": "H", "gp_practice_code": "B10001"},
        {"record_id": "pds4", "date_of_death": "", "ethnic_category": "N", "gp_practice_code": "B10002"},
        {"record_id": "pds5", "date_of_death": "2024-02-10", "ethnic_category": "R", "gp_practice_code": ""},
    ])
    t["gp_registrations__identifiers"] = _frame([
        {"record_id": "reg1", "nhs_number": NHS["P1"], "given_name": "ZOE", "family_name": "SMITH JONES",
         "date_of_birth": "01/03/1950", "sex": "F", "postcode": "SW14 4HL"},
        {"record_id": "reg2", "nhs_number": NHS["P2"], "given_name": "Robert", "family_name": "OBrien",
         "date_of_birth": "31/02/1990", "sex": "M", "postcode": "WC2H 3PF"},
        {"record_id": "reg5", "nhs_number": NHS["P5"], "given_name": "Eve", "family_name": "Ng",
         "date_of_birth": "05/05/1930", "sex": "U", "postcode": "ZZ99 3VZ"},
    ])
    t["gp_registrations__payload"] = _frame([
        {"record_id": "reg1", "practice_code": "B10001", "registration_date": "01/01/2000",
         "deregistration_date": "", "deregistration_reason": ""},
        {"record_id": "reg2", "practice_code": "B10002", "registration_date": "01/01/2010",
         "deregistration_date": "01/06/2020", "deregistration_reason": "moved"},
        {"record_id": "reg5", "practice_code": "B10001", "registration_date": "01/01/1990",
         "deregistration_date": "10/02/2024", "deregistration_reason": "death"},
    ])
    episodes = [  # (EPIKEY, person, FYEAR, EPIEND, diagnoses)
        ("ep1", "P1", "2223", "2022-06-01", ["E119", "I10X"]), ("ep2", "P1", "2324", "2023-05-01", ["E110"]),
        ("ep3", "P2", "2324", "2024-01-10", ["J459"]), ("ep4", "P3", "2122", "2021-09-09", ["C449"]),
        ("ep5", "P3", "2223", "2023-03-31", ["R69X", "C509"]),
    ]
    t["hes_apc__identifiers"] = _frame([
        {"record_id": k, "nhs_number": NHS[p], "date_of_birth": "19500301", "sex": "1", "postcode": POSTCODES[p]}
        for k, p, *_ in episodes
    ])
    t["hes_apc__payload"] = _frame([
        {"record_id": k, "FYEAR": fy, "ADMIDATE": end, "EPISTART": end, "EPIEND": end, "DISDATE": end,
         "EPIORDER": "1", "ADMIMETH": "21" if k != "ep4" else "11", "ETHNOS": "A", "PROCODET": "RXX",
         **{f"DIAG_4_{i:02d}": (diags[i - 1] if i <= len(diags) else "") for i in range(1, 21)},
         **{f"OPERTN_4_{i:02d}": "" for i in range(1, 5)}, "LSOA11": "E01000001"}
        for k, p, fy, end, diags in episodes
    ])
    attendances = [(f"ae{i}", "P4", f"2023-0{4 + i}-01") for i in range(4)] + [("ae9", "P1", "2022-01-05")]
    t["ecds__identifiers"] = _frame([
        {"record_id": k, "nhs_number": NHS[p], "date_of_birth": "2001-01-01", "sex": "1", "postcode": POSTCODES[p]}
        for k, p, _ in attendances
    ])
    t["ecds__payload"] = _frame([
        {"record_id": k, "arrival_date": d, "arrival_time": "10:00", "arrival_mode": "1048031000000100",
         "chief_complaint": "21631000119105", "diagnosis_1": "22298006", "site_code": "RXX01",
         "ethnic_category": "N"}
        for k, p, d in attendances
    ])
    t["asc_cld__identifiers"] = _frame([
        {"record_id": "asc1", "nhs_number": "", "given_name": "Robert", "family_name": "O'Brien",
         "date_of_birth": "15/07/1990", "sex": "Male", "postcode": "WC2H 3PF"}])
    t["asc_cld__payload"] = _frame([
        {"record_id": "asc1", "la_code": "E09000033", "reporting_period_start": "01/04/2023",
         "event_type": "Assessment", "event_start_date": "05/05/2023", "event_end_date": "06/05/2023",
         "primary_support_reason": "Physical Support", "ethnicity": "Z"}])
    t["study_cohort__identifiers"] = _frame([
        {"record_id": "SC0001", "nhs_number": NHS["P3"], "given_name": "Ann", "family_name": "Lee",
         "date_of_birth": "19751231", "sex": "F", "postcode": "HP18 4JJ", "address": "2 Low Rd"}])
    t["study_cohort__payload"] = _frame([
        {"record_id": "SC0001", "consent_basis": "consent", "perm_nhse_linkage": "Y", "perm_gp_data": "Y",
         "perm_hes_data": "N", "enrolment_date": "20200101", "withdrawn": "N"}])
    t["national_opt_out__identifiers"] = _frame([
        {"record_id": "n1", "nhs_number": NHS["P1"]}, {"record_id": "n2", "nhs_number": NHS["P2"]},
        {"record_id": "n3", "nhs_number": NHS["P2"]}])
    t["national_opt_out__payload"] = _frame([
        {"record_id": "n1", "status": "opted_out", "effective_date": "2022-01-01"},
        {"record_id": "n2", "status": "opted_out", "effective_date": "2022-01-01"},
        {"record_id": "n3", "status": "withdrawn", "effective_date": "2023-01-01"}])
    t["type1_opt_out__identifiers"] = _frame([{"record_id": "t1", "nhs_number": NHS["P4"]}])
    t["type1_opt_out__payload"] = _frame([
        {"record_id": "t1", "practice_code": "B10002", "status": "opted_out", "effective_date": "2021-01-01"}])
    return t


def mpi_tables() -> dict[str, pd.DataFrame]:
    """A stand-in MPI: every linked record placed with its person, and one golden record each."""
    links = {"pds": ["pds1", "pds2", "pds3", "pds4", "pds5"], "gp_registrations": ["reg1", "reg2", "reg5"],
             "hes_apc": ["ep1", "ep2", "ep3", "ep4", "ep5"], "ecds": ["ae0", "ae1", "ae2", "ae3", "ae9"],
             "asc_cld": ["asc1"], "study_cohort": ["SC0001"]}
    owner = {"pds1": "P1", "pds2": "P2", "pds3": "P3", "pds4": "P4", "pds5": "P5", "reg1": "P1", "reg2": "P2",
             "reg5": "P5", "ep1": "P1", "ep2": "P1", "ep3": "P2", "ep4": "P3", "ep5": "P3", "ae9": "P1",
             "asc1": "P2", "SC0001": "P3", **{f"ae{i}": "P4" for i in range(4)}}
    record_person = pd.DataFrame([
        {"source": s, "record_id": r, "person_id": f"DLP-{owner[r]}", "link_step": "deterministic",
         "match_probability": 1.0}
        for s, records in links.items() for r in records
    ])
    pds = raw_tables()["pds__identifiers"]
    golden = pd.DataFrame({
        "person_id": [f"DLP-P{i}" for i in range(1, 6)], "nhs_number": list(pds["nhs_number"]),
        "given_name": list(pds["given_name"]), "family_name": list(pds["family_name"]),
        "date_of_birth": pd.to_datetime(pds["date_of_birth"]).dt.date, "sex": ["F", "M", "F", "M", None],
        "postcode": ["SW14 4HL", "WC2H 3PF", "HP18 4JJ", "PE10 4GQ", None], "address": "1 HIGH ST",
    })
    return {"record_person": record_person, "golden_record": golden}


def write_tables(conn, schema: str, tables: dict[str, pd.DataFrame]) -> None:
    conn.execute(f"create schema if not exists {schema}")
    for name, frame in tables.items():
        conn.register("_frame", frame)
        conn.execute(f"create or replace table {schema}.{name} as select * from _frame")
        conn.unregister("_frame")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A tmp DL_DATA_DIR whose warehouse went through the standardise stage's assets in Dagster."""
    data_dir = tmp_path_factory.mktemp("dbt_build") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DL_DATA_DIR", str(data_dir))
        resources = build_resources()
        with open_warehouse() as conn:
            write_tables(conn, "raw", raw_tables())
            write_tables(conn, "mpi", mpi_tables())
        from dl_platform.standardise.defs import defs as standardise_defs

        started = time.monotonic()
        result = dg.materialize(list(standardise_defs.assets), resources=resources, raise_on_error=False)
        yield {"result": result, "data_dir": data_dir, "resources": resources,
               "assets": list(standardise_defs.assets), "seconds": time.monotonic() - started}


def table(sql: str) -> pd.DataFrame:
    with open_warehouse(read_only=True) as conn:
        return conn.execute(sql).df()


def test_build_succeeds_with_checks(built):
    result = built["result"]
    assert result.success
    keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    for expected in ["staging/stg_hes_apc__episodes", "intermediate/int_identifiers_standardised",
                     "marts/dim_person", "marts/person_flags", "marts/published", "reference/ref_ltc_codes"]:
        assert expected in keys
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 20
    failed = [c.check_name for c in checks if not c.passed]
    assert failed == []


def test_identifiers_standardised(built, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(built["data_dir"]))
    ids = table("select * from intermediate.int_identifiers_standardised").set_index(["source", "record_id"])
    assert len(ids) == 5 + 3 + 5 + 5 + 1 + 1 + 3 + 1
    p1 = ids.loc[("pds", "pds1")]
    assert (p1.given_name, p1.family_name, list(p1.family_name_parts)) == ("ZOE", "SMITH JONES", ["SMITH", "JONES"])
    assert p1.postcode == "SW14 4HL" and p1.postcode_sector == "SW14 4" and bool(p1.nhs_number_valid)
    assert str(p1.date_of_birth)[:10] == "1950-03-01" and p1.sex == "F" and bool(p1.is_master)
    reg2 = ids.loc[("gp_registrations", "reg2")]
    assert pd.isna(reg2.date_of_birth) and reg2.date_of_birth_issue == "impossible_date"
    assert reg2.given_name_formal == "ROBERT" or reg2.given_name == "ROBERT"
    assert ids.loc[("pds", "pds2")].given_name_formal == "ROBERT"  # BOB -> ROBERT via ref_nicknames
    pseudo = ids.loc[("pds", "pds5")]
    assert pd.isna(pseudo.postcode) and bool(pseudo.postcode_is_pseudo) and bool(pseudo.postcode_valid)
    assert ids.loc[("asc_cld", "asc1")].sex == "M" and ids.loc[("hes_apc", "ep1")].given_name is None
    assert not bool(ids.loc[("national_opt_out", "n1")].link_enabled)


def test_marts_flags_and_demographics(built, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(built["data_dir"]))
    flags = table("select * from marts.person_flags").set_index("person_id")
    dim = table("select * from marts.dim_person").set_index("person_id")
    assert sorted(dim.index) == [f"DLP-P{i}" for i in range(1, 6)]
    assert flags.loc["DLP-P1", "ltc_diabetes"] and str(flags.loc["DLP-P1", "ltc_diabetes_first_date"])[:10] == "2022-06-01"
    assert flags.loc["DLP-P1", "ltc_hypertension"] and not flags.loc["DLP-P2", "ltc_diabetes"]
    assert flags.loc["DLP-P2", "ltc_asthma"]
    assert flags.loc["DLP-P3", "ltc_cancer"] and str(flags.loc["DLP-P3", "ltc_cancer_first_date"])[:10] == "2023-03-31"
    assert flags["frequent_ae_attender"].to_dict() == {p: p == "DLP-P4" for p in flags.index}
    assert flags["national_opt_out"].to_dict() == {p: p == "DLP-P1" for p in flags.index}  # P2 withdrew
    assert flags["type1_opt_out"].to_dict() == {p: p == "DLP-P4" for p in flags.index}
    assert flags["deregistered"].to_dict() == {p: p in ("DLP-P2", "DLP-P5") for p in flags.index}
    assert flags["deceased"].to_dict() == {p: p == "DLP-P5" for p in flags.index}
    assert dim.loc["DLP-P5", "death_year_month"] == "2024-02" and dim.loc["DLP-P1", "year_of_birth"] == 1950
    assert dim.loc["DLP-P1", "age_band"] == "75-84" and dim.loc["DLP-P4", "age_band"] == "18-24"
    assert dim.loc["DLP-P2", "ethnic_group"] == "White"  # PDS 'Z' not stated -> latest HES code
    assert dim.loc["DLP-P3", "ethnic_group"] == "Asian" and dim.loc["DLP-P1", "region"] == "London"
    assert 1 <= dim.loc["DLP-P1", "imd_decile"] <= 10 and pd.isna(dim.loc["DLP-P5", "imd_decile"])
    assert dim["registration_status"].to_dict()["DLP-P1"] == "registered"
    episodes = table("select * from marts.fct_hospital_episodes").set_index("episode_id")
    assert episodes.loc["ep5", "financial_year"] == "2022/23" and episodes.loc["ep4", "admission_type"] == "elective"


def test_published_marts_hold_no_identifiers(built):
    marts = built["data_dir"] / "marts.duckdb"
    assert marts.exists()
    with open_warehouse(database=marts, read_only=True) as conn:
        columns = conn.execute("select table_name, column_name from information_schema.columns").fetchall()
        tables = {t for t, _ in columns}
        counts = {t: conn.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
        values = {
            (t, c): conn.execute(f'select list(distinct cast("{c}" as varchar)) from {t}').fetchall()[0][0] or []
            for t, c in columns
        }
    assert tables == {"dim_person", "person_flags", "fct_hospital_episodes", "fct_ae_attendances",
                      "fct_social_care_events", "fct_gp_registrations", "fct_study_participation"}
    assert counts["dim_person"] == 5 and counts["fct_hospital_episodes"] == 5
    assert not [c for _, c in columns if looks_identifying(c)]
    identifiers = {*NHS.values(), "SC0001", "1950-03-01", *(p.upper() for p in POSTCODES.values()),
                   "SW14 4HL", "WC2H 3PF", "ZOE", "SMITH JONES", "1 HIGH ST"}
    leaked = [(t, c) for (t, c), vals in values.items() if identifiers & set(vals)]
    assert leaked == []


def test_analyst_queries_run_on_published_marts(built):
    queries = load_analyst_queries()
    assert len(queries) == 3
    with open_warehouse(database=built["data_dir"] / "marts.duckdb", read_only=True) as conn:
        results = {name: conn.execute(sql).df() for name, sql in queries.items()}
    diabetes = results["diabetes_prevalence_by_imd_decile"]
    assert diabetes["persons"].sum() == 4 and diabetes["with_diabetes"].sum() == 1
    assert results["emergency_admissions_by_financial_year_and_age_band"]["emergency_episodes"].sum() == 4
    assert results["frequent_ae_attenders_by_region_and_ethnic_group"]["frequent_attenders"].sum() == 1


def test_marts_readable_while_warehouse_is_written(built, monkeypatch):
    """An analyst's open marts.duckdb never blocks a run, and a run holding the warehouse never blocks the analyst."""
    monkeypatch.setenv("DL_DATA_DIR", str(built["data_dir"]))
    marts = built["data_dir"] / "marts.duckdb"
    published = [a for a in built["assets"] if dg.AssetKey(["marts", "published"]) in a.keys]
    with open_warehouse(database=marts, read_only=True) as analyst:
        before = analyst.execute("select count(*) from dim_person").fetchall()[0][0]
        outcome: dict[str, object] = {}

        def republish() -> None:
            outcome["result"] = dg.materialize(published, resources=built["resources"], raise_on_error=False)

        writer = threading.Thread(target=republish)
        with open_warehouse() as conn:  # a writer holds the warehouse ...
            conn.execute("update marts.dim_person set sex = null where person_id = 'DLP-P5'")
            with open_warehouse(database=marts, read_only=True) as second:  # ... analysts still read
                assert second.execute("select count(*) from person_flags").fetchall()[0][0] == 5
            writer.start()
        writer.join(timeout=60)
        assert outcome["result"].success  # republished while the analyst's connection stayed open
        assert analyst.execute("select count(*) from dim_person").fetchall()[0][0] == before
