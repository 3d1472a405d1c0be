"""GP registrations snapshot: current and previous registrations, latin-1 encoded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel, recorded_identifiers
from dl_platform.synthetic.formats import DeliveryFile, dmy, record_ids, sex_code, uniform_dates
from dl_platform.synthetic.geography import Geography

SEX = {"M": "M", "F": "F", "U": "U"}
D = np.timedelta64(1, "D")


def _current(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    n = len(p)
    dob = p["date_of_birth"].to_numpy().astype("datetime64[D]")
    move = p["move_date"].to_numpy().astype("datetime64[D]")
    arrival = p["arrival_date"].to_numpy().astype("datetime64[D]")
    death = p["date_of_death"].to_numpy().astype("datetime64[D]")
    start = np.maximum(dob, np.datetime64("1990-01-01"))
    reg = uniform_dates(rng, start, np.full(n, np.datetime64("2024-12-31")))
    reg = np.where(np.isnat(move), reg, move + rng.integers(7, 120, n) * D)
    reg = np.where(np.isnat(arrival), reg, arrival + rng.integers(7, 180, n) * D)
    reg = np.maximum(np.minimum(reg, cfg.REFERENCE_DATE), dob)
    dereg = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    reason = np.full(n, None, dtype=object)
    dead = ~np.isnat(death)
    dereg[dead] = np.minimum(
        death[dead] + rng.integers(1, 30, int(dead.sum())) * D, cfg.REFERENCE_DATE
    )
    reason[dead] = "death"
    left = ~dead & (rng.random(n) < 0.012)
    dereg[left] = uniform_dates(
        rng,
        np.maximum(reg[left], np.datetime64("2020-01-01")),
        np.full(int(left.sum()), cfg.REFERENCE_DATE),
    )
    reason[left] = np.where(rng.random(int(left.sum())) < 0.6, "embarkation", "other")
    reg = np.minimum(reg, np.where(np.isnat(dereg), reg, dereg))
    return pd.DataFrame(
        {
            "practice_code": p["gp_practice"].to_numpy(),
            "reg": reg,
            "dereg": dereg,
            "reason": reason,
            "event": np.full(n, cfg.REFERENCE_DATE),
        }
    )


def _previous(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    n = len(p)
    move = p["move_date"].to_numpy().astype("datetime64[D]")
    dob = p["date_of_birth"].to_numpy().astype("datetime64[D]")
    reg = uniform_dates(rng, np.maximum(dob, np.datetime64("1995-01-01")), move - 30 * D)
    dereg = move + rng.integers(0, 60, n) * D
    return pd.DataFrame(
        {
            "practice_code": p["prev_gp_practice"].to_numpy(),
            "reg": reg,
            "dereg": dereg,
            "reason": np.full(n, "moved", dtype=object),
            "event": reg,
        }
    )


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """Snapshot gp_registrations_2025-03-31.csv (latin-1, DD/MM/YYYY)."""
    in_pds = persons["in_pds"].to_numpy()
    cur_idx = np.flatnonzero(in_pds & persons["gp_practice"].notna().to_numpy())
    dob = persons["date_of_birth"].to_numpy().astype("datetime64[D]")
    move = persons["move_date"].to_numpy().astype("datetime64[D]")
    prev_ok = in_pds & persons["prev_gp_practice"].notna().to_numpy() & (move - dob > 400 * D)
    prev_ok &= (
        persons["arrival_date"].isna().to_numpy()
        | (persons["arrival_date"] < persons["move_date"]).to_numpy()
    )
    prev_idx = np.flatnonzero(prev_ok)
    regs = pd.concat(
        [_current(rng, persons.iloc[cur_idx]), _previous(rng, persons.iloc[prev_idx])],
        ignore_index=True,
    )
    pidx = np.concatenate([cur_idx, prev_idx])
    ids = recorded_identifiers(
        rng,
        "gp_registrations",
        persons,
        pidx,
        regs["event"].to_numpy().astype("datetime64[D]"),
        model,
        "dmy",
    )
    frame = pd.DataFrame(
        {
            "registration_id": record_ids(rng, "GPR", len(pidx)),
            "nhs_no": ids["nhs_number"],
            "forename": ids["given_name"],
            "surname": ids["family_name"],
            "dob": ids["date_of_birth_text"],
            "sex": sex_code(ids["sex"], SEX),
            "postcode": ids["postcode"],
            "practice_code": regs["practice_code"],
            "registration_date": dmy(regs["reg"].to_numpy()),
            "deregistration_date": dmy(regs["dereg"].to_numpy()),
            "deregistration_reason": regs["reason"],
        }
    )
    truth = pd.DataFrame(
        {"record_id": frame["registration_id"], "pidx": pidx, "errors": ids["errors"]}
    )
    return [
        DeliveryFile(
            "gp_registrations",
            "landing",
            "gp_registrations_2025-03-31.csv",
            frame,
            encoding="latin-1",
            truth=truth,
        )
    ]
