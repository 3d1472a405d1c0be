"""Generate the whole synthetic delivery set: population, sources, truth, files.

Each source draws from its own random stream seeded by (seed, builder position), so the
output is a pure function of (persons, seed, profile) and adding a source later does not
change the others. Profiles sharing a population shape share the same people.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import ErrorModel
from dl_platform.synthetic.geography import load_geography
from dl_platform.synthetic.population import build_population
from dl_platform.synthetic.profiles import get_profile
from dl_platform.synthetic.sources import BUILDERS, FIELDS, STREAMS
from dl_platform.synthetic.truth import person_truth, record_truth
from dl_platform.synthetic.writer import clear_previous, write_delivery, write_parquet


@dataclass
class Summary:
    """What a run produced: rows per (source, stage) and timings."""

    persons: int
    rows: dict[tuple[str, str], int]
    files: list[Path]
    seconds: float
    nhs_outside_test_range: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def render(self) -> str:
        """A short human summary (counts only, never identifier values)."""
        lines = [
            f"synthetic population: {self.persons} persons, {self.total_rows} records "
            f"in {len(self.files)} files, {self.seconds:.1f} s"
        ]
        for (source, stage), n in sorted(self.rows.items()):
            lines.append(f"  {source:<18} {stage:<8} {n:>10}")
        if self.nhs_outside_test_range:
            lines.append(
                f"warning: the 999 test range holds 909,090 valid NHS numbers; "
                f"{self.nhs_outside_test_range} persons got numbers from 998 and below"
            )
        return "\n".join(lines)


def generate(
    persons: int,
    seed: int,
    out: Path,
    seeds_folder: Path | None = None,
    profile: str = "gentle",
) -> Summary:
    """Write landing/, pending/, truth.parquet and truth_persons.parquet under `out`.

    Args:
        persons: number of persons known to the register (PDS; a few extra, not in PDS,
            appear only in the pending HES refresh).
        seed: random seed; same (persons, seed, profile) gives byte-identical files.
        out: output root, laid out like DL_DATA_DIR.
        seeds_folder: dbt seeds folder to read geography from (default: the dbt project's).
        profile: error profile name (`profiles.PROFILES`).

    Returns:
        A summary of rows per source and stage.

    Raises:
        KeyError: unknown profile.
    """
    started = time.perf_counter()
    chosen = get_profile(profile)
    geo = load_geography(seeds_folder)
    n_new = max(1, int(round(persons * cfg.HES_INCREMENT_NEW_PERSONS))) if chosen.new_persons else 0
    people = build_population(
        np.random.default_rng([seed, 0]), persons + n_new, geo, chosen.population
    )
    people["in_pds"] = np.arange(len(people)) < persons
    model = ErrorModel(chosen, people, FIELDS)
    files = []
    for name in chosen.builders:
        built = BUILDERS[name](np.random.default_rng([seed, STREAMS[name]]), people, model, geo)
        files.extend(f for f in built if len(f.frame))  # a header-only file is bad input
    out.mkdir(parents=True, exist_ok=True)
    clear_previous(out, set(FIELDS) | {f.source for f in files})
    written = [write_delivery(out, f) for f in files]
    write_parquet(record_truth(files, people), out / "truth.parquet")
    write_parquet(person_truth(people), out / "truth_persons.parquet")
    rows: dict[tuple[str, str], int] = {}
    for f in files:
        rows[(f.source, f.stage)] = rows.get((f.source, f.stage), 0) + len(f.frame)
    return Summary(
        persons,
        rows,
        written,
        time.perf_counter() - started,
        people.attrs.get("nhs_outside_test_range", 0),
    )
