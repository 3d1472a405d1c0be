"""Identifiers as a source records them: true values, aged by time, then corrupted.

A record sees a person's identifiers as they were on the record's event date (the previous
postcode before a move, the maiden name before a marriage), then each error kind
(`error_kinds.py`) strikes with the profile's base rate for the source times the person's
subgroup factors (`config.SUBGROUP_FACTORS`). Every kind that changed a record is logged
for truth.parquet's `errors`. All draws are whole-array; only the few struck values are
edited one by one (`edits.py`, `field_errors.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic import edits, field_errors
from dl_platform.synthetic.error_kinds import NAMES
from dl_platform.synthetic.error_log import ErrorLog, Strikes

if TYPE_CHECKING:
    from dl_platform.synthetic.profiles import Profile


def subgroup_factors(persons: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per person and error kind, the product of the factors of every subgroup they are in.

    Args:
        persons: the true population.

    Returns:
        kind -> float array aligned with `persons` (1.0 where no factor applies).
    """
    member = {
        f"ethnic_{g}": (persons["ethnic_group"] == g).to_numpy()
        for g in ("Asian", "Black", "Mixed", "Other")
    }
    member["recent_migrant"] = persons["is_recent_migrant"].to_numpy()
    member["young_adult"] = persons["young_adult"].to_numpy()
    member["deprived"] = persons["deprived"].to_numpy()
    out = {k: np.ones(len(persons)) for k in NAMES}
    for group, factors in cfg.SUBGROUP_FACTORS.items():
        for kind, factor in factors.items():
            out[kind] = np.where(member[group], out[kind] * factor, out[kind])
    return out


class ErrorModel:
    """What one run's sources get wrong: the profile's rates, subgroup factors, value pools.

    Args:
        profile: the error profile (`profiles.py`).
        persons: the true population.
        fields: standard identifier fields each source delivers (`sources.FIELDS`).
    """

    def __init__(self, profile: Profile, persons: pd.DataFrame, fields: dict[str, tuple[str, ...]]):
        self.profile = profile
        self.factors = subgroup_factors(persons)
        self.fields = fields
        self.pools = field_errors.Pools.of(persons)


def recorded_identifiers(
    rng: np.random.Generator,
    source: str,
    persons: pd.DataFrame,
    pidx: np.ndarray,
    event_date: np.ndarray,
    model: ErrorModel,
    dob_style: str = "iso",
    variant: str | None = None,
) -> pd.DataFrame:
    """The identifiers a source holds for each record.

    Args:
        rng: random state for this source.
        source: the source (its rates and delivered fields).
        persons: the true population.
        pidx: row of `persons` each record belongs to.
        event_date: the date the record's identifiers were taken (datetime64[D]).
        model: the run's error model.
        dob_style: how the source writes dates ('iso', 'dmy', 'ymd').
        variant: 'duplicate' for a register's extra records (own rates, logged as such).

    Returns:
        Columns nhs_number (text or None), given_name, family_name, date_of_birth
        (datetime64, NaT when blank or impossible), date_of_birth_text (as delivered),
        sex ('M','F','U'), postcode, address and errors, aligned with `pidx`.
    """
    p = persons.iloc[pidx].reset_index(drop=True)
    n = len(p)
    event_date = np.asarray(event_date).astype("datetime64[D]")
    strike = Strikes(rng, model.profile.rates_for(source, variant), pidx, model.factors)
    log = ErrorLog(n)
    if variant == "duplicate":
        log.log("duplicate", np.ones(n, dtype=bool))
    before_move = p["moved"].to_numpy() & (event_date < p["move_date"].to_numpy())
    pools = model.pools
    nhs = field_errors.nhs_numbers(rng, strike, log, pools, pidx)
    multi = field_errors.multi_typo_fields(rng, strike, model.fields[source], n)
    given, family = field_errors.names(rng, strike, log, pools, p, event_date, multi)
    dob, text = field_errors.dates(rng, strike, log, pools, p, event_date, multi, dob_style)
    sex = p["sex"].to_numpy(dtype=object).copy()
    hit = strike("sex_unknown")
    log.log("sex_unknown", hit & (sex != "U"))
    sex[hit] = "U"
    postcode = field_errors.postcodes(rng, strike, log, pools, p, before_move, multi)
    address = np.where(before_move, p["prev_address"], p["address"]).astype(object)
    hit = strike("address_replaced")
    if hit.any():
        new = address.copy()
        new[hit] = edits.replace_from(rng, address[hit], pools.address)
        log.changed("address_replaced", hit, address, new)
        address = new
    return pd.DataFrame(
        {
            "nhs_number": nhs,
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "date_of_birth_text": text,
            "sex": sex,
            "postcode": postcode,
            "address": address,
            "errors": log.text(),
        }
    )
