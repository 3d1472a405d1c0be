"""A local authority's own records, with no NHS numbers: a client register and referrals.

The dedupe profile's sources (registry `config/profiles/dedupe.yml`, no master). Every
person has one original client record and 0-9 duplicates (`Profile.duplicate_counts`),
each duplicate landing in the register or, as a referral, in the referrals feed, and
carrying the profile's duplicate errors. Linking them is deduplication.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import (
    DeliveryFile,
    dmy,
    financial_year,
    iso,
    record_ids,
    sex_code,
    uniform_dates,
)
from dl_platform.synthetic.geography import Geography

GENDER = {"M": "Male", "F": "Female", "U": "Unknown"}
SEX = {"M": "M", "F": "F", "U": "U"}
START = np.datetime64("2016-04-01")  # the first financial year the referrals cover
REFERRAL_SHARE = 0.4  # of duplicates: a referral rather than a second client record
REFERRERS = np.array(["GP", "Hospital", "Self", "Family", "Police", "Housing"], dtype=object)
REASONS = np.array(
    [
        "Personal care",
        "Mobility",
        "Memory and cognition",
        "Mental health",
        "Safeguarding",
        "Carer breakdown",
        "Hospital discharge",
    ],
    dtype=object,
)


def _window(persons: pd.DataFrame, pidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dates a person's records can carry: from 2016 (or birth) to the reference date or death."""
    dob = persons["date_of_birth"].to_numpy().astype("datetime64[D]")[pidx]
    death = persons["date_of_death"].to_numpy().astype("datetime64[D]")[pidx]
    lo = np.maximum(START, dob)
    hi = np.where(np.isnat(death), cfg.REFERENCE_DATE, death)
    return lo, np.maximum(hi, lo)


def _lad(geo: Geography, postcode: np.ndarray, home: pd.Series) -> np.ndarray:
    lookup = geo.postcodes.set_index("postcode")["lad_code"]
    recorded = pd.Series(postcode, dtype=object).str.upper().map(lookup)
    return recorded.fillna(pd.Series(home.map(lookup).to_numpy())).to_numpy(dtype=object)


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """client_register_2025-03-31.csv (DD/MM/YYYY) and referrals_<year>.csv (ISO dates)."""
    pidx = np.flatnonzero(persons["in_pds"].to_numpy())
    probs = np.array(model.profile.duplicate_counts or (1.0,))
    k = rng.choice(len(probs), len(pidx), p=probs / probs.sum())
    lo, hi = _window(persons, pidx)
    original_date = uniform_dates(rng, lo, hi)
    dup = np.repeat(np.arange(len(pidx)), k)
    dup_date = uniform_dates(rng, lo[dup], hi[dup])
    referral = rng.random(len(dup)) < REFERRAL_SHARE
    first = recorded_identifiers(rng, "client_register", persons, pidx, original_date, model, "dmy")
    again = recorded_identifiers(
        rng,
        "client_register",
        persons,
        pidx[dup[~referral]],
        dup_date[~referral],
        model,
        "dmy",
        "duplicate",
    )
    register = _register(
        rng,
        persons,
        geo,
        np.concatenate([pidx, pidx[dup[~referral]]]),
        pd.concat([first, again], ignore_index=True),
        np.concatenate([original_date, dup_date[~referral]]),
    )
    ref_p, ref_date = pidx[dup[referral]], dup_date[referral]
    ids = recorded_identifiers(
        rng, "referrals", persons, ref_p, ref_date, model, "iso", "duplicate"
    )
    return [register, *_referrals(rng, ids, ref_p, ref_date)]


def _register(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    geo: Geography,
    pidx: np.ndarray,
    ids: pd.DataFrame,
    registered: np.ndarray,
) -> DeliveryFile:
    frame = pd.DataFrame(
        {
            "client_id": record_ids(rng, "CR", len(pidx)),
            "forename": ids["given_name"],
            "surname": ids["family_name"],
            "date_of_birth": ids["date_of_birth_text"],
            "gender": sex_code(ids["sex"], GENDER),
            "postcode": ids["postcode"],
            "address": ids["address"],
            "registered_date": dmy(registered),
            "la_code": _lad(geo, ids["postcode"].to_numpy(), persons["postcode"].iloc[pidx]),
        }
    )
    truth = pd.DataFrame({"record_id": frame["client_id"], "pidx": pidx, "errors": ids["errors"]})
    return DeliveryFile(
        "client_register", "landing", "client_register_2025-03-31.csv", frame, truth=truth
    )


def _referrals(
    rng: np.random.Generator, ids: pd.DataFrame, pidx: np.ndarray, when: np.ndarray
) -> list[DeliveryFile]:
    n = len(pidx)
    frame = pd.DataFrame(
        {
            "referral_id": record_ids(rng, "RF", n),
            "first_name": ids["given_name"],
            "last_name": ids["family_name"],
            "dob": ids["date_of_birth_text"],
            "sex": sex_code(ids["sex"], SEX),
            "postcode": ids["postcode"],
            "referral_date": iso(when),
            "referrer": REFERRERS[rng.integers(0, len(REFERRERS), n)],
            "reason": REASONS[rng.integers(0, len(REASONS), n)],
        }
    )
    truth = pd.DataFrame({"record_id": frame["referral_id"], "pidx": pidx, "errors": ids["errors"]})
    # One delivery per financial year (April to March), as the registry's annual cadence says:
    # every delivery is a whole year, comparable with the one before it.
    year = financial_year(when)
    return [
        DeliveryFile(
            "referrals",
            "landing",
            f"referrals_{y}-{(y + 1) % 100:02d}.csv",
            frame.loc[year == y],
            truth=truth.loc[year == y],
        )
        for y in np.unique(year)
    ]
