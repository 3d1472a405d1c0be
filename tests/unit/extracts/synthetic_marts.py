"""A small synthetic warehouse with the marts and mpi tables the extracts read (per CONTRACTS.md).

Only synthetic values; used by the extracts unit and integration tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

REGIONS = [
    "North East",
    "North West",
    "Yorkshire",
    "East Midlands",
    "West Midlands",
    "East",
    "London",
    "South East",
    "South West",
]
ETHNIC = ["White", "White", "White", "Asian", "Black", "Mixed", "Other", "Not stated"]


def persons_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:06d}" for i in range(n)]
    yob = rng.integers(1922, 2012, n)
    yob[:3] = [1918, 1919, 1920]  # a few centenarians: extreme ages to flag
    age = 2025 - yob
    band = [f"{a // 5 * 5}-{a // 5 * 5 + 4}" if a < 90 else "90+" for a in age]
    decile = rng.integers(1, 11, n)
    deceased = rng.random(n) < 0.05
    return pd.DataFrame(
        {
            "person_id": ids,
            "year_of_birth": yob,
            "age_band": band,
            "sex": rng.choice(["M", "F"], n),
            "ethnic_group": rng.choice(ETHNIC, n),
            "imd_decile": decile,
            "imd_quintile": (decile + 1) // 2,
            "region": rng.choice(REGIONS[:4], n),
            "is_deceased": deceased,
            "death_year_month": np.where(deceased, "2023-06", None),
            "registration_status": "registered",
        }
    )


def flags_frame(persons: pd.DataFrame, seed: int, optout_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    n = len(persons)
    diabetes = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "person_id": persons["person_id"],
            "ltc_diabetes": diabetes,
            "ltc_diabetes_first_date": np.where(diabetes, pd.Timestamp("2018-01-01"), pd.NaT),
            "ltc_hypertension": rng.random(n) < 0.25,
            "frequent_ae_attender": rng.random(n) < 0.05,
            "deregistered": False,
            "deceased": persons["is_deceased"],
            "national_opt_out": rng.random(n) < optout_share,
            "type1_opt_out": rng.random(n) < optout_share,
        }
    )


def episodes_frame(persons: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 2)
    who = rng.choice(persons["person_id"], len(persons) * 2)
    end = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 3600, len(who)), unit="D")
    return pd.DataFrame(
        {
            "person_id": who,
            "episode_id": [f"E{i:07d}" for i in range(len(who))],
            "financial_year": "2122",
            "episode_start_date": end - pd.Timedelta(days=2),
            "episode_end_date": end,
            "admission_type": rng.choice(["elective", "emergency"], len(who)),
            "provider_code": rng.choice(["RXX01", "RYY02", "RZZ03"], len(who)),
            "primary_diagnosis_icd10": rng.choice(["E119", "I10X", "J449"], len(who)),
            "link_step": "deterministic",
        }
    )


def gp_frame(persons: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 3)
    return pd.DataFrame(
        {
            "person_id": persons["person_id"],
            "registration_id": [f"R{i}" for i in range(len(persons))],
            "practice_code": rng.choice(["A81001", "B82002", "C83003"], len(persons)),
            "practice_region": "North East",
            "registration_date": pd.Timestamp("2020-05-01"),
            "deregistration_date": pd.NaT,
            "deregistration_reason": None,
            "is_current": True,
        }
    )


def ae_frame(persons: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 5)
    who = rng.choice(persons["person_id"], len(persons))
    return pd.DataFrame(
        {
            "person_id": who,
            "attendance_id": [f"A{i:07d}" for i in range(len(who))],
            "arrival_date": pd.Timestamp("2019-06-01")
            + pd.to_timedelta(rng.integers(0, 2000, len(who)), unit="D"),
            "chief_complaint_snomed": rng.choice(["21522001", "29857009"], len(who)),
            "site_code": rng.choice(["RXX01-A", "RYY02-B"], len(who)),
            "link_step": "deterministic",
        }
    )


def participation_frame(persons: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 4)
    part = persons.sample(frac=0.6, random_state=seed)
    n = len(part)
    return pd.DataFrame(
        {
            "person_id": part["person_id"].to_numpy(),
            "participant_ref": [f"h{i}" for i in range(n)],
            "consent_basis": rng.choice(["consent", "consent", "s251"], n),
            "perm_nhse_linkage": rng.random(n) < 0.9,
            "perm_gp_data": rng.random(n) < 0.7,
            "perm_hes_data": rng.random(n) < 0.8,
            "enrolment_date": dt.date(2010, 1, 1),
            "withdrawn": rng.random(n) < 0.03,
        }
    )


def golden_frame(persons: pd.DataFrame) -> pd.DataFrame:
    n = len(persons)
    return pd.DataFrame(
        {
            "person_id": persons["person_id"],
            "nhs_number": [f"999{i:07d}" for i in range(n)],
            "given_name": "SYNTH",
            "family_name": [f"PERSON{i}" for i in range(n)],
            "date_of_birth": pd.to_datetime(persons["year_of_birth"].astype(str) + "-06-15"),
            "sex": persons["sex"],
            "postcode": "ZZ99 3VZ",
            "address": "1 SYNTHETIC ROAD",
        }
    )


def write_warehouse(conn, n: int = 800, seed: int = 7, optout_share: float = 0.12) -> pd.DataFrame:
    """Create marts.*, mpi.golden_record and raw.delivery_log; returns the person frame."""
    persons = persons_frame(n, seed)
    tables = {
        "marts.dim_person": persons,
        "marts.person_flags": flags_frame(persons, seed, optout_share),
        "marts.fct_hospital_episodes": episodes_frame(persons, seed),
        "marts.fct_gp_registrations": gp_frame(persons, seed),
        "marts.fct_ae_attendances": ae_frame(persons, seed),
        "marts.fct_study_participation": participation_frame(persons, seed),
        "mpi.golden_record": golden_frame(persons),
    }
    for schema in ("marts", "mpi", "raw"):
        conn.execute(f"create schema if not exists {schema}")
    for name, frame in tables.items():
        conn.register("_frame", frame)
        conn.execute(f"create or replace table {name} as select * from _frame")
        conn.unregister("_frame")
    conn.execute(
        "create or replace table raw.delivery_log (source varchar, delivery_file varchar, file_sha256 varchar, "
        "bytes bigint, rows_read bigint, rows_accepted bigint, rows_quarantined bigint, outcome varchar, "
        "message varchar, loaded_at timestamp, run_id varchar)"
    )
    for source in ("national_opt_out", "type1_opt_out"):
        conn.execute(
            "insert into raw.delivery_log values (?, ?, 'x', 1, 1, 1, 0, 'loaded', '', ?, 'r1')",
            [source, f"{source}_2025_01.csv", dt.datetime(2025, 1, 5)],
        )
    return persons


def deliver_optout_delta(conn, share: float = 0.1, seed: int = 99) -> list[str]:
    """A later national opt-out delivery: more persons opt out. Returns their person_ids."""
    ids = [
        r[0]
        for r in conn.execute(
            "select person_id from marts.person_flags where not national_opt_out"
        ).fetchall()
    ]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(ids, int(len(ids) * share), replace=False).tolist())
    conn.execute(
        "update marts.person_flags set national_opt_out = true where list_contains(?, person_id)",
        [chosen],
    )
    conn.execute(
        "insert into raw.delivery_log values ('national_opt_out', 'national_opt_out_2025_02.csv', 'y', 1, 1, "
        "1, 0, 'loaded', '', ?, 'r2')",
        [dt.datetime(2025, 2, 5)],
    )
    return chosen
