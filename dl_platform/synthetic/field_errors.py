"""The error kinds applied field by field, in a fixed order (the order fixes random streams).

Kinds of the original generator come in their original order and draw as they always did;
later kinds sit between them and draw only when switched on, so the gentle profile's files
do not change (see `error_kinds.GENTLE_KINDS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic import edits
from dl_platform.synthetic.error_log import ErrorLog, Strikes, differs, put
from dl_platform.synthetic.formats import dmy, iso, ymd
from dl_platform.synthetic.nhs_numbers import mistype, to_text, transpose

RENDER = {"iso": iso, "dmy": dmy, "ymd": ymd}
MULTI_FIELDS = ("given_name", "family_name", "date_of_birth", "postcode")


@dataclass(frozen=True)
class Pools:
    """Other people's values, for the kinds that replace a field with someone else's."""

    given: dict[str, np.ndarray]  # by sex
    family: np.ndarray
    dob: np.ndarray
    postcode: np.ndarray
    address: np.ndarray
    nhs: np.ndarray
    household: np.ndarray

    @classmethod
    def of(cls, persons: pd.DataFrame) -> Pools:
        sex = persons["sex"].to_numpy()
        given = persons["given_name"].to_numpy(dtype=object)
        return cls(
            given={s: given[sex == s] for s in ("F", "M")},
            family=persons["family_name"].to_numpy(dtype=object),
            dob=persons["date_of_birth"].to_numpy().astype("datetime64[D]"),
            postcode=persons["postcode"].to_numpy(dtype=object),
            address=persons["address"].to_numpy(dtype=object),
            nhs=persons["nhs_number"].to_numpy(),
            household=persons["household_id"].to_numpy(),
        )


def nhs_numbers(rng, strike: Strikes, log: ErrorLog, pools: Pools, pidx: np.ndarray) -> np.ndarray:
    """NHS numbers as text: mistyped, transposed, another person's, or blank."""
    nhs_int = pools.nhs[pidx].copy()
    before = nhs_int.copy()
    typo = strike("nhs_typo")
    nhs_int[typo] = mistype(rng, nhs_int[typo])
    log.log("nhs_typo", typo & (nhs_int != before))
    hit = strike("nhs_transposed")
    if hit.any():
        before = nhs_int.copy()
        nhs_int[hit] = transpose(rng, nhs_int[hit])
        log.log("nhs_transposed", hit & (nhs_int != before))
    other = strike("nhs_other_person")
    n_all, same_hh = len(pools.nhs), pools.household
    nxt, prv = np.minimum(pidx + 1, n_all - 1), np.maximum(pidx - 1, 0)
    sibling = np.where(same_hh[nxt] == same_hh[pidx], nxt, prv)
    usable = other & (same_hh[sibling] == same_hh[pidx]) & (sibling != pidx)
    nhs_int[usable] = pools.nhs[sibling[usable]]
    log.log("nhs_other_person", usable)
    hit = strike("nhs_random_person")
    if hit.any() and n_all > 1:
        shift = rng.integers(1, n_all, int(hit.sum()))
        nhs_int[hit] = pools.nhs[(pidx[hit] + shift) % n_all]
        log.log("nhs_random_person", hit)
    nhs = to_text(nhs_int).astype(object)
    hit = strike("nhs_missing")
    nhs[hit] = None
    log.log("nhs_missing", hit)
    return nhs


def multi_typo_fields(rng, strike: Strikes, delivered: tuple[str, ...], n: int) -> dict:
    """Which of its delivered name, date and postcode fields each typo_multi record mistypes."""
    hit = strike("typo_multi")
    chosen = {f: np.zeros(n, dtype=bool) for f in MULTI_FIELDS}
    fields = [f for f in MULTI_FIELDS if f in delivered]
    rows = np.flatnonzero(hit)
    if len(rows) == 0 or len(fields) < 2:
        return chosen
    how_many = np.minimum(np.where(rng.random(len(rows)) < 0.3, 3, 2), len(fields))
    rank = np.argsort(rng.random((len(rows), len(fields))), axis=1).argsort(axis=1)
    for j, f in enumerate(fields):
        chosen[f][rows[rank[:, j] < how_many]] = True
    return chosen


def _edit(log: ErrorLog, kind: str, hit: np.ndarray, values: np.ndarray, fn) -> np.ndarray:
    """Apply `fn` to the struck values (legacy kinds call `fn` even when none struck)."""
    new = put(values, hit, fn(values[hit]))
    log.changed(kind, hit, values, new)
    return new


def _replace(rng, log: ErrorLog, kind: str, hit: np.ndarray, values: np.ndarray, pool):
    if not hit.any():
        return values
    return _edit(log, kind, hit, values, lambda v: edits.replace_from(rng, v, pool))


def names(rng, strike: Strikes, log: ErrorLog, pools: Pools, p: pd.DataFrame, event_date, multi):
    """Given and family names as recorded (maiden name before a marriage)."""
    maiden = p["maiden_name"].notna().to_numpy() & (event_date < p["marriage_date"].to_numpy())
    family = np.where(maiden, p["maiden_name"], p["family_name"]).astype(object)
    given = p["given_name"].to_numpy(dtype=object).copy()
    hit, sex = strike("given_replaced"), p["sex"].to_numpy()
    for s, pool in pools.given.items():
        given = _replace(rng, log, "given_replaced", hit & (sex == s), given, pool)
    family = _replace(rng, log, "family_replaced", strike("family_replaced"), family, pools.family)
    hit = strike("nickname") & p["nickname"].notna().to_numpy()
    given = _edit(log, "nickname", hit, given, lambda v: p["nickname"].to_numpy()[hit])
    given = _edit(log, "given_typo", strike("given_typo"), given, lambda v: edits.typo(rng, v))
    family = _edit(log, "family_typo", strike("family_typo"), family, lambda v: edits.typo(rng, v))
    hit = strike("double_barrel") & pd.Series(family).str.contains("-", regex=False).to_numpy()
    family = _edit(log, "double_barrel", hit, family, lambda v: edits.split_barrel(rng, v))
    hit = strike("given_initial")
    if hit.any():
        given = _edit(log, "given_initial", hit, given, lambda v: edits.initials(rng, v))
    for field in ("given_name", "family_name"):
        if multi[field].any():
            old = given if field == "given_name" else family
            new = _edit(log, "typo_multi", multi[field], old, lambda v: edits.typo(rng, v))
            given, family = (new, family) if field == "given_name" else (given, new)
    swap = strike("name_swap")
    log.log("name_swap", swap)
    given[swap], family[swap] = family[swap], given[swap].copy()
    hit = strike("given_missing")
    given = _edit(log, "given_missing", hit, given, lambda v: None)
    hit = strike("family_missing")
    if hit.any():
        family = _edit(log, "family_missing", hit, family, lambda v: None)
    hit = strike("name_format")
    if hit.any():
        g, f = edits.name_formats(rng, given[hit], family[hit])
        changed = differs(given[hit], g) | differs(family[hit], f)
        log.log("name_format", put(np.zeros(len(given), bool), hit, changed))
        given, family = put(given, hit, g), put(family, hit, f)
    return given, family


def dates(rng, strike: Strikes, log: ErrorLog, pools: Pools, p, event_date, multi, style: str):
    """(date of birth or NaT when blank or impossible, the text as delivered in `style`)."""
    dob = p["date_of_birth"].to_numpy().astype("datetime64[D]").copy()
    n = len(dob)
    hit = strike("dob_wrong")
    if hit.any():
        new = edits.wrong_dates(rng, dob[hit], pools.dob, event_date[hit])
        log.log("dob_wrong", put(np.zeros(n, bool), hit, new != dob[hit]))
        dob[hit] = new
    hit = strike("dob_swap")
    y, m, d = _ymd(dob[hit])
    ok = (d <= 12) & (d != m)
    idx = np.flatnonzero(hit)[ok]
    dob[idx] = _from_ymd(y[ok], d[ok], m[ok])
    log.log("dob_swap", put(np.zeros(n, bool), idx, True))
    for kind, rows in (("dob_digit", strike("dob_digit")), ("typo_multi", multi["date_of_birth"])):
        if rows.any():
            new = edits.digit_dates(rng, dob[rows], event_date[rows])
            log.log(kind, put(np.zeros(n, bool), rows, new != dob[rows]))
            dob[rows] = new
    digits = np.full(n, None, dtype=object)
    hit = strike("dob_impossible")
    if hit.any():
        digits[hit] = edits.impossible_dates(rng, dob[hit])
        log.log("dob_impossible", hit)
    hit = strike("dob_missing")
    dob[hit], digits[hit] = np.datetime64("NaT"), None
    log.log("dob_missing", hit)
    styles = np.full(n, None, dtype=object)
    hit = strike("dob_format") & (~np.isnat(dob) | pd.notna(digits))
    if hit.any():
        others = np.array([s for s in edits.DATE_STYLES if s != style], dtype=object)
        styles[hit] = others[rng.integers(0, len(others), int(hit.sum()))]
        log.log("dob_format", hit)
    text = RENDER[style](dob)
    special = np.flatnonzero(pd.notna(digits) | pd.notna(styles))
    if len(special):
        shown = np.where(pd.notna(digits[special]), digits[special], ymd(dob[special]))
        chosen = np.where(pd.notna(styles[special]), styles[special], style)
        text[special] = edits.render_digits(shown, chosen)
    dob[pd.notna(digits)] = np.datetime64("NaT")
    return dob, text


def postcodes(rng, strike: Strikes, log: ErrorLog, pools: Pools, p, before_move, multi):
    """Postcodes as recorded: the previous one before a move, then the postcode kinds."""
    n = len(p)
    prev = p["prev_postcode"].to_numpy(dtype=object)
    postcode = np.where(before_move, prev, p["postcode"]).astype(object)
    stale = strike("postcode_stale") & p["moved"].to_numpy() & ~before_move
    postcode = _edit(log, "postcode_stale", stale, postcode, lambda v: prev[stale])
    hit = strike("postcode_replaced")
    postcode = _replace(rng, log, "postcode_replaced", hit, postcode, pools.postcode)
    if multi["postcode"].any():
        postcode = _edit(
            log, "typo_multi", multi["postcode"], postcode, lambda v: edits.postcode_typos(rng, v)
        )
    pseudo = strike("postcode_pseudo")
    choice = np.array(cfg.PSEUDO_POSTCODES, dtype=object)[rng.integers(0, 2, n)]
    postcode = _edit(log, "postcode_pseudo", pseudo, postcode, lambda v: choice[pseudo])
    hit = strike("postcode_missing")
    postcode = _edit(log, "postcode_missing", hit, postcode, lambda v: None)
    fmt = strike("postcode_format") & pd.notna(postcode)
    lower = rng.random(n) < 0.5
    text = pd.Series(postcode, dtype=object)
    new = postcode.copy()
    new[fmt & lower] = text[fmt & lower].str.lower().to_numpy()
    new[fmt & ~lower] = text[fmt & ~lower].str.replace(" ", "", regex=False).to_numpy()
    log.changed("postcode_format", fmt, postcode, new)
    return new


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
