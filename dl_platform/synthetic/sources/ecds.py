"""ECDS A&E attendances: about one per person, a few frequent attenders with many."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import (
    DeliveryFile,
    exposure,
    financial_year,
    iso,
    record_ids,
    sex_code,
    uniform_dates,
    zero_pad,
)
from dl_platform.synthetic.geography import Geography
from dl_platform.synthetic.sources.hes import _trust

SEX = {"M": "1", "F": "2", "U": "9"}
D = np.timedelta64(1, "D")
START = np.datetime64("2019-04-01")
# SNOMED CT concept ids (arrival mode, chief complaint, diagnosis) seen in ECDS.
ARRIVAL_MODE = np.array(
    [
        "1048031000000100",
        "1048041000000109",
        "1048051000000107",
        "1048061000000105",
        "1048071000000103",
    ],
    dtype=object,
)
COMPLAINT = np.array(
    [
        "29857009",
        "21522001",
        "267036007",
        "25064002",
        "386661006",
        "422587007",
        "271807003",
        "55300003",
        "62315008",
        "125605004",
    ],
    dtype=object,
)
DIAGNOSIS = np.array(
    [
        "22298006",
        "195967001",
        "13645005",
        "38341003",
        "44054006",
        "125605004",
        "62315008",
        "68566005",
        "233604007",
        "29857009",
        "21522001",
        "271807003",
        "386661006",
        "267036007",
        "52448006",
    ],
    dtype=object,
)


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """ecds_<YYYY-YY>.csv per financial year of arrival (ISO dates)."""
    lo, hi = exposure(persons, START, cfg.REFERENCE_DATE)
    years = np.maximum((hi - lo) / D, 0) / 365.25
    age = persons["age"].to_numpy()
    age_factor = np.where(age < 5, 1.6, np.where(age >= 75, 2.2, np.where(age < 30, 1.1, 0.8)))
    n = rng.poisson(cfg.ECDS_BASE_RATE * age_factor * years)
    frequent = (rng.random(len(persons)) < cfg.ECDS_FREQUENT_SHARE) & (years > 1)
    n = n + np.where(frequent, rng.integers(5, 16, len(persons)), 0)
    n = np.where(persons["in_pds"].to_numpy(), n, 0)
    pidx = np.repeat(np.arange(len(persons)), n)
    arrival = uniform_dates(rng, lo[pidx], hi[pidx])
    ids = recorded_identifiers(rng, "ecds", persons, pidx, arrival, model, "iso")
    p = persons.iloc[pidx]
    minutes = rng.integers(0, 1440, len(pidx))
    times = zero_pad(minutes // 60, 2) + ":" + zero_pad(minutes % 60, 2)
    trust = _trust(p["region"].to_numpy(), rng.integers(0, 4, len(pidx)))
    ethnic = p["ethnic_category"].to_numpy(dtype=object).copy()
    ethnic[rng.random(len(pidx)) < 0.08] = "Z"
    frame = pd.DataFrame(
        {
            "ec_ident": record_ids(rng, "EC", len(pidx), width=10),
            "nhs_number": ids["nhs_number"],
            "person_birth_date": ids["date_of_birth_text"],
            "person_stated_gender": sex_code(ids["sex"], SEX),
            "postcode": ids["postcode"],
            "arrival_date": iso(arrival),
            "arrival_time": times,
            "arrival_mode": ARRIVAL_MODE[rng.integers(0, len(ARRIVAL_MODE), len(pidx))],
            "chief_complaint": COMPLAINT[rng.integers(0, len(COMPLAINT), len(pidx))],
            "diagnosis_1": DIAGNOSIS[rng.integers(0, len(DIAGNOSIS), len(pidx))],
            "site_code": trust + "01",
            "ethnic_category": ethnic,
        }
    )
    fy = financial_year(arrival)
    truth = pd.DataFrame({"record_id": frame["ec_ident"], "pidx": pidx, "errors": ids["errors"]})
    return [
        DeliveryFile(
            "ecds",
            "landing",
            f"ecds_{y}-{(y + 1) % 100:02d}.csv",
            frame.loc[fy == y],
            truth=truth.loc[fy == y],
        )
        for y in np.unique(fy)
    ]
