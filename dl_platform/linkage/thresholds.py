"""Match thresholds chosen from the trained model instead of fixed constants.

A scored candidate with match probability p is, under the model, a true match with
probability p. Accepting every candidate at or above t then yields, in expectation,
TP(t) = sum of p over accepted, FP(t) = accepted - TP(t) and FN(t) = sum of p over the
rest, so F1(t) = 2 TP(t) / (accepted(t) + sum of all p). The threshold is the t that
maximises it: a data set with many near-misses gets a stricter one, a clean one a looser
one, and nothing is tuned to our own generator. A threshold set in `config/linkage.yml`
(or run config) overrides the choice; the report shows both and how sensitive links are.

A small delivery linked incrementally has too few candidates to choose from, so it reuses
the thresholds chosen by the last run that had enough (`models/thresholds.json`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dl_platform.operations.files import write_atomically

THRESHOLDS_FILE = "thresholds.json"
# Candidates scored below this never decide anything: they only carry recall mass.
CANDIDATE_FLOOR = 0.01
# When the model has no opinion (no candidates at all): even odds.
EVEN_ODDS = 0.5


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold one step used and why (expected figures are the model's, not truth)."""

    step: str
    threshold: float
    source: str  # expected_f1 | configured | saved | even_odds
    candidates: int
    expected_precision: float | None = None
    expected_recall: float | None = None
    expected_f1: float | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def expected_f1_threshold(conn: Any, candidates_sql: str, step: str) -> ThresholdChoice | None:
    """The probability threshold maximising expected F1 over `candidates_sql` (one column
    `p`: the match probability of each decision), or None when there are no candidates."""
    row = conn.execute(
        f"""
        with c as (select p from ({candidates_sql}) where p >= {CANDIDATE_FLOOR}),
        ranked as (
            select p, sum(p) over w as tp, count(*) over w as accepted,
                   lead(p) over (order by p desc) as next_p
            from c window w as (order by p desc rows between unbounded preceding and current row)
        ), total as (select sum(p) as mass, count(*) as n from c)
        select r.p, r.next_p, r.tp, r.accepted, t.mass, t.n, 2 * r.tp / (r.accepted + t.mass) as f1
        from ranked r, total t
        order by f1 desc, r.p desc
        limit 1
        """
    ).fetchall()
    if not row or row[0][0] is None:
        return None
    p, next_p, tp, accepted, mass, n, f1 = row[0]
    # Any threshold between the last candidate accepted and the first rejected decides the same;
    # F1/2 (where accepting a candidate stops raising F1) is the one that carries over to the
    # candidates of later, smaller runs.
    threshold = min(float(p), max(float(f1) / 2, float(next_p or 0.0) + 1e-9))
    return ThresholdChoice(
        step=step, threshold=threshold, source="expected_f1", candidates=int(n),
        expected_precision=float(tp / accepted), expected_recall=float(tp / mass), expected_f1=float(f1),
    )


@dataclass(frozen=True)
class ThresholdPolicy:
    """How one run sets its thresholds: configured values win, else the model chooses."""

    models_dir: Path
    revision: int
    min_candidates: int
    configured: dict[str, float | None]

    def _saved(self) -> dict[str, Any]:
        path = self.models_dir / THRESHOLDS_FILE
        saved = json.loads(path.read_text()) if path.exists() else {}
        return saved if saved.get("revision") == self.revision else {"revision": self.revision, "steps": {}}

    def current(self, step: str) -> ThresholdChoice:
        """Without choosing anew: configured, else saved for this model revision, else even odds."""
        if self.configured.get(step) is not None:
            return ThresholdChoice(step, float(self.configured[step]), "configured", 0)
        previous = self._saved()["steps"].get(step)
        if previous:
            return ThresholdChoice(step, float(previous["threshold"]), "saved", 0)
        return ThresholdChoice(step, EVEN_ODDS, "even_odds", 0)

    def choose(self, conn: Any, candidates_sql: str, step: str) -> ThresholdChoice:
        """The threshold for `step` given its candidates (SELECT yielding `p`, one row per decision).

        Configured wins; else the expected-F1 choice when there are `min_candidates` (saved for
        later small runs of the same model revision); else `current`.
        """
        chosen = expected_f1_threshold(conn, candidates_sql, step)
        n = chosen.candidates if chosen else 0
        if self.configured.get(step) is None and chosen is not None and n >= self.min_candidates:
            saved = self._saved()
            saved["steps"][step] = chosen.as_metadata()
            self.models_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self.models_dir / THRESHOLDS_FILE, json.dumps(saved, indent=2))
            return chosen
        current = self.current(step)
        if current.source == "even_odds" and chosen is not None:
            return chosen  # few candidates, but better than no opinion
        return ThresholdChoice(step, current.threshold, current.source, n)
