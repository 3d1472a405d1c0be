"""Identifiers as a source records them: true values, aged by time, then corrupted.

A record sees a person's identifiers as they were on the record's event date (the previous
postcode before a move, the maiden name before a marriage), then each error kind in
`config.CORRUPTION_RATES[source]` strikes with its base rate times the person's subgroup
factors (`config.SUBGROUP_FACTORS`). All draws are whole-array; only the few struck
strings are edited one by one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.nhs_numbers import mistype, to_text

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


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
    kinds = next(iter(cfg.CORRUPTION_RATES.values())).keys()
    out = {k: np.ones(len(persons)) for k in kinds}
    for group, factors in cfg.SUBGROUP_FACTORS.items():
        for kind, factor in factors.items():
            out[kind] = np.where(member[group], out[kind] * factor, out[kind])
    return out


def _typo(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One keying error per name: substitute, drop, double or swap a letter."""
    ops = rng.integers(0, 4, len(values))
    where = rng.random(len(values))
    letters = _LETTERS[rng.integers(0, 26, len(values))]
    out = []
    for value, op, u, letter in zip(values, ops, where, letters, strict=True):
        if len(value) < 3:
            out.append(value)
            continue
        i = 1 + int(u * (len(value) - 2))  # keep the first letter: indexing usually holds
        if op == 0:
            out.append(value[:i] + letter + value[i + 1 :])
        elif op == 1:
            out.append(value[:i] + value[i + 1 :])
        elif op == 2:
            out.append(value[:i] + value[i] + value[i:])
        else:
            out.append(value[:i] + value[i + 1] + value[i] + value[i + 2 :])
    return np.array(out, dtype=object)


def _split_barrel(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    choice = rng.integers(0, 3, len(values))
    parts = pd.Series(values).str.split("-", n=1, expand=True)
    return np.where(
        choice == 0, parts[0], np.where(choice == 1, parts[1], parts[0] + " " + parts[1])
    )


class _Draws:
    """Bernoulli strikes per error kind for one source's records."""

    def __init__(
        self,
        rng: np.random.Generator,
        source: str,
        pidx: np.ndarray,
        factors: dict[str, np.ndarray],
    ):
        self.rng, self.rates, self.pidx, self.factors = (
            rng,
            cfg.CORRUPTION_RATES[source],
            pidx,
            factors,
        )

    def __call__(self, kind: str) -> np.ndarray:
        u = self.rng.random(len(self.pidx))
        base = self.rates[kind]
        if base <= 0:
            return np.zeros(len(self.pidx), dtype=bool)
        return u < np.minimum(base * self.factors[kind][self.pidx], cfg.MAX_RATE)


def recorded_identifiers(
    rng: np.random.Generator,
    source: str,
    persons: pd.DataFrame,
    pidx: np.ndarray,
    event_date: np.ndarray,
    factors: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The identifiers a source holds for each record.

    Args:
        rng: random state for this source.
        source: key into `config.CORRUPTION_RATES`.
        persons: the true population.
        pidx: row of `persons` each record belongs to.
        event_date: the date the record's identifiers were taken (datetime64[D]).
        factors: output of `subgroup_factors(persons)`.

    Returns:
        Columns nhs_number (text or None), given_name, family_name, date_of_birth
        (datetime64, NaT when missing), sex ('M','F','U'), postcode, address, aligned
        with `pidx`.
    """
    p = persons.iloc[pidx].reset_index(drop=True)
    n = len(p)
    strike = _Draws(rng, source, pidx, factors)
    before_move = p["moved"].to_numpy() & (event_date < p["move_date"].to_numpy())
    postcode = np.where(before_move, p["prev_postcode"], p["postcode"]).astype(object)
    address = np.where(before_move, p["prev_address"], p["address"]).astype(object)
    maiden = p["maiden_name"].notna().to_numpy() & (event_date < p["marriage_date"].to_numpy())
    family = np.where(maiden, p["maiden_name"], p["family_name"]).astype(object)
    given = p["given_name"].to_numpy(dtype=object).copy()

    nhs_int = p["nhs_number"].to_numpy().copy()
    typo = strike("nhs_typo")
    nhs_int[typo] = mistype(rng, nhs_int[typo])
    other = strike("nhs_other_person")
    all_nhs = persons["nhs_number"].to_numpy()
    same_hh = persons["household_id"].to_numpy()
    nxt = np.minimum(pidx + 1, len(persons) - 1)
    prv = np.maximum(pidx - 1, 0)
    sibling = np.where(same_hh[nxt] == same_hh[pidx], nxt, prv)
    usable = other & (same_hh[sibling] == same_hh[pidx]) & (sibling != pidx)
    nhs_int[usable] = all_nhs[sibling[usable]]
    nhs = to_text(nhs_int).astype(object)
    nhs[strike("nhs_missing")] = None

    hit = strike("nickname") & p["nickname"].notna().to_numpy()
    given[hit] = p["nickname"].to_numpy()[hit]
    hit = strike("given_typo")
    given[hit] = _typo(rng, given[hit])
    hit = strike("family_typo")
    family[hit] = _typo(rng, family[hit])
    hit = strike("double_barrel") & pd.Series(family).str.contains("-", regex=False).to_numpy()
    family[hit] = _split_barrel(rng, family[hit])
    swap = strike("name_swap")
    given[swap], family[swap] = family[swap], given[swap].copy()
    given[strike("given_missing")] = None

    dob = p["date_of_birth"].to_numpy().astype("datetime64[D]").copy()
    hit = strike("dob_swap")
    y, m, d = _ymd(dob[hit])
    ok = (d <= 12) & (d != m)
    swapped = _from_ymd(y[ok], d[ok], m[ok])
    idx = np.flatnonzero(hit)[ok]
    dob[idx] = swapped
    dob[strike("dob_missing")] = np.datetime64("NaT")

    sex = p["sex"].to_numpy(dtype=object).copy()
    sex[strike("sex_unknown")] = "U"

    stale = strike("postcode_stale") & p["moved"].to_numpy() & ~before_move
    postcode[stale] = p["prev_postcode"].to_numpy()[stale]
    pseudo = strike("postcode_pseudo")
    postcode[pseudo] = np.array(cfg.PSEUDO_POSTCODES, dtype=object)[rng.integers(0, 2, n)][pseudo]
    postcode[strike("postcode_missing")] = None
    fmt = strike("postcode_format") & pd.notna(postcode)
    lower = rng.random(n) < 0.5
    postcode[fmt & lower] = pd.Series(postcode[fmt & lower], dtype=object).str.lower().to_numpy()
    postcode[fmt & ~lower] = (
        pd.Series(postcode[fmt & ~lower], dtype=object).str.replace(" ", "", regex=False).to_numpy()
    )
    return pd.DataFrame(
        {
            "nhs_number": nhs,
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "sex": sex,
            "postcode": postcode,
            "address": address,
        }
    )


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    return (
        years.astype(int) + 1970,
        (months - years).astype(int) + 1,
        (dates - months).astype(int) + 1,
    )


def _from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    months = (y - 1970) * 12 + (m - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
