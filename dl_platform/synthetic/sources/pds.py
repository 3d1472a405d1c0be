"""PDS, the master person register: one clean row per person, current details.

A profile may give a few persons a second PDS record (`master_duplicate_share`): registered
again years earlier under a second NHS number with slightly different details, as real PDS
holds until the two are merged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import DeliveryFile, iso, record_ids, sex_code, uniform_dates
from dl_platform.synthetic.geography import Geography
from dl_platform.synthetic.nhs_numbers import spare_nhs_numbers, to_text

GENDER = {"M": "1", "F": "2", "U": "9"}


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """Snapshot pds_2025-03-31.csv: every person known to PDS (the dead included)."""
    pidx = np.flatnonzero(persons["in_pds"].to_numpy())
    share = model.profile.master_duplicate_share
    n_dup = max(1, int(round(share * len(pidx)))) if share > 0 else 0
    p = persons.iloc[pidx]
    ids = recorded_identifiers(
        rng, "pds", persons, pidx, np.full(len(pidx), cfg.REFERENCE_DATE), model, "iso"
    )
    ethnic = p["ethnic_category"].to_numpy(dtype=object).copy()
    not_stated = (
        rng.random(len(pidx)) < np.where(p["is_recent_migrant"], 3, 1) * cfg.NOT_STATED_SHARE
    )
    ethnic[not_stated] = "Z"
    practice = p["gp_practice"].to_numpy(dtype=object).copy()
    practice[p["date_of_death"].notna().to_numpy()] = None
    all_ids = record_ids(rng, "PDS", len(pidx) + n_dup)
    frame = _frame(all_ids[: len(pidx)], ids["nhs_number"], ids, iso(p["date_of_death"].to_numpy()),
                   ethnic, practice)
    truth = pd.DataFrame(
        {"record_id": frame["pds_record_id"], "pidx": pidx, "errors": ids["errors"]}
    )
    if n_dup:
        dup_frame, dup_truth = _duplicates(rng, persons, model, pidx, all_ids[len(pidx) :])
        frame = pd.concat([frame, dup_frame], ignore_index=True)
        truth = pd.concat([truth, dup_truth], ignore_index=True)
    return [DeliveryFile("pds", "landing", "pds_2025-03-31.csv", frame, truth=truth)]


def _duplicates(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    model: ErrorModel,
    pidx: np.ndarray,
    record_id: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Second records for a few living persons, with a second valid NHS number."""
    alive = pidx[persons["date_of_death"].isna().to_numpy()[pidx]]
    dup = np.sort(rng.choice(alive, min(len(record_id), len(alive)), replace=False))
    record_id = record_id[: len(dup)]
    when = uniform_dates(
        rng, np.full(len(dup), np.datetime64("2016-01-01")), np.full(len(dup), cfg.REFERENCE_DATE)
    )
    ids = recorded_identifiers(rng, "pds", persons, dup, when, model, "iso", "duplicate")
    second = spare_nhs_numbers(rng, len(dup), persons["nhs_number"].to_numpy())
    p = persons.iloc[dup]
    moved_since = p["moved"].to_numpy() & (when < p["move_date"].to_numpy())
    practice = np.where(moved_since, p["prev_gp_practice"], p["gp_practice"])
    frame = _frame(record_id, to_text(second).astype(object), ids, None,
                   p["ethnic_category"].to_numpy(dtype=object), practice.astype(object))
    return frame, pd.DataFrame({"record_id": record_id, "pidx": dup, "errors": ids["errors"]})


def _frame(record_id: np.ndarray, nhs_number: np.ndarray, ids: pd.DataFrame, date_of_death: object,
           ethnic: np.ndarray, practice: np.ndarray) -> pd.DataFrame:
    """PDS rows in the delivery's columns."""
    return pd.DataFrame(
        {
            "pds_record_id": record_id,
            "nhs_number": nhs_number,
            "given_name": ids["given_name"],
            "family_name": ids["family_name"],
            "date_of_birth": ids["date_of_birth_text"],
            "gender": sex_code(ids["sex"], GENDER),
            "postcode": ids["postcode"],
            "address_line_1": ids["address"],
            "date_of_death": date_of_death,
            "ethnic_category": ethnic,
            "gp_practice_code": practice,
        }
    )
