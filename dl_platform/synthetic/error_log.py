"""Strikes (which records an error kind hits) and the log of kinds that changed each record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.error_kinds import BY_NAME, GENTLE_KINDS, NAMES

_BIT = {name: np.int64(1) << np.int64(i) for i, name in enumerate(NAMES)}
# Bits an overwriting kind hides: the earlier kinds on exactly its field(s).
_HIDES = {
    k.name: np.int64(sum(int(_BIT[o.name]) for o in BY_NAME.values() if o.fields == k.fields))
    for k in BY_NAME.values()
}


class Strikes:
    """Bernoulli strikes per error kind for one batch of a source's records."""

    def __init__(
        self,
        rng: np.random.Generator,
        rates: dict[str, float],
        pidx: np.ndarray,
        factors: dict[str, np.ndarray],
    ):
        self.rng, self.rates, self.pidx, self.factors = rng, rates, pidx, factors

    def __call__(self, kind: str) -> np.ndarray:
        """Records hit by `kind`: base rate x the person's subgroup factors, capped."""
        base = self.rates.get(kind, 0.0)
        if base <= 0 and kind not in GENTLE_KINDS:
            return np.zeros(len(self.pidx), dtype=bool)
        u = self.rng.random(len(self.pidx))
        if base <= 0:
            return np.zeros(len(self.pidx), dtype=bool)
        return u < np.minimum(base * self.factors[kind][self.pidx], cfg.MAX_RATE)


class ErrorLog:
    """Which kinds changed each record, one bit per kind."""

    def __init__(self, n: int):
        self.bits = np.zeros(n, dtype=np.int64)

    def log(self, kind: str, mask: np.ndarray) -> None:
        """Log `kind` where `mask`; an overwriting kind first hides earlier kinds on its field."""
        if BY_NAME[kind].overwrites:
            self.bits[mask] &= ~_HIDES[kind]
        self.bits[mask] |= _BIT[kind]

    def changed(self, kind: str, mask: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Log `kind` where it struck and the value really changed (blank counts as a value)."""
        rows = np.flatnonzero(mask)
        hit = np.zeros(len(self.bits), dtype=bool)
        hit[rows] = differs(before[rows], after[rows])
        self.log(kind, hit)

    def text(self) -> np.ndarray:
        """'kind;kind' per record in catalogue order ('' when none)."""
        codes, uniques = pd.factorize(self.bits)
        names = np.array(NAMES, dtype=object)
        shifts = np.arange(len(NAMES), dtype=np.int64)
        labels = [";".join(names[((u >> shifts) & 1) == 1]) for u in uniques]
        return np.array(labels, dtype=object)[codes]


def differs(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Element-wise 'the value changed', a blank and a value counting as different."""
    b, a = pd.Series(before, dtype=object), pd.Series(after, dtype=object)
    return ~((b == a) | (b.isna() & a.isna())).to_numpy()


def put(values: np.ndarray, mask: np.ndarray, new) -> np.ndarray:
    """A copy of `values` with `new` at `mask`."""
    out = values.copy()
    out[mask] = new
    return out
