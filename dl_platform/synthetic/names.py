"""Name lists and Zipf-like name sampling per naming tradition.

Common names must collide (several "Smith"s with the same first name) so linkage sees
realistic hard negatives; drawing with 1/rank weights from short lists does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

ZIPF_EXPONENT = 0.6
STREETS = (
    "Oak",
    "Station",
    "Church",
    "Park",
    "Victoria",
    "Green",
    "Manor",
    "Mill",
    "Kings",
    "Queens",
    "New",
    "High",
    "School",
    "North",
    "South",
    "West",
    "Chapel",
    "Alexandra",
    "York",
    "Grange",
    "Springfield",
    "Richmond",
    "Windsor",
    "Albert",
    "Highfield",
    "Hawthorn",
    "Willow",
    "Beech",
    "Elm",
    "Cedar",
    "Orchard",
    "Meadow",
    "Brook",
    "Mount",
    "Stanley",
    "Clarence",
    "Nelson",
    "Cromwell",
    "Jubilee",
    "Coronation",
    "Balmoral",
    "Ashfield",
    "Birch",
    "Holly",
    "Rowan",
    "Heather",
    "Primrose",
    "Cherry",
    "Maple",
)
STREET_KINDS = (
    "Road",
    "Street",
    "Avenue",
    "Close",
    "Lane",
    "Drive",
    "Way",
    "Crescent",
    "Gardens",
    "Terrace",
)


@dataclass(frozen=True)
class NameLists:
    """Given names by (pool, sex) and family names by pool, most common first."""

    given: dict[tuple[str, str], np.ndarray]
    family: dict[str, np.ndarray]


def _read(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("dl_platform.synthetic") / "data" / name) as path:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


@lru_cache(maxsize=1)
def load_names() -> NameLists:
    """Read the packaged name lists (order in the file = frequency rank)."""
    given = _read("given_names.csv")
    family = _read("family_names.csv")
    return NameLists(
        given={k: g["given_name"].to_numpy() for k, g in given.groupby(["pool", "sex"])},
        family={k: g["family_name"].to_numpy() for k, g in family.groupby("pool")},
    )


def zipf_choice(rng: np.random.Generator, values: np.ndarray, n: int) -> np.ndarray:
    """Draw `n` values with probability proportional to 1 / rank."""
    weights = 1.0 / np.arange(1, len(values) + 1) ** ZIPF_EXPONENT
    return values[rng.choice(len(values), n, p=weights / weights.sum())]


def draw_given(rng: np.random.Generator, pools: np.ndarray, sexes: np.ndarray) -> np.ndarray:
    """Given names for persons with the given name pool and sex (vectorised per group)."""
    names = load_names()
    out = np.empty(len(pools), dtype=object)
    for (pool, sex), values in names.given.items():
        mask = (pools == pool) & (sexes == sex)
        if mask.any():
            out[mask] = zipf_choice(rng, values, int(mask.sum()))
    return out


def draw_family(rng: np.random.Generator, pools: np.ndarray) -> np.ndarray:
    """Family names for the given name pools."""
    names = load_names()
    out = np.empty(len(pools), dtype=object)
    for pool, values in names.family.items():
        mask = pools == pool
        if mask.any():
            out[mask] = zipf_choice(rng, values, int(mask.sum()))
    return out


def draw_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """First address lines like '12 Oak Road'."""
    numbers = rng.integers(1, 200, n).astype(str)
    streets = zipf_choice(rng, np.array(STREETS, dtype=object), n)
    kinds = np.array(STREET_KINDS, dtype=object)[rng.integers(0, len(STREET_KINDS), n)]
    return numbers.astype(object) + " " + streets + " " + kinds


def nickname_map(nicknames: pd.DataFrame) -> dict[str, list[str]]:
    """Formal name (upper) -> its nicknames, from the dbt nickname seed."""
    return {formal: sorted(group["nickname"]) for formal, group in nicknames.groupby("formal_name")}


def draw_nicknames(
    rng: np.random.Generator, given: pd.Series, nicknames: pd.DataFrame
) -> pd.Series:
    """The nickname each person goes by informally (None when the seed has none).

    Args:
        rng: random state.
        given: given names as recorded in PDS.
        nicknames: the ref_nicknames seed (nickname, formal_name, upper case).

    Returns:
        Title-case nicknames aligned with `given`.
    """
    table = nicknames.sort_values(["formal_name", "nickname"], ignore_index=True)
    first = table.groupby("formal_name").cumcount() == 0
    start = pd.Series(table.index[first], index=table.loc[first, "formal_name"])
    count = table.groupby("formal_name").size()
    upper = given.str.upper()
    offset = start.reindex(upper).to_numpy()
    size = count.reindex(upper).to_numpy()
    has = ~np.isnan(offset)
    pick = np.zeros(len(given), dtype=np.int64)
    pick[has] = (offset[has] + np.floor(rng.random(int(has.sum())) * size[has])).astype(np.int64)
    out = pd.Series(None, index=given.index, dtype=object)
    out[has] = table["nickname"].to_numpy()[pick[has]]
    return out.where(out.isna(), out.str.title())
