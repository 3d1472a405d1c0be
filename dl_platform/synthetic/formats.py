"""Delivery-shaped values: date strings in each feed's format, code sets, delivery files.

Real feeds disagree on formats (ISO, DD/MM/YYYY, YYYYMMDD; sex as M/F, 1/2 or words);
these helpers render true values the way each source delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class DeliveryFile:
    """One file to write: where it goes, its rows, and how it is encoded."""

    source: str
    stage: str  # 'landing' | 'pending'
    name: str
    frame: pd.DataFrame
    encoding: str = "utf-8"
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)  # record_id, pidx

    @property
    def is_parquet(self) -> bool:
        return self.name.endswith(".parquet")


def iso(dates: np.ndarray) -> np.ndarray:
    """YYYY-MM-DD strings; None for NaT."""
    dates = np.asarray(dates).astype("datetime64[D]")
    text = np.datetime_as_string(dates, unit="D").astype(object)
    text[np.isnat(dates)] = None
    return text


def dmy(dates: np.ndarray) -> np.ndarray:
    """DD/MM/YYYY strings; None for NaT."""
    text = pd.Series(iso(dates), dtype=object)
    out = (text.str[8:10] + "/" + text.str[5:7] + "/" + text.str[0:4]).to_numpy(dtype=object)
    out[text.isna().to_numpy()] = None
    return out


def ymd(dates: np.ndarray) -> np.ndarray:
    """YYYYMMDD strings; None for NaT."""
    text = pd.Series(iso(dates), dtype=object)
    out = text.str.replace("-", "", regex=False).to_numpy(dtype=object)
    out[text.isna().to_numpy()] = None
    return out


def sex_code(sex: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    """Map true/recorded sex M/F/U onto a source's code set."""
    return pd.Series(sex, dtype=object).map(mapping).to_numpy(dtype=object)


def financial_year(dates: np.ndarray) -> np.ndarray:
    """Start year of the April-March financial year of each date."""
    dates = np.asarray(dates).astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(int) + 1970
    month = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(int) + 1
    return np.where(month >= 4, year, year - 1)


def zero_pad(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded strings (object array; safe for empty input)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return np.array([], dtype=object)
    return np.char.zfill(numbers.astype(str), width).astype(object)


def record_ids(
    rng: np.random.Generator, prefix: str, n: int, width: int = 9, offset: int = 0
) -> np.ndarray:
    """Unique ids in shuffled order, so an id never reveals which person it belongs to."""
    numbers = rng.permutation(n) + 1 + offset
    return (prefix + zero_pad(numbers, width)).astype(object)


def uniform_dates(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """One date uniformly in [start, end] per row (arrays of datetime64[D])."""
    start = np.asarray(start).astype("datetime64[D]")
    span = (np.asarray(end).astype("datetime64[D]") - start).astype(np.int64)
    span = np.maximum(span, 0)
    return start + np.floor(rng.random(len(start)) * (span + 1)).astype(np.int64).astype(
        "timedelta64[D]"
    )


def exposure(
    persons: pd.DataFrame, start: np.datetime64, end: np.datetime64, min_age: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per person the window [from, to] in which they can generate activity.

    Activity begins at the later of the period start, birth (plus `min_age` years) and
    arrival in England, and ends at the earlier of the period end and death: clean data
    never shows activity after death.

    Args:
        persons: the true population.
        start: period start.
        end: period end.
        min_age: minimum age in years for activity.

    Returns:
        (window start, window end) arrays; end < start when there is no exposure.
    """
    dob = persons["date_of_birth"].to_numpy().astype("datetime64[D]")
    lo = np.maximum(start, dob + np.timedelta64(int(min_age * 365.25), "D"))
    arrival = persons["arrival_date"].to_numpy().astype("datetime64[D]")
    lo = np.where(np.isnat(arrival), lo, np.maximum(lo, arrival))
    death = persons["date_of_death"].to_numpy().astype("datetime64[D]")
    hi = np.where(np.isnat(death), end, np.minimum(end, death))
    return lo, hi
