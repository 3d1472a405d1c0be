"""The answer key: which person every record belongs to, and who the persons are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic.formats import DeliveryFile
from dl_platform.synthetic.writer import sort_order

PERSON_COLUMNS = [
    "person_key",
    "sex",
    "date_of_birth",
    "ethnic_group",
    "ethnic_category",
    "age_band",
    "imd_decile",
    "region",
    "is_recent_migrant",
    "is_twin",
    "household_id",
    "date_of_death",
    "in_pds",
]


def record_truth(files: list[DeliveryFile], persons: pd.DataFrame) -> pd.DataFrame:
    """(source, record_id, person_key, errors) for every record of every file, sorted.

    Args:
        files: every delivery written (landing and pending).
        persons: the true population.

    Returns:
        The truth table; one row per record. `errors` lists the error kinds that changed
        the record's identifiers ('given_replaced;dob_swap'; '' for none; see
        `error_kinds.py`).
    """
    keys = persons["person_key"].to_numpy()
    parts = [
        pd.DataFrame(
            {
                "source": f.source,
                "record_id": f.truth["record_id"].to_numpy(),
                "person_key": keys[f.truth["pidx"].to_numpy()],
                "errors": f.truth["errors"].to_numpy(dtype=object) if "errors" in f.truth else "",
            }
        )
        for f in files
    ]
    truth = pd.concat(parts, ignore_index=True)
    ordered = []
    for source in sorted(truth["source"].unique()):
        part = truth[truth["source"] == source]
        ordered.append(part.iloc[sort_order(part["record_id"])])
    return pd.concat(ordered, ignore_index=True)


def person_truth(persons: pd.DataFrame) -> pd.DataFrame:
    """One row per true person with the attributes parity and accuracy are measured by."""
    out = persons[PERSON_COLUMNS].copy()
    for col in ("date_of_birth", "date_of_death"):
        out[col] = pd.to_datetime(out[col]).dt.date
    out["imd_decile"] = out["imd_decile"].astype(np.int64)
    for col in ("is_recent_migrant", "is_twin", "in_pds"):
        out[col] = out[col].astype(bool)
    return out
