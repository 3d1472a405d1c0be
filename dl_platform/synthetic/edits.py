"""Value edits behind the error kinds: typos, initials, replacements, wrong and impossible dates.

Each function takes only the struck values (a few percent of a source), so the per-value
Python loops here stay cheap at a million persons.
"""

from __future__ import annotations

import calendar
import unicodedata

import numpy as np
import pandas as pd

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_UPPER = "ABDEFGHJLNPQRSTUWXYZ"  # BS7666 inward letters: a typo still looks like a postcode
DATE_STYLES = ("iso", "dmy", "ymd", "iso_time")


def typo(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One keying error per name: substitute, drop, double or swap a letter."""
    ops = rng.integers(0, 4, len(values))
    where = rng.random(len(values))
    letters = _LETTERS[rng.integers(0, 26, len(values))]
    out = []
    for value, op, u, letter in zip(values, ops, where, letters, strict=True):
        if value is None or len(value) < 3:
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


def split_barrel(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """A hyphenated name as its first part, its second part, or with a space for the hyphen."""
    if len(values) == 0:
        return values
    choice = rng.integers(0, 3, len(values))
    parts = pd.Series(values).str.split("-", n=1, expand=True)
    return np.where(
        choice == 0, parts[0], np.where(choice == 1, parts[1], parts[0] + " " + parts[1])
    )


def initials(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """'John' -> 'J' or 'J.' (half each); blanks stay blank."""
    text = pd.Series(values, dtype=object)
    first = text.str[:1].str.upper()
    dot = rng.random(len(values)) < 0.5
    return np.where(dot & first.notna().to_numpy(), first + ".", first).astype(object)


def name_formats(rng: np.random.Generator, given: np.ndarray, family: np.ndarray) -> tuple:
    """The same names written differently: case, stray spaces, apostrophe, hyphen, accents.

    Only differences `standardise_name` (dbt) removes: upper or lower case, leading,
    trailing or doubled spaces, O'Neill as ONeill, a hyphen as a space, accents dropped.

    Returns:
        (given, family) object arrays.
    """
    n = len(given)
    variant = rng.integers(0, 5, n)
    g, f = list(given), list(family)
    for i in range(n):
        g[i], f[i] = _format_pair(g[i], f[i], int(variant[i]))
    return np.array(g, dtype=object), np.array(f, dtype=object)


def _format_pair(given: str | None, family: str | None, variant: int) -> tuple:
    def each(fn):
        return (None if given is None else fn(given)), (None if family is None else fn(family))

    if variant == 1:
        return each(str.lower)
    if variant == 2:
        return (None if given is None else " " + given + " "), (
            None if family is None else family.replace("-", "  ").replace(" ", "  ") + " "
        )
    if variant == 3 and family is not None and ("'" in family or "-" in family):
        return given, family.replace("'", "").replace("-", " ").upper()
    if variant == 4:
        stripped = each(_strip_accents)
        if stripped != (given, family):
            return stripped
    return each(str.upper)


def _strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def postcode_typos(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One character of each postcode keyed wrong (a digit for a digit, a letter for a letter)."""
    where = rng.random(len(values))
    digits = rng.integers(0, 10, len(values))
    letters = rng.integers(0, len(_UPPER), len(values))
    out = []
    for value, u, d, k in zip(values, where, digits, letters, strict=True):
        spots = [i for i, c in enumerate(value or "") if c.isalnum()]
        if not spots:
            out.append(value)
            continue
        i = spots[int(u * len(spots))]
        old = value[i]
        new = str(d) if old.isdigit() else _UPPER[k]
        if new == old:
            new = str((d + 1) % 10) if old.isdigit() else _UPPER[(k + 1) % len(_UPPER)]
        out.append(value[:i] + new + value[i + 1 :])
    return np.array(out, dtype=object)


def replace_from(
    rng: np.random.Generator, current: np.ndarray, pool: np.ndarray, tries: int = 6
) -> np.ndarray:
    """Each value replaced by a random value of `pool` that differs from it (case-insensitive).

    Values for which `tries` draws all matched (a one-value pool) keep their value.
    """
    out = np.array(current, dtype=object)
    todo = np.arange(len(out))
    key = pd.Series(out, dtype=object).str.upper().to_numpy()
    for _ in range(tries):
        if len(todo) == 0 or len(pool) == 0:
            break
        pick = pool[rng.integers(0, len(pool), len(todo))]
        differs = pd.Series(pick, dtype=object).str.upper().to_numpy() != key[todo]
        out[todo[differs]] = pick[differs]
        todo = todo[~differs]
    return out


def wrong_dates(
    rng: np.random.Generator, true: np.ndarray, pool: np.ndarray, latest: np.ndarray
) -> np.ndarray:
    """Another person's date of birth: different from the true one, not after `latest`."""
    out = true.copy()
    todo = np.arange(len(true))
    for _ in range(8):
        if len(todo) == 0:
            break
        pick = pool[rng.integers(0, len(pool), len(todo))]
        ok = (pick != true[todo]) & (pick <= latest[todo])
        out[todo[ok]] = pick[ok]
        todo = todo[~ok]
    out[todo] = true[todo] - np.timedelta64(3653, "D")
    return out


def digit_dates(rng: np.random.Generator, dates: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """One digit of the decade, year, month or day mistyped so the date stays real and changes."""
    text = [str(d) for d in dates.astype("datetime64[D]")]
    out = dates.copy()
    positions = (2, 3, 5, 6, 8, 9)  # in YYYY-MM-DD
    pos = rng.integers(0, len(positions), (len(text), 12))
    dig = rng.integers(0, 10, (len(text), 12))
    for i, value in enumerate(text):
        for j in range(12):
            k = positions[pos[i, j]]
            new = value[:k] + str(dig[i, j]) + value[k + 1 :]
            if new == value:
                continue
            try:
                candidate = np.datetime64(new)
            except ValueError:
                continue
            if candidate <= latest[i]:
                out[i] = candidate
                break
    return out


def impossible_dates(rng: np.random.Generator, dates: np.ndarray) -> np.ndarray:
    """YYYYMMDD digit strings of dates that cannot exist, near the true one.

    Variants, equally often: month 13, month 00, day 00, day 31 of a 30-day month,
    29 February of a non-leap year, day 32-99 (`19450493`).
    """
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(int) + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    variant = rng.integers(0, 6, len(dates))
    short = np.array([4, 6, 9, 11])[rng.integers(0, 4, len(dates))]
    big_day = rng.integers(32, 100, len(dates))
    out = []
    for y, m, d, v, s, b in zip(years, months, days, variant, short, big_day, strict=True):
        if v == 0:
            m = 13
        elif v == 1:
            m = 0
        elif v == 2:
            d = 0
        elif v == 3:
            m, d = s, 31
        elif v == 4:
            m, d = 2, 29
            y = y + 1 if calendar.isleap(y) else y
        else:
            d = b
        out.append(f"{y:04d}{m:02d}{d:02d}")
    return np.array(out, dtype=object)


def render_digits(digits: np.ndarray, styles: np.ndarray) -> np.ndarray:
    """YYYYMMDD digit strings written in each row's style (no calendar check)."""
    s = pd.Series(digits, dtype=object)
    y, m, d = s.str[0:4], s.str[4:6], s.str[6:8]
    iso = y + "-" + m + "-" + d
    out = np.select(
        [styles == "iso", styles == "dmy", styles == "ymd"],
        [iso, d + "/" + m + "/" + y, s],
        iso + " 00:00:00",
    ).astype(object)
    out[s.isna().to_numpy()] = None
    return out
