"""Synthetic geography seeds: postcode -> LSOA -> MSOA -> LAD -> region, IMD and GP practices.

The dbt project and the generator must agree on every postcode, so the lookup is built once
by this module (`python -m dl_platform.synthetic.geography --write-seeds`), committed as dbt
seeds, and the generator reads those files back instead of rebuilding them. Postcodes are
synthetic but BS7666-shaped and use real area letters per region, so they look familiar.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from dl_platform.settings import DBT_PROJECT_DIR

SEED_RANDOM_STATE = 20250331
N_LSOA = 1200
LSOA_PER_MSOA = 5
POSTCODES_PER_LSOA = 17
N_PRACTICES = 300
IMD_LSOAS = 32844
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # BS7666: not C, I, K, M, O, V

# region: (share of population, postcode areas, practice-code letter, IMD tilt)
REGIONS: dict[str, tuple[float, tuple[str, ...], str, float]] = {
    "North East and Yorkshire": (
        0.145,
        ("NE", "SR", "DH", "TS", "DL", "LS", "BD", "HX", "HD", "WF", "S", "DN", "HU", "YO", "HG"),
        "B",
        0.3,
    ),
    "North West": (
        0.13,
        ("M", "L", "WA", "WN", "BL", "OL", "SK", "PR", "BB", "LA", "CA", "CH", "CW", "FY"),
        "P",
        0.35,
    ),
    "Midlands": (
        0.19,
        ("B", "CV", "WV", "DY", "WS", "ST", "DE", "NG", "LE", "LN", "NN", "WR", "HR", "TF", "SY"),
        "M",
        0.15,
    ),
    "East of England": (
        0.115,
        ("CB", "IP", "NR", "CO", "CM", "SS", "PE", "LU", "SG", "AL"),
        "D",
        -0.2,
    ),
    "London": (
        0.155,
        ("E", "EC", "N", "NW", "SE", "SW", "W", "WC", "EN", "HA", "UB", "IG", "RM", "BR", "CR"),
        "F",
        0.2,
    ),
    "South East": (
        0.165,
        ("BN", "RH", "GU", "RG", "OX", "SO", "PO", "ME", "CT", "TN", "HP", "SL", "MK"),
        "K",
        -0.35,
    ),
    "South West": (
        0.10,
        ("BS", "BA", "EX", "PL", "TR", "TQ", "TA", "GL", "SN", "BH", "DT", "SP"),
        "L",
        -0.15,
    ),
}
_CENTRAL = {
    "EC": [f"EC{d}{s}" for d in (1, 2, 3, 4) for s in "AMNRVY"],
    "WC": [f"WC{d}{s}" for d in (1, 2) for s in "ABEHNRVX"],
    "SW": ["SW1A", "SW1E", "SW1H", "SW1P", "SW1V", "SW1W", "SW1X", "SW1Y"],
    "W": ["W1B", "W1C", "W1D", "W1F", "W1G", "W1H", "W1J", "W1K", "W1T", "W1U"],
}
_PLACES = (
    "Oak",
    "Park",
    "Beech",
    "Elm",
    "Hill",
    "Church",
    "Castle",
    "Riverside",
    "Abbey",
    "Bridge",
    "Meadow",
    "Priory",
    "Valley",
    "Grove",
    "Station",
    "Market",
    "Victoria",
    "Albion",
    "Queens",
    "Kings",
    "Willow",
    "Ash",
    "Cedar",
    "Manor",
    "Mill",
    "Green",
)
_PRACTICE_KINDS = (
    "Medical Centre",
    "Surgery",
    "Health Centre",
    "Medical Practice",
    "Family Practice",
    "Group Practice",
)


@dataclass(frozen=True)
class Geography:
    """The seeds as the generator uses them."""

    postcodes: pd.DataFrame  # postcode, lsoa11, msoa11, lad_code, region, imd_decile
    practices: pd.DataFrame  # practice_code, practice_name, postcode, region, lad_code
    nicknames: pd.DataFrame  # nickname, formal_name


def seeds_dir() -> Path:
    """Where dbt expects its seeds; the generator reads the same files."""
    return DBT_PROJECT_DIR / "seeds"


def _outwards(area: str) -> list[str]:
    top = 40 if len(area) == 1 else 25
    return _CENTRAL.get(area, []) + [f"{area}{d}" for d in range(2 if area in _CENTRAL else 1, top)]


def _allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """Largest-remainder allocation of `total` over `shares` (sums exactly to total)."""
    raw = shares / shares.sum() * total
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def build_seeds(random_state: int = SEED_RANDOM_STATE) -> dict[str, pd.DataFrame]:
    """Build the reference seed tables deterministically.

    Args:
        random_state: seed for the geography (fixed: the committed seeds use the default).

    Returns:
        Frames keyed by seed name (ref_postcode_lsoa, ref_lsoa_imd, ref_gp_practices).
    """
    rng = np.random.default_rng(random_state)
    region_names = list(REGIONS)
    per_region = _allocate(N_LSOA, np.array([REGIONS[r][0] for r in region_names]))
    lsoa_codes = np.sort(rng.choice(np.arange(1, 33769), N_LSOA, replace=False))
    rows, lad_rows = [], []
    lad_no = {"E06": 0, "E07": 0, "E08": 0, "E09": 0}
    for region, n_lsoa in zip(region_names, per_region, strict=True):
        areas = REGIONS[region][1]
        for area, n_area in zip(areas, _allocate(int(n_lsoa), np.ones(len(areas))), strict=True):
            prefix = (
                "E09"
                if region == "London"
                else ("E08" if len(area) == 1 else ("E06", "E07")[len(lad_rows) % 2])
            )
            lad_no[prefix] += 1
            lad_code = f"{prefix}{lad_no[prefix]:06d}"
            lad_rows.append((lad_code, region, rng.normal(0, 0.5)))
            outs = rng.permutation(_outwards(area))
            for i in range(int(n_area)):
                outward, sector = outs[(i // 10) % len(outs)], i % 10
                inward = rng.choice(400, POSTCODES_PER_LSOA, replace=False)
                for code in inward:
                    letters = INWARD_LETTERS[code // 20] + INWARD_LETTERS[code % 20]
                    rows.append(
                        (
                            f"{outward} {sector}{letters}",
                            len(rows) // POSTCODES_PER_LSOA,
                            lad_code,
                            region,
                        )
                    )
    pc = pd.DataFrame(rows, columns=["postcode", "lsoa_idx", "lad_code", "region"])
    pc["lsoa11"] = [f"E01{lsoa_codes[i]:06d}" for i in pc["lsoa_idx"]]
    pc["msoa11"] = [f"E02{1 + i // LSOA_PER_MSOA:06d}" for i in pc["lsoa_idx"]]
    postcode_lsoa = pc[["postcode", "lsoa11", "msoa11", "lad_code", "region"]]
    assert postcode_lsoa["postcode"].is_unique

    lads = pd.DataFrame(lad_rows, columns=["lad_code", "region", "lad_effect"])
    lsoa = pc.drop_duplicates("lsoa11")[["lsoa11", "lad_code", "region"]].merge(lads)
    tilt = lsoa["region"].map({r: v[3] for r, v in REGIONS.items()})
    latent = tilt + lsoa["lad_effect"] + rng.normal(0, 1, len(lsoa))
    order = np.argsort(np.argsort(-latent.to_numpy(), kind="stable"), kind="stable")
    step = IMD_LSOAS // len(lsoa)
    ranks = order * IMD_LSOAS // len(lsoa) + 1 + rng.integers(0, step, len(lsoa))
    imd = pd.DataFrame(
        {
            "lsoa11": lsoa["lsoa11"],
            "imd_rank": ranks,
            "imd_decile": (ranks - 1) * 10 // IMD_LSOAS + 1,
        }
    )
    practices = _practices(rng, pc, lads)
    return {
        "ref_postcode_lsoa": postcode_lsoa.sort_values("postcode", ignore_index=True),
        "ref_lsoa_imd": imd.sort_values("lsoa11", ignore_index=True),
        "ref_gp_practices": practices,
    }


def _practices(rng: np.random.Generator, pc: pd.DataFrame, lads: pd.DataFrame) -> pd.DataFrame:
    sizes = pc.groupby("lad_code", sort=False).size().reindex(lads["lad_code"])
    counts = np.maximum(_allocate(N_PRACTICES, sizes.to_numpy(float)), 1)
    rows, per_region = [], {}
    for lad_code, region, n in zip(lads["lad_code"], lads["region"], counts, strict=True):
        block = 10 + per_region.get(region, 0)
        per_region[region] = per_region.get(region, 0) + 1
        candidates = pc.loc[pc["lad_code"] == lad_code, "postcode"].to_numpy()
        for seq in range(1, int(n) + 1):
            name = f"{rng.choice(_PLACES)} {rng.choice(_PRACTICE_KINDS)}"
            rows.append(
                (f"{REGIONS[region][2]}{block:02d}{seq:03d}", name, rng.choice(candidates), region)
            )
    return pd.DataFrame(rows, columns=["practice_code", "practice_name", "postcode", "region"])


def write_seeds(folder: Path | None = None) -> list[Path]:
    """Write the reference seeds (and the nickname seed from package data) as CSV.

    Args:
        folder: target folder; defaults to the dbt project's seeds folder.

    Returns:
        The files written.
    """
    folder = folder or seeds_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in build_seeds().items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    nick = folder / "ref_nicknames.csv"
    with resources.as_file(
        resources.files("dl_platform.synthetic") / "data" / "nicknames.csv"
    ) as src:
        shutil.copyfile(src, nick)
    return written + [nick]


def load_geography(folder: Path | None = None) -> Geography:
    """Read the committed seeds: the generator draws every place and nickname from them.

    Args:
        folder: seeds folder; defaults to the dbt project's seeds folder.

    Returns:
        The geography with IMD decile joined onto each postcode.
    """
    folder = folder or seeds_dir()
    read = lambda name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    postcodes = read("ref_postcode_lsoa").merge(read("ref_lsoa_imd"), on="lsoa11", how="left")
    postcodes["imd_decile"] = postcodes["imd_decile"].astype(int)
    practices = read("ref_gp_practices").merge(
        postcodes[["postcode", "lad_code"]], on="postcode", how="left"
    )
    return Geography(postcodes=postcodes, practices=practices, nicknames=read("ref_nicknames"))


def main(argv: list[str] | None = None) -> None:
    """`python -m dl_platform.synthetic.geography --write-seeds [--folder DIR]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-seeds", action="store_true", required=True)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args(argv)
    for path in write_seeds(args.folder):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
