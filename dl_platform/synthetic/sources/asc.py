"""Adult Social Care client-level data: quarterly event files, NHS number often missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import (
    DeliveryFile,
    dmy,
    exposure,
    record_ids,
    sex_code,
    uniform_dates,
)
from dl_platform.synthetic.geography import Geography

GENDER = {"M": "Male", "F": "Female", "U": "Unknown"}
D = np.timedelta64(1, "D")
START = np.datetime64("2023-04-01")
PENDING_QUARTER = "2025Q1"
REASONS = np.array(
    [
        "Physical Support: Personal Care Support",
        "Physical Support: Access and Mobility Only",
        "Support with Memory and Cognition",
        "Learning Disability Support",
        "Mental Health Support",
        "Social Support: Substance Misuse Support",
        "Sensory Support: Support for Visual Impairment",
    ],
    dtype=object,
)
EVENT_TYPES = np.array(["Request", "Assessment", "Service", "Review"], dtype=object)


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """asc_cld_<YYYY>Q<n>.csv per calendar quarter of event start; the last one pending."""
    lo, hi = exposure(persons, START, cfg.REFERENCE_DATE, min_age=18)
    age = persons["age"].to_numpy()
    weight = 1.0 + 4.0 * (age >= 65) + 6.0 * (age >= 80)
    eligible = (hi > lo) & persons["in_pds"].to_numpy()
    p_client = cfg.ASC_ADULT_SHARE * weight / weight[eligible].mean()
    client = eligible & (rng.random(len(persons)) < np.minimum(p_client, 0.9))
    cidx = np.flatnonzero(client)
    n_events = 2 + rng.poisson(2, len(cidx))
    first = uniform_dates(rng, lo[cidx], hi[cidx] - 30 * D)
    pidx = np.repeat(cidx, n_events)
    step = np.arange(len(pidx)) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    gaps = rng.integers(7, 90, len(pidx))
    offset = np.cumsum(gaps) - np.repeat(
        (np.cumsum(gaps))[np.cumsum(n_events) - n_events], n_events
    )
    start = np.repeat(first, n_events) + offset * D
    keep = start <= hi[pidx]
    pidx, step, start = pidx[keep], step[keep], start[keep]
    etype = np.where(
        step < 2, EVENT_TYPES[np.minimum(step, 1)], EVENT_TYPES[2 + rng.integers(0, 2, len(step))]
    )
    end = start + rng.integers(0, 60, len(pidx)) * D
    end = np.where(
        (etype == "Service") & (rng.random(len(pidx)) < 0.4),
        np.datetime64("NaT"),
        np.minimum(end, hi[pidx]),
    )
    ids = recorded_identifiers(rng, "asc_cld", persons, pidx, start, model, "dmy")
    lad = (
        pd.Series(ids["postcode"]).str.upper().map(geo.postcodes.set_index("postcode")["lad_code"])
    )
    home_lad = persons["postcode"].iloc[pidx].map(geo.postcodes.set_index("postcode")["lad_code"])
    months = start.astype("datetime64[M]")
    q_start = months - ((months.astype(int) % 12) % 3).astype("timedelta64[M]")
    year = q_start.astype("datetime64[Y]").astype(int) + 1970
    quarter = (q_start.astype(int) % 12) // 3 + 1
    label = np.char.add(np.char.add(year.astype(str), "Q"), quarter.astype(str))
    frame = pd.DataFrame(
        {
            "event_id": record_ids(rng, "ASC", len(pidx)),
            "nhs_number": ids["nhs_number"],
            "first_name": ids["given_name"],
            "last_name": ids["family_name"],
            "date_of_birth": ids["date_of_birth_text"],
            "gender": sex_code(ids["sex"], GENDER),
            "postcode": ids["postcode"],
            "la_code": lad.fillna(pd.Series(home_lad.to_numpy())).to_numpy(dtype=object),
            "reporting_period_start": dmy(q_start.astype("datetime64[D]")),
            "event_type": etype,
            "event_start_date": dmy(start),
            "event_end_date": dmy(end),
            "primary_support_reason": REASONS[rng.integers(0, len(REASONS), len(pidx))],
            "ethnicity": persons["ethnic_category"].to_numpy()[pidx],
        }
    )
    truth = pd.DataFrame({"record_id": frame["event_id"], "pidx": pidx, "errors": ids["errors"]})
    return [
        DeliveryFile(
            "asc_cld",
            "pending" if q == PENDING_QUARTER else "landing",
            f"asc_cld_{q}.csv",
            frame.loc[label == q],
            truth=truth.loc[label == q],
        )
        for q in np.unique(label)
    ]
