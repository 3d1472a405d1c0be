"""Tiny synthetic PDS and HES APC deliveries with switchable faults, for the quality tests.

Each fault is one argument, so a test reads as "a clean delivery passes; the same delivery
with <fault> fails the matching check". Only synthetic values; NHS numbers are generated
to pass Modulus 11 so completeness measures the faults we inject, not generator noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2])
POSTCODES = ["LS1 4AP", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB", "W1A 0AX", "SW1A 2AA"]
PROVIDERS = ["RR8", "RAE", "RCB", "RWA"]


def valid_nhs_numbers(n: int, seed: int = 1) -> list[str]:
    """`n` distinct Modulus-11-valid NHS numbers."""
    rng = np.random.default_rng(seed)
    out: set[str] = set()
    while len(out) < n:
        body = rng.integers(0, 10, size=9)
        check = 11 - int(body @ WEIGHTS) % 11
        check = 0 if check == 11 else check
        if check == 10 or len(set(body)) == 1:
            continue
        out.add("".join(map(str, body)) + str(check))
    return sorted(out)


def pds_frame(n: int = 300, seed: int = 1, dead_every: int = 10) -> pd.DataFrame:
    """A PDS snapshot: every `dead_every`-th person died on 2023-06-15."""
    rng = np.random.default_rng(seed)
    nhs = valid_nhs_numbers(n, seed)
    dob = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 60, n), unit="D")
    return pd.DataFrame({
        "pds_record_id": [f"P{i:06d}" for i in range(n)],
        "nhs_number": nhs,
        "given_name": [f"Given{i}" for i in range(n)],
        "family_name": [f"Family{i % 97}" for i in range(n)],
        "date_of_birth": dob.strftime("%Y-%m-%d"),
        "gender": rng.choice(["1", "2"], n),
        "postcode": [POSTCODES[i % len(POSTCODES)] for i in range(n)],
        "address_line_1": [f"{i} Test Street" for i in range(n)],
        "date_of_death": ["2023-06-15" if i % dead_every == 0 else "" for i in range(n)],
        "ethnic_category": rng.choice(list("ABCDEFGHJ"), n),
        "gp_practice_code": rng.choice(["Y01", "Y02"], n),
    })


def hes_frame(
    pds: pd.DataFrame,
    episodes: int = 1200,
    seed: int = 2,
    *,
    one_sex: bool = False,
    missing_month: str | None = None,
    after_death: bool = False,
    provider_without_nhs: str | None = None,
) -> pd.DataFrame:
    """HES APC episodes 2022-04..2024-03 for PDS people, with the named faults switched on.

    Deceased people's episodes end before their death unless `after_death`, when they end after.
    """
    rng = np.random.default_rng(seed)
    person = rng.integers(0, len(pds), episodes)
    start, days = pd.Timestamp("2022-04-01"), 730
    end = start + pd.to_timedelta(rng.integers(0, days, episodes), unit="D")
    dead = pds["date_of_death"].to_numpy()[person] != ""
    death = pd.Timestamp("2023-06-15")
    shift = pd.to_timedelta(rng.integers(1, 200, episodes), unit="D")
    end = pd.DatetimeIndex(np.where(dead, (death + shift) if after_death else (death - shift), end))
    if missing_month:
        month = pd.Period(missing_month, "M")
        hit = end.to_period("M") == month
        end = pd.DatetimeIndex(np.where(hit, end + pd.Timedelta(days=31), end))
    fy_start = end.year - (end.month < 4)
    frame = pd.DataFrame({
        "EPIKEY": [f"E{i:08d}" for i in range(episodes)],
        "NEWNHSNO": pds["nhs_number"].to_numpy()[person],
        "DOB": pd.to_datetime(pds["date_of_birth"]).dt.strftime("%Y%m%d").to_numpy()[person],
        "SEX": np.full(episodes, "1") if one_sex else pds["gender"].to_numpy()[person],
        "HOMEADD": pds["postcode"].to_numpy()[person],
        "FYEAR": [f"{y % 100:02d}{(y + 1) % 100:02d}" for y in fy_start],
        "EPISTART": (end - pd.Timedelta(days=2)).strftime("%Y-%m-%d"),
        "EPIEND": end.strftime("%Y-%m-%d"),
        "ADMIMETH": rng.choice(["11", "21"], episodes),
        "ETHNOS": pds["ethnic_category"].to_numpy()[person],
        "PROCODET": [PROVIDERS[i % len(PROVIDERS)] for i in range(episodes)],
        "DIAG_4_01": rng.choice(["E119", "I10X", "J449", ""], episodes),
    })
    if provider_without_nhs:
        frame.loc[frame["PROCODET"] == provider_without_nhs, "NEWNHSNO"] = ""
    return frame


def land(data_dir: Path, source: str, name: str, frame: pd.DataFrame) -> Path:
    """Write one delivery into `landing/<source>/` (CSV, or Parquet for names ending .parquet)."""
    folder = data_dir / "landing" / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".parquet"):
        frame.astype("string").to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_generated_nhs_numbers_pass_modulus_11():
    import duckdb

    from dl_platform.quality.source_stats import valid_sql

    conn = duckdb.connect()
    conn.register("numbers", pd.DataFrame({"n": valid_nhs_numbers(50) + ["9434765918"]}))
    valid = [v for (v,) in conn.execute(f"select {valid_sql('nhs_number', 'n', pd.Timestamp.now())} from numbers").fetchall()]
    assert valid == [True] * 50 + [False]
