"""The true population: households, people, homes, deprivation, moves, GP practice, deaths.

Everything is drawn per household or per person with whole-array numpy operations so a
million people take seconds. The result is the truth every source is sampled from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.geography import Geography
from dl_platform.synthetic.names import draw_addresses, draw_family, draw_given, draw_nicknames
from dl_platform.synthetic.nhs_numbers import allocate_nhs_numbers

DAY = np.timedelta64(1, "D")
AGE_BANDS = (
    (0, "0-17"),
    (18, "18-30"),
    (31, "31-44"),
    (45, "45-64"),
    (65, "65-74"),
    (75, "75-84"),
    (85, "85+"),
)
# Relative adult age weights per 5-year band from 18 (England mid-2021, rounded).
_ADULT_BAND_WEIGHTS = np.array(
    [5.5, 6.5, 7.0, 7.0, 6.7, 6.3, 6.4, 6.9, 6.8, 6.0, 5.3, 5.0, 3.8, 2.6, 1.7, 0.8]
) * np.repeat([1.0, 2.0], [9, 7])


@dataclass(frozen=True)
class PopulationShape:
    """How households are built; the defaults are the gentle profile's (config.py)."""

    household_sizes: dict[int, float] = field(
        default_factory=lambda: dict(cfg.HOUSEHOLD_SIZE_SHARES)
    )
    twin_share: float = cfg.TWIN_SHARE
    mover_share: float = cfg.MOVER_SHARE
    namesake_share: float = 0.0  # of first children of the head's sex: named after the head


def _uniform_dates(
    rng: np.random.Generator, start: np.datetime64, end: np.datetime64, n: int
) -> np.ndarray:
    span = int((end - start) / DAY)
    return start + rng.integers(0, span + 1, n) * DAY


def _adult_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    band = rng.choice(
        len(_ADULT_BAND_WEIGHTS), n, p=_ADULT_BAND_WEIGHTS / _ADULT_BAND_WEIGHTS.sum()
    )
    return 18 + band * 5 + rng.integers(0, 5, n)


def _homes(
    rng: np.random.Generator, geo: Geography, groups: np.ndarray, young: np.ndarray
) -> np.ndarray:
    """Postcode row index per household, tilted by ethnic group and young head (deprivation)."""
    pc = geo.postcodes
    cells = pc.groupby(["region", "imd_decile"], sort=True).indices
    keys = list(cells)
    counts = np.array([len(cells[k]) for k in keys], dtype=float)
    out = np.empty(len(groups), dtype=np.int64)
    for group in cfg.DECILE_WEIGHTS:
        for is_young in (False, True):
            mask = (groups == group) & (young == is_young)
            if not mask.any():
                continue
            w = counts * np.array(
                [
                    cfg.DECILE_WEIGHTS[group][d - 1]
                    * (cfg.YOUNG_ADULT_DECILE_TILT[d - 1] if is_young else 1.0)
                    * (cfg.LONDON_WEIGHT[group] if r == "London" else 1.0)
                    for r, d in keys
                ]
            )
            chosen = rng.choice(len(keys), int(mask.sum()), p=w / w.sum())
            within = rng.random(int(mask.sum()))
            out[mask] = _index_in_cells(cells, keys, chosen, within)
    return out


def _index_in_cells(cells: dict, keys: list, chosen: np.ndarray, within: np.ndarray) -> np.ndarray:
    flat = np.concatenate([cells[k] for k in keys])
    starts = np.cumsum([0] + [len(cells[k]) for k in keys])
    sizes = np.diff(starts)
    return flat[starts[chosen] + (within * sizes[chosen]).astype(np.int64)]


def _practice_for(rng: np.random.Generator, geo: Geography, lad_codes: np.ndarray) -> np.ndarray:
    """A GP practice in the same local authority (any practice if the LAD has none)."""
    pr = geo.practices.sort_values(["lad_code", "practice_code"], ignore_index=True)
    first = pr.groupby("lad_code").cumcount() == 0
    start = pd.Series(pr.index[first], index=pr.loc[first, "lad_code"])
    size = pr.groupby("lad_code").size()
    s = start.reindex(lad_codes).to_numpy()
    k = size.reindex(lad_codes).to_numpy()
    missing = np.isnan(s)
    s[missing], k[missing] = 0, len(pr)
    idx = (s + np.floor(rng.random(len(lad_codes)) * k)).astype(np.int64)
    return pr["practice_code"].to_numpy()[idx]


def _households(
    rng: np.random.Generator, n: int, geo: Geography, shape: PopulationShape
) -> dict[str, np.ndarray]:
    """Household-level draws: size, ethnicity, head age, migration, home, move, surname."""
    sizes_k = np.array(list(shape.household_sizes))
    sizes_p = np.array(list(shape.household_sizes.values()))
    mean = float((sizes_k * sizes_p).sum() / sizes_p.sum())
    sizes = rng.choice(sizes_k, int(n / min(2.0, 0.9 * mean)) + 10, p=sizes_p / sizes_p.sum())
    ends = np.cumsum(sizes)
    n_hh = int(np.searchsorted(ends, n) + 1)
    sizes = sizes[:n_hh]
    sizes[-1] -= ends[n_hh - 1] - n
    h: dict[str, np.ndarray] = {"size": sizes, "start": np.cumsum(sizes) - sizes}
    codes = np.array(list(cfg.ETHNIC_CATEGORIES))
    shares = np.array([v[1] for v in cfg.ETHNIC_CATEGORIES.values()])
    h["code"] = rng.choice(codes, n_hh, p=shares / shares.sum())
    h["group"] = (
        pd.Series(h["code"]).map({c: v[0] for c, v in cfg.ETHNIC_CATEGORIES.items()}).to_numpy()
    )
    h["pool"] = (
        pd.Series(h["code"]).map({c: v[2] for c, v in cfg.ETHNIC_CATEGORIES.items()}).to_numpy()
    )
    h["head_age"] = np.where(sizes >= 3, rng.integers(25, 56, n_hh), _adult_ages(rng, n_hh))
    white_p = cfg.RECENT_MIGRANT_SHARE / (1 + (cfg.RECENT_MIGRANT_NON_WHITE_ODDS - 1) * 0.18)
    migrant_p = np.where(
        h["group"] == "White", white_p, white_p * cfg.RECENT_MIGRANT_NON_WHITE_ODDS
    )
    h["migrant"] = rng.random(n_hh) < migrant_p
    h["arrival"] = _uniform_dates(
        rng, np.datetime64("2019-04-01"), np.datetime64("2024-06-30"), n_hh
    )
    young = (h["head_age"] >= 18) & (h["head_age"] <= 30)
    h["home"] = _homes(rng, geo, h["group"], young)
    h["moved"] = rng.random(n_hh) < shape.mover_share
    h["prev_home"] = rng.integers(0, len(geo.postcodes), n_hh)
    h["move_date"] = _uniform_dates(
        rng, np.datetime64("2016-01-01"), np.datetime64("2024-12-31"), n_hh
    )
    h["address"] = draw_addresses(rng, n_hh)
    h["prev_address"] = draw_addresses(rng, n_hh)
    family = draw_family(rng, h["pool"])
    barrel = rng.random(n_hh) < cfg.DOUBLE_BARRELLED_SHARE
    family[barrel] = family[barrel] + "-" + draw_family(rng, h["pool"][barrel])
    h["family"] = family
    return h


def _members(
    rng: np.random.Generator, h: dict[str, np.ndarray], shape: PopulationShape
) -> dict[str, np.ndarray]:
    """Person-level draws: role, age, sex, birth date, twins, names, death."""
    sizes = h["size"]
    n = int(sizes.sum())
    hh = np.repeat(np.arange(len(sizes)), sizes)
    member = np.arange(n) - np.repeat(h["start"], sizes)
    size_p = sizes[hh]
    age = h["head_age"][hh].astype(np.int64)
    partner = member == 1
    child = (member >= 2) | ((member == 1) & (size_p >= 3) & (rng.random(n) < 0.15))
    partner &= ~child
    age[partner] = np.clip(age[partner] + rng.normal(0, 3, int(partner.sum())).round(), 18, 100)
    gap = rng.integers(18, 43, n)
    age[child] = np.clip(age[child] - gap[child], 0, None)
    sex = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    head_sex = sex[np.repeat(h["start"], sizes)]
    opposite = partner & (rng.random(n) < 0.95)
    sex[opposite] = np.where(head_sex[opposite] == "F", "M", "F")

    dob = cfg.REFERENCE_DATE - (age * 365.25).astype(np.int64) * DAY - rng.integers(0, 365, n) * DAY
    twin_hh = (sizes >= 4) & (rng.random(len(sizes)) < shape.twin_share * 4)
    is_twin = twin_hh[hh] & (member >= size_p - 2) & (member >= 2)
    second = twin_hh[hh] & (member == size_p - 1) & (member >= 3)
    dob[second] = dob[np.flatnonzero(second) - 1]
    age[second] = age[np.flatnonzero(second) - 1]

    pool = h["pool"][hh]
    given = draw_given(rng, pool, sex)
    _differ_twins(rng, given, second, pool, sex)
    if shape.namesake_share > 0:
        head = np.repeat(h["start"], sizes)
        namesake = child & (member == 2) & (sex == head_sex)
        namesake &= rng.random(n) < shape.namesake_share
        given[namesake] = given[head[namesake]]
        _differ_twins(rng, given, second, pool, sex)
    family = h["family"][hh].copy()
    own_name = partner & (rng.random(n) > cfg.PARTNER_SHARES_SURNAME)
    family[own_name] = draw_family(rng, pool[own_name])
    changed = partner & ~own_name & (sex == "F") & (rng.random(n) < cfg.MARRIED_NAME_CHANGE_SHARE)
    maiden = np.full(n, None, dtype=object)
    maiden[changed] = draw_family(rng, pool[changed])
    marriage = _uniform_dates(rng, np.datetime64("2016-01-01"), np.datetime64("2024-06-30"), n)

    hazard = np.exp(cfg.DEATH_LOG_HAZARD[0] + cfg.DEATH_LOG_HAZARD[1] * age)
    years = (cfg.REFERENCE_DATE - cfg.DEATH_WINDOW_START) / DAY / 365.25
    dies = rng.random(n) < 1 - np.exp(-hazard * years)
    death = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    death[dies] = _uniform_dates(rng, cfg.DEATH_WINDOW_START, cfg.REFERENCE_DATE, int(dies.sum()))
    death = np.where(death < dob, np.datetime64("NaT"), death)
    return {
        "hh": hh,
        "member": member,
        "household_size": size_p,
        "sex": sex,
        "date_of_birth": dob,
        "age": age,
        "name_pool": pool,
        "given_name": given,
        "family_name": family,
        "maiden_name": maiden,
        "marriage_date": marriage,
        "is_twin": is_twin,
        "date_of_death": death,
    }


def _differ_twins(
    rng: np.random.Generator,
    given: np.ndarray,
    second: np.ndarray,
    pool: np.ndarray,
    sex: np.ndarray,
) -> None:
    """Twins need different given names: redraw the second twin's while it equals the first's."""
    for _ in range(10):
        clash = second & (given == np.roll(given, 1))
        if not clash.any():
            break
        given[clash] = draw_given(rng, pool[clash], sex[clash])


def build_population(
    rng: np.random.Generator, n: int, geo: Geography, shape: PopulationShape | None = None
) -> pd.DataFrame:
    """Draw `n` people in households.

    Args:
        rng: random state.
        n: number of persons.
        geo: the seeds (postcodes, IMD, practices, nicknames).
        shape: household sizes, twins, movers, namesakes (default: the gentle profile's).

    Returns:
        One row per person with true identifiers and attributes; `attrs` records how many
        NHS numbers fell outside the 999 test range.
    """
    shape = shape or PopulationShape()
    h = _households(rng, n, geo, shape)
    p = _members(rng, h, shape)
    hh = p.pop("hh")
    nhs, outside = allocate_nhs_numbers(rng, n)
    pc = geo.postcodes
    home_p, prev_p, moved = h["home"][hh], h["prev_home"][hh], h["moved"][hh]
    lad = pc["lad_code"].to_numpy()
    persons = pd.DataFrame(
        {
            "person_key": np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
            "household_id": np.char.add("H", np.char.zfill((hh + 1).astype(str), 7)),
            **p,
            "ethnic_category": h["code"][hh],
            "ethnic_group": h["group"][hh],
            "nhs_number": nhs,
            "postcode": pc["postcode"].to_numpy()[home_p],
            "address": h["address"][hh],
            "lsoa11": pc["lsoa11"].to_numpy()[home_p],
            "region": pc["region"].to_numpy()[home_p],
            "imd_decile": pc["imd_decile"].to_numpy()[home_p],
            "moved": moved,
            "move_date": np.where(moved, h["move_date"][hh], np.datetime64("NaT")),
            "prev_postcode": np.where(moved, pc["postcode"].to_numpy()[prev_p], None),
            "prev_address": np.where(moved, h["prev_address"][hh], None),
            "is_recent_migrant": h["migrant"][hh],
            "arrival_date": np.where(h["migrant"][hh], h["arrival"][hh], np.datetime64("NaT")),
        }
    )
    persons["nickname"] = draw_nicknames(rng, persons["given_name"], geo.nicknames)
    practice = _practice_for(rng, geo, lad[home_p])
    prev_practice = _practice_for(rng, geo, lad[prev_p])
    unregistered = rng.random(n) < cfg.UNREGISTERED_SHARE
    persons["gp_practice"] = np.where(unregistered, None, practice)
    persons["prev_gp_practice"] = np.where(moved, prev_practice, None)
    age = persons["age"].to_numpy()
    persons["young_adult"] = (age >= 18) & (age <= 30)
    persons["deprived"] = persons["imd_decile"] <= 2
    persons["age_band"] = pd.cut(
        age, [b for b, _ in AGE_BANDS] + [200], right=False, labels=[lab for _, lab in AGE_BANDS]
    ).astype(str)
    persons.attrs["nhs_outside_test_range"] = outside
    return persons
