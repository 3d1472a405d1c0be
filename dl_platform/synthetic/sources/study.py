"""A research study's File 1: participants' identifiers, consent basis and permissions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import DeliveryFile, record_ids, sex_code, uniform_dates, ymd
from dl_platform.synthetic.geography import Geography

SEX = {"M": "M", "F": "F", "U": None}


def _flag(rng: np.random.Generator, n: int, share_yes: float) -> np.ndarray:
    return np.where(rng.random(n) < share_yes, "Y", "N").astype(object)


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """Snapshot study_cohort_2025-03-31.csv (YYYYMMDD dates), ~3% of persons aged 16+."""
    dob = persons["date_of_birth"].to_numpy().astype("datetime64[D]")
    lo = np.maximum(np.datetime64("2016-01-01"), dob + np.timedelta64(16 * 366, "D"))
    death = persons["date_of_death"].to_numpy().astype("datetime64[D]")
    hi = np.where(np.isnat(death), np.datetime64("2024-12-31"), death)
    ok = (hi > lo) & persons["in_pds"].to_numpy()
    pidx = np.flatnonzero(ok & (rng.random(len(persons)) < cfg.STUDY_SHARE))
    enrol = uniform_dates(rng, lo[pidx], hi[pidx])
    ids = recorded_identifiers(
        rng, "study_cohort", persons, pidx, np.full(len(pidx), cfg.REFERENCE_DATE), model, "ymd"
    )
    n = len(pidx)
    address = pd.Series(ids["address"], dtype=object)
    frame = pd.DataFrame(
        {
            "participant_id": record_ids(rng, "ST", n, width=7),
            "nhs_number": ids["nhs_number"],
            "forename": ids["given_name"],
            "surname": ids["family_name"],
            "dob": ids["date_of_birth_text"],
            "sex": sex_code(ids["sex"], SEX),
            "postcode": ids["postcode"],
            "address": address.str.upper().to_numpy(dtype=object),
            "consent_basis": np.where(rng.random(n) < 0.85, "consent", "s251").astype(object),
            "perm_nhse_linkage": _flag(rng, n, 0.95),
            "perm_gp_data": _flag(rng, n, 0.90),
            "perm_hes_data": _flag(rng, n, 0.92),
            "enrolment_date": ymd(enrol),
            "withdrawn": _flag(rng, n, 0.02),
        }
    )
    truth = pd.DataFrame(
        {"record_id": frame["participant_id"], "pidx": pidx, "errors": ids["errors"]}
    )
    return [
        DeliveryFile("study_cohort", "landing", "study_cohort_2025-03-31.csv", frame, truth=truth)
    ]
