"""National data opt-out and GP type-1 opt-out lists, with a later delta delivery.

Opt-out lists are keyed by NHS number and are not person records to link; an event is
'opted_out' or 'withdrawn' (the person withdrew their opt-out). The delta in pending holds
April 2025 events: new opt-outs and withdrawals of current ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel
from dl_platform.synthetic.formats import DeliveryFile, iso, uniform_dates, zero_pad
from dl_platform.synthetic.geography import Geography
from dl_platform.synthetic.nhs_numbers import to_text

OPT_OUT_START = np.datetime64("2018-05-25")  # national data opt-out launch
DELTA_START, DELTA_END = np.datetime64("2025-04-01"), np.datetime64("2025-04-30")


def _events(rng: np.random.Generator, candidates: np.ndarray, share: float) -> pd.DataFrame:
    """Opt-outs up to the reference date; some later withdrawn."""
    who = candidates[rng.random(len(candidates)) < share]
    when = uniform_dates(
        rng, np.full(len(who), OPT_OUT_START), np.full(len(who), cfg.REFERENCE_DATE - 60)
    )
    withdrew = rng.random(len(who)) < cfg.OPT_OUT_WITHDRAWN_SHARE
    later = uniform_dates(
        rng, when[withdrew] + 30, np.full(int(withdrew.sum()), cfg.REFERENCE_DATE)
    )
    return pd.DataFrame(
        {
            "pidx": np.concatenate([who, who[withdrew]]),
            "status": ["opted_out"] * len(who) + ["withdrawn"] * int(withdrew.sum()),
            "date": np.concatenate([when, later]),
        }
    )


def _delta(rng: np.random.Generator, candidates: np.ndarray, events: pd.DataFrame) -> pd.DataFrame:
    last = events.sort_values(["pidx", "date"]).groupby("pidx")["status"].last()
    current = last.index[last == "opted_out"].to_numpy()
    new = np.setdiff1d(candidates, current)
    new = new[rng.random(len(new)) < cfg.DELTA_NEW_OPT_OUT_SHARE]
    withdraw = current[rng.random(len(current)) < cfg.DELTA_WITHDRAWAL_SHARE]
    pidx = np.concatenate([new, withdraw])
    return pd.DataFrame(
        {
            "pidx": pidx,
            "status": ["opted_out"] * len(new) + ["withdrawn"] * len(withdraw),
            "date": uniform_dates(
                rng, np.full(len(pidx), DELTA_START), np.full(len(pidx), DELTA_END)
            ),
        }
    )


def _file(
    rng: np.random.Generator,
    source: str,
    stage: str,
    name: str,
    prefix: str,
    events: pd.DataFrame,
    persons: pd.DataFrame,
    offset: int,
    practice: bool,
) -> DeliveryFile:
    ev = events.sort_values(["date", "pidx"], kind="stable", ignore_index=True)
    pidx = ev["pidx"].to_numpy()
    ids = prefix + zero_pad(offset + rng.permutation(len(ev)) + 1, 8)
    frame = pd.DataFrame(
        {
            "event_id": ids.astype(object),
            "nhs_number": to_text(persons["nhs_number"].to_numpy()[pidx]).astype(object),
        }
    )
    if practice:
        frame["practice_code"] = persons["gp_practice"].to_numpy()[pidx]
    frame["status"] = ev["status"].to_numpy()
    frame["effective_date"] = iso(ev["date"].to_numpy())
    return DeliveryFile(
        source,
        stage,
        name,
        frame,
        truth=pd.DataFrame({"record_id": frame["event_id"], "pidx": pidx}),
    )


def build(
    rng: np.random.Generator, persons: pd.DataFrame, model: ErrorModel, geo: Geography
) -> list[DeliveryFile]:
    """national_opt_out_2025-03.csv / type1_opt_out_2025-03.csv, and -04 deltas in pending."""
    in_pds = persons["in_pds"].to_numpy()
    alive = persons["date_of_death"].isna().to_numpy()
    files = []
    for source, prefix, share, practice in (
        ("national_opt_out", "NOO", cfg.NATIONAL_OPT_OUT_SHARE, False),
        ("type1_opt_out", "T1O", cfg.TYPE1_OPT_OUT_SHARE, True),
    ):
        candidates = np.flatnonzero(
            in_pds & (persons["gp_practice"].notna().to_numpy() if practice else True)
        )
        events = _events(rng, candidates, share)
        delta = _delta(rng, np.intersect1d(candidates, np.flatnonzero(alive)), events)
        files.append(
            _file(
                rng,
                source,
                "landing",
                f"{source}_2025-03.csv",
                prefix,
                events,
                persons,
                0,
                practice,
            )
        )
        files.append(
            _file(
                rng,
                source,
                "pending",
                f"{source}_2025-04.csv",
                prefix,
                delta,
                persons,
                len(events),
                practice,
            )
        )
    return files
