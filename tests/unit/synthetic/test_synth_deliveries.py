"""The generated deliveries honour the contract: files, columns, formats, encodings, truth."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from dl_platform.synthetic.config import PSEUDO_POSTCODES
from dl_platform.synthetic.geography import seeds_dir
from dl_platform.synthetic.nhs_numbers import is_valid

HES_DIAG = [f"DIAG_4_{i:02d}" for i in range(1, 21)] + [f"OPERTN_4_{i:02d}" for i in range(1, 5)]
CONTRACT_COLUMNS = {
    "pds": [
        "pds_record_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "gender",
        "postcode",
        "address_line_1",
        "date_of_death",
        "ethnic_category",
        "gp_practice_code",
    ],
    "gp_registrations": [
        "registration_id",
        "nhs_no",
        "forename",
        "surname",
        "dob",
        "sex",
        "postcode",
        "practice_code",
        "registration_date",
        "deregistration_date",
        "deregistration_reason",
    ],
    "hes_apc": [
        "EPIKEY",
        "NEWNHSNO",
        "DOB",
        "SEX",
        "HOMEADD",
        "FYEAR",
        "ADMIDATE",
        "EPISTART",
        "EPIEND",
        "DISDATE",
        "EPIORDER",
        "ADMIMETH",
        "ETHNOS",
        "PROCODET",
        *HES_DIAG,
        "LSOA11",
    ],
    "ecds": [
        "ec_ident",
        "nhs_number",
        "person_birth_date",
        "person_stated_gender",
        "postcode",
        "arrival_date",
        "arrival_time",
        "arrival_mode",
        "chief_complaint",
        "diagnosis_1",
        "site_code",
        "ethnic_category",
    ],
    "asc_cld": [
        "event_id",
        "nhs_number",
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "postcode",
        "la_code",
        "reporting_period_start",
        "event_type",
        "event_start_date",
        "event_end_date",
        "primary_support_reason",
        "ethnicity",
    ],
    "study_cohort": [
        "participant_id",
        "nhs_number",
        "forename",
        "surname",
        "dob",
        "sex",
        "postcode",
        "address",
        "consent_basis",
        "perm_nhse_linkage",
        "perm_gp_data",
        "perm_hes_data",
        "enrolment_date",
        "withdrawn",
    ],
    "national_opt_out": ["event_id", "nhs_number", "status", "effective_date"],
    "type1_opt_out": ["event_id", "nhs_number", "practice_code", "status", "effective_date"],
}
DATE_SHAPES = {  # source: (columns, regex of the delivered format)
    "pds": (["date_of_birth", "date_of_death"], r"^\d{4}-\d{2}-\d{2}$"),
    "gp_registrations": (
        ["dob", "registration_date", "deregistration_date"],
        r"^\d{2}/\d{2}/\d{4}$",
    ),
    "hes_apc": (["DOB"], r"^\d{8}$"),
    "ecds": (["person_birth_date", "arrival_date"], r"^\d{4}-\d{2}-\d{2}$"),
    "asc_cld": (
        ["date_of_birth", "event_start_date", "reporting_period_start"],
        r"^\d{2}/\d{2}/\d{4}$",
    ),
    "study_cohort": (["dob", "enrolment_date"], r"^\d{8}$"),
}


def test_every_registered_source_has_contract_columns(synth_dir, registry):
    assert {s.name for s in registry} == set(CONTRACT_COLUMNS)
    for source in registry:
        files = sorted((synth_dir / "landing" / source.name).glob("*"))
        assert files, source.name
        for path in files + sorted((synth_dir / "pending" / source.name).glob("*")):
            if path.suffix == ".parquet":
                columns = pq.read_schema(path).names
            else:
                columns = path.read_bytes().split(b"\n", 1)[0].decode("ascii").split(",")
            assert columns == CONTRACT_COLUMNS[source.name], path.name
            assert set(source.identifiers.values()) <= set(columns)


def test_file_names_carry_delivery_periods(synth_dir):
    names = {p.relative_to(synth_dir).as_posix() for p in synth_dir.rglob("*.*")}
    assert "landing/pds/pds_2025-03-31.csv" in names
    assert "landing/gp_registrations/gp_registrations_2025-03-31.csv" in names
    assert "landing/hes_apc/hes_apc_2024-25.parquet" in names
    assert "pending/hes_apc/hes_apc_2024-25_refresh1.parquet" in names
    assert "landing/national_opt_out/national_opt_out_2025-03.csv" in names
    assert "pending/national_opt_out/national_opt_out_2025-04.csv" in names
    assert "pending/type1_opt_out/type1_opt_out_2025-04.csv" in names
    assert "pending/asc_cld/asc_cld_2025Q1.csv" in names
    assert len([n for n in names if n.startswith("landing/asc_cld/")]) >= 4


def test_dates_in_each_sources_format(deliveries):
    for source, (columns, pattern) in DATE_SHAPES.items():
        for column in columns:
            values = deliveries[source][column].dropna()
            assert len(values) > 0 and values.str.match(pattern).all(), (source, column)
            parsed = pd.to_datetime(
                values,
                format={"^\\d{8}$": "%Y%m%d", "^\\d{2}/\\d{2}/\\d{4}$": "%d/%m/%Y"}.get(
                    pattern, "%Y-%m-%d"
                ),
                errors="coerce",
            )
            assert parsed.notna().all(), (source, column)  # day/month swaps stay valid dates


def test_gp_file_is_latin1_with_accents(synth_dir):
    data = next((synth_dir / "landing" / "gp_registrations").glob("*.csv")).read_bytes()
    text = data.decode("latin-1")
    assert any(ord(ch) > 127 for ch in text)
    try:
        data.decode("utf-8")
        utf8_ok = True
    except UnicodeDecodeError:
        utf8_ok = False
    assert not utf8_ok  # genuinely latin-1, not UTF-8 that happens to decode


def test_hes_is_parquet_of_strings(synth_dir, deliveries):
    for path in (synth_dir / "landing" / "hes_apc").glob("*.parquet"):
        schema = pq.read_schema(path)
        assert all(str(t) == "string" for t in schema.types), path.name
        assert schema.metadata is None or b"pandas" not in schema.metadata
    hes = deliveries["hes_apc"]
    fy = pd.to_datetime(hes["EPIEND"])
    start = np.where(fy.dt.month >= 4, fy.dt.year, fy.dt.year - 1)
    expected = [f"{y % 100:02d}{(y + 1) % 100:02d}" for y in start]
    assert (hes["FYEAR"] == expected).all()
    assert (hes["EPIEND"] >= "2015-04-01").all() and (hes["EPIEND"] <= "2025-03-31").all()
    assert hes["DIAG_4_01"].str.match(r"^[A-Z]\d{2}[0-9X]$").all()
    ltc = hes[HES_DIAG[:20]].stack()
    for prefix in ("E11", "I10", "J44", "J45", "I50", "N18", "C"):
        assert ltc.str.startswith(prefix).any(), prefix


def test_truth_covers_every_record_exactly_once(deliveries, truth, persons):
    assert not truth.duplicated(["source", "record_id"]).any()
    for source, frame in deliveries.items():
        ids = set(frame[frame.columns[0]])
        assert len(ids) == len(frame), source  # record ids unique across deliveries
        assert ids == set(truth.loc[truth["source"] == source, "record_id"]), source
    assert set(truth["person_key"]) <= set(persons["person_key"])
    assert persons["person_key"].is_unique


def test_pds_nhs_numbers_valid_unique_in_test_range(deliveries):
    nhs = deliveries["pds"]["nhs_number"]
    assert nhs.notna().all() and nhs.is_unique
    assert nhs.str.match(r"^999\d{7}$").all()
    assert is_valid(nhs.astype(np.int64).to_numpy()).all()


def test_postcodes_exist_in_the_dbt_lookup(deliveries):
    lookup = set(pd.read_csv(seeds_dir() / "ref_postcode_lsoa.csv", dtype=str)["postcode"])
    columns = {
        "pds": "postcode",
        "gp_registrations": "postcode",
        "hes_apc": "HOMEADD",
        "ecds": "postcode",
        "asc_cld": "postcode",
        "study_cohort": "postcode",
    }
    for source, column in columns.items():
        raw = deliveries[source][column].dropna().str.upper().str.replace(" ", "", regex=False)
        normalised = raw.str[:-3] + " " + raw.str[-3:]
        real = normalised[~normalised.isin(PSEUDO_POSTCODES)]
        assert len(real) > 0 and real.isin(lookup).all(), source
    lsoa = set(pd.read_csv(seeds_dir() / "ref_postcode_lsoa.csv", dtype=str)["lsoa11"])
    assert deliveries["hes_apc"]["LSOA11"].dropna().isin(lsoa).all()


def test_opt_out_deltas_hold_new_opt_outs_and_withdrawals(deliveries):
    for source in ("national_opt_out", "type1_opt_out"):
        frame = deliveries[source]
        pending = frame[frame["_stage"] == "pending"]
        assert set(pending["status"]) == {"opted_out", "withdrawn"}
        assert (
            pending["effective_date"]
            > frame.loc[frame["_stage"] == "landing", "effective_date"].max()
        ).all()


def test_codes_match_the_contract(deliveries):
    assert set(deliveries["pds"]["gender"]) <= {"0", "1", "2", "9"}
    assert set(deliveries["gp_registrations"]["sex"]) <= {"M", "F", "U"}
    assert set(deliveries["hes_apc"]["SEX"]) <= {"1", "2", "9"}
    assert set(deliveries["asc_cld"]["gender"]) <= {"Male", "Female", "Unknown"}
    assert set(deliveries["study_cohort"]["sex"].dropna()) <= {"M", "F"}
    assert set(deliveries["study_cohort"]["consent_basis"]) == {"consent", "s251"}
    reasons = set(deliveries["gp_registrations"]["deregistration_reason"].dropna())
    assert {"death", "moved"} <= reasons
    assert re.fullmatch(r"[A-Z]\d{5}", deliveries["pds"]["gp_practice_code"].dropna().iloc[0])
