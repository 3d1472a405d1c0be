"""HES Admitted Patient Care: episodes in spells, ICD-10 diagnoses, Parquet of strings.

Each person has long-term conditions drawn by age; their episodes carry those codes as
secondary diagnoses (sometimes primary), so the dbt condition flags have real signal.
Files are per financial year of EPIEND; a later ~1% refresh lands in pending.
"""

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
    sex_code,
    uniform_dates,
    zero_pad,
)
from dl_platform.synthetic.geography import Geography

SEX = {"M": "1", "F": "2", "U": "9"}
D = np.timedelta64(1, "D")
# condition: (prevalence at age 60, log-odds slope per year, ICD-10 codes)
CONDITIONS = {
    "diabetes": (0.10, 0.03, ("E119", "E109", "E149", "E112", "E113", "E139")),
    "hypertension": (0.25, 0.05, ("I10X",)),
    "copd": (0.04, 0.06, ("J449", "J441", "J440")),
    "asthma": (0.10, -0.01, ("J459", "J450", "J451")),
    "chd": (0.05, 0.07, ("I209", "I219", "I251", "I259", "I248")),
    "heart_failure": (0.015, 0.09, ("I500", "I509", "I501")),
    "ckd": (0.04, 0.08, ("N183", "N184", "N189", "N185")),
    "dementia": (0.005, 0.15, ("F019", "F03X", "G309", "F009", "G301")),
    "smi": (0.01, -0.01, ("F209", "F319", "F250", "F29X", "F311", "F200")),
    "cancer": (0.03, 0.05, ("C509", "C61X", "C189", "C349", "C439", "C20X", "C679", "C809")),
}
COMMON = np.array(
    [
        "R074",
        "R104",
        "J189",
        "N390",
        "K359",
        "S720",
        "O800",
        "I480",
        "A099",
        "L031",
        "R55X",
        "M170",
        "H251",
        "K409",
        "T814",
        "S010",
        "K802",
        "R060",
        "Z380",
        "M545",
        "K219",
        "E876",
        "D649",
        "R296",
        "Z501",
        "K590",
    ],
    dtype=object,
)
PROCEDURES = np.array(
    [
        "W371",
        "H011",
        "K401",
        "M452",
        "C751",
        "Q072",
        "X403",
        "A529",
        "T202",
        "W401",
        "H222",
        "U051",
    ],
    dtype=object,
)
ADMIMETH = (
    np.array(["11", "12", "13", "21", "22", "23", "24", "28", "31", "81"]),
    np.array([0.22, 0.08, 0.05, 0.38, 0.08, 0.03, 0.02, 0.04, 0.05, 0.05]),
)
TRUSTS = {
    "North East and Yorkshire": ("RR8", "RAE", "RTD", "RHQ"),
    "North West": ("RM3", "RBN", "RW6", "REM"),
    "Midlands": ("RWE", "RRK", "RJE", "RX1"),
    "East of England": ("RGT", "RM1", "RDE", "RWG"),
    "London": ("RAL", "RJ1", "RYJ", "R1H"),
    "South East": ("RTH", "RHM", "RA2", "RXQ"),
    "South West": ("RA7", "RK9", "REF", "RVJ"),
}


def person_conditions(rng: np.random.Generator, persons: pd.DataFrame) -> np.ndarray:
    """Boolean (persons x conditions) matrix of long-term conditions, by age."""
    age = persons["age"].to_numpy()
    out = np.zeros((len(persons), len(CONDITIONS)), dtype=bool)
    for k, (prev60, slope, _codes) in enumerate(CONDITIONS.values()):
        logit = np.log(prev60 / (1 - prev60)) + slope * (age - 60)
        out[:, k] = (rng.random(len(age)) < 1 / (1 + np.exp(-logit))) & (age >= 2)
    return out


def _episodes(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    pidx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_spells: np.ndarray,
) -> pd.DataFrame:
    spell_p = np.repeat(pidx, n_spells)
    admit = uniform_dates(rng, np.repeat(lo, n_spells), np.repeat(hi, n_spells))
    limit = np.repeat(hi, n_spells)
    n_ep = 1 + (rng.random(len(spell_p)) < cfg.HES_MULTI_EPISODE_SHARE) * rng.integers(
        1, 3, len(spell_p)
    )
    spell = np.repeat(np.arange(len(spell_p)), n_ep)
    order = np.arange(len(spell)) - np.repeat(np.cumsum(n_ep) - n_ep, n_ep) + 1
    los = np.floor(rng.exponential(2.5, len(spell))).astype(np.int64)
    cum = np.cumsum(los)
    before = cum - los - np.repeat((cum - los)[np.cumsum(n_ep) - n_ep], n_ep)
    start = np.minimum(admit[spell] + before * D, limit[spell])
    end = np.minimum(start + los * D, limit[spell])
    last = np.cumsum(n_ep) - 1
    disdate = end[last][spell]
    method_codes, method_p = ADMIMETH
    return pd.DataFrame(
        {
            "pidx": spell_p[spell],
            "ADMIDATE": admit[spell],
            "EPISTART": start,
            "EPIEND": end,
            "DISDATE": disdate,
            "EPIORDER": order,
            "ADMIMETH": rng.choice(method_codes, len(spell_p), p=method_p)[spell],
        }
    )


def _diagnoses(
    rng: np.random.Generator, conditions: np.ndarray, pidx: np.ndarray, age: np.ndarray
) -> np.ndarray:
    n = len(pidx)
    diag = np.full((n, 20), "", dtype=object)
    has = conditions[pidx]
    primary_ltc = (rng.random(n) < 0.3) & has.any(axis=1)
    first = np.argmax(has * rng.random(has.shape), axis=1)
    codes = [np.array(c[2], dtype=object) for c in CONDITIONS.values()]
    for k in range(len(codes)):
        pick = primary_ltc & (first == k)
        diag[pick, 0] = codes[k][rng.integers(0, len(codes[k]), int(pick.sum()))]
    diag[~primary_ltc, 0] = COMMON[rng.integers(0, len(COMMON), int((~primary_ltc).sum()))]
    pos = np.ones(n, dtype=np.int64)
    for k in range(len(codes)):
        put = has[:, k] & ~(primary_ltc & (first == k)) & (rng.random(n) < 0.75) & (pos < 20)
        diag[put, pos[put]] = codes[k][rng.integers(0, len(codes[k]), int(put.sum()))]
        pos[put] += 1
    extra = np.minimum(rng.poisson(age / 25), 20 - pos)
    for j in range(int(extra.max(initial=0))):
        put = extra > j
        diag[put, pos[put]] = COMMON[rng.integers(0, len(COMMON), int(put.sum()))]
        pos[put] += 1
    return diag


def _frame(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    model: ErrorModel,
    geo: Geography,
    ep: pd.DataFrame,
    conditions: np.ndarray,
) -> pd.DataFrame:
    pidx = ep["pidx"].to_numpy()
    p = persons.iloc[pidx]
    ids = recorded_identifiers(
        rng,
        "hes_apc",
        persons,
        pidx,
        ep["ADMIDATE"].to_numpy().astype("datetime64[D]"),
        model,
        "ymd",
    )
    lsoa = pd.Series(ids["postcode"]).map(geo.postcodes.set_index("postcode")["lsoa11"])
    fy = financial_year(ep["EPIEND"].to_numpy())
    diag = _diagnoses(rng, conditions, pidx, p["age"].to_numpy())
    ops = np.full((len(ep), 4), "", dtype=object)
    n_ops = rng.choice(3, len(ep), p=[0.55, 0.3, 0.15])
    for j in range(2):
        put = n_ops > j
        ops[put, j] = PROCEDURES[rng.integers(0, len(PROCEDURES), int(put.sum()))]
    trust_idx = rng.integers(0, 4, len(ep))
    procode = _trust(p["region"].to_numpy(), trust_idx)
    ethnos = p["ethnic_category"].to_numpy(dtype=object).copy()
    ethnos[rng.random(len(ep)) < 0.05] = "Z"
    frame = pd.DataFrame(
        {
            "EPIKEY": ep["EPIKEY"].to_numpy(),
            "NEWNHSNO": ids["nhs_number"],
            "DOB": ids["date_of_birth_text"],
            "SEX": sex_code(ids["sex"], SEX),
            "HOMEADD": ids["postcode"],
            "FYEAR": zero_pad(fy % 100, 2) + zero_pad((fy + 1) % 100, 2),
            **{c: iso(ep[c].to_numpy()) for c in ("ADMIDATE", "EPISTART", "EPIEND", "DISDATE")},
            "EPIORDER": zero_pad(ep["EPIORDER"].to_numpy(), 2),
            "ADMIMETH": ep["ADMIMETH"].to_numpy(),
            "ETHNOS": ethnos,
            "PROCODET": procode,
            **{f"DIAG_4_{j + 1:02d}": diag[:, j] for j in range(20)},
            **{f"OPERTN_4_{j + 1:02d}": ops[:, j] for j in range(4)},
            "LSOA11": lsoa.to_numpy(dtype=object),
        }
    )
    frame["_fy"] = fy
    frame["_errors"] = ids["errors"].to_numpy()
    return frame


def _trust(regions: np.ndarray, idx: np.ndarray) -> np.ndarray:
    names = list(TRUSTS)
    table = np.array([TRUSTS[r] for r in names], dtype=object)
    return table[pd.Series(regions).map({r: i for i, r in enumerate(names)}).to_numpy(), idx]


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """hes_apc_<YYYY-YY>.parquet per financial year, plus a pending late refresh."""
    conditions = person_conditions(rng, persons)
    lo, hi = exposure(persons, cfg.PERIOD_START, cfg.REFERENCE_DATE)
    years = np.maximum((hi - lo) / D, 0) / 365.25
    rate = np.exp(
        cfg.HES_ADMISSION_LOG_RATE[0] + cfg.HES_ADMISSION_LOG_RATE[1] * persons["age"].to_numpy()
    )
    in_pds = persons["in_pds"].to_numpy()
    n_spells = np.where(in_pds, rng.poisson(rate * years), 0)
    pidx = np.arange(len(persons))
    base = _episodes(rng, persons, pidx, lo, hi, n_spells)
    # Late refresh: episodes ending in 2024-25 for ~1% more, incl. the not-in-PDS persons.
    fy_lo = np.maximum(lo, np.datetime64("2024-04-01"))
    alive = hi >= fy_lo
    n_inc = int(len(base) * cfg.HES_INCREMENT_SHARE)
    weights = np.where(alive & in_pds, rate, 0.0)
    extra_p = (
        rng.choice(len(persons), n_inc, p=weights / weights.sum()) if n_inc else np.array([], int)
    )
    new_p = np.flatnonzero(~in_pds & alive)
    inc_p = np.concatenate([extra_p, new_p])
    inc = _episodes(rng, persons, inc_p, fy_lo[inc_p], hi[inc_p], np.ones(len(inc_p), int))
    total = len(base) + len(inc)
    keys = (rng.permutation(total) + 100_000_000_001).astype(str).astype(object)
    base["EPIKEY"], inc["EPIKEY"] = keys[: len(base)], keys[len(base) :]
    files = []
    for stage, ep in (("landing", base), ("pending", inc)):
        frame = _frame(rng, persons, model, geo, ep, conditions)
        truth_all = pd.DataFrame(
            {
                "record_id": frame["EPIKEY"],
                "pidx": ep["pidx"].to_numpy(),
                "errors": frame.pop("_errors"),
            }
        )
        for fy in np.unique(frame["_fy"]):
            mask = (frame["_fy"] == fy).to_numpy()
            suffix = "_refresh1" if stage == "pending" else ""
            name = f"hes_apc_{fy}-{(fy + 1) % 100:02d}{suffix}.parquet"
            files.append(
                DeliveryFile(
                    "hes_apc",
                    stage,
                    name,
                    frame.loc[mask].drop(columns="_fy"),
                    truth=truth_all.loc[mask],
                )
            )
    return files
