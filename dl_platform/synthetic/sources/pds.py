"""PDS, the master person register: one clean row per person, current details."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import recorded_identifiers
from dl_platform.synthetic.formats import DeliveryFile, iso, record_ids, sex_code
from dl_platform.synthetic.geography import Geography

GENDER = {"M": "1", "F": "2", "U": "9"}


def build(
    rng: np.random.Generator, persons: pd.DataFrame, factors: dict[str, np.ndarray], geo: Geography
) -> list[DeliveryFile]:
    """Snapshot pds_2025-03-31.csv: every person known to PDS (the dead included)."""
    pidx = np.flatnonzero(persons["in_pds"].to_numpy())
    p = persons.iloc[pidx]
    ids = recorded_identifiers(
        rng, "pds", persons, pidx, np.full(len(pidx), cfg.REFERENCE_DATE), factors
    )
    ethnic = p["ethnic_category"].to_numpy(dtype=object).copy()
    not_stated = (
        rng.random(len(pidx)) < np.where(p["is_recent_migrant"], 3, 1) * cfg.NOT_STATED_SHARE
    )
    ethnic[not_stated] = "Z"
    practice = p["gp_practice"].to_numpy(dtype=object).copy()
    practice[p["date_of_death"].notna().to_numpy()] = None
    frame = pd.DataFrame(
        {
            "pds_record_id": record_ids(rng, "PDS", len(pidx)),
            "nhs_number": ids["nhs_number"],
            "given_name": ids["given_name"],
            "family_name": ids["family_name"],
            "date_of_birth": iso(ids["date_of_birth"]),
            "gender": sex_code(ids["sex"], GENDER),
            "postcode": ids["postcode"],
            "address_line_1": ids["address"],
            "date_of_death": iso(p["date_of_death"].to_numpy()),
            "ethnic_category": ethnic,
            "gp_practice_code": practice,
        }
    )
    truth = pd.DataFrame({"record_id": frame["pds_record_id"], "pidx": pidx})
    return [DeliveryFile("pds", "landing", "pds_2025-03-31.csv", frame, truth=truth)]
