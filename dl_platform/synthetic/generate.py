"""Generate the whole synthetic delivery set: population, sources, truth, files.

Each source draws from its own random stream seeded by (seed, source position), so the
output is a pure function of (persons, seed) and adding a source later does not change
the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.corruption import subgroup_factors
from dl_platform.synthetic.geography import load_geography
from dl_platform.synthetic.population import build_population
from dl_platform.synthetic.sources import BUILDERS
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


def generate(persons: int, seed: int, out: Path, seeds_folder: Path | None = None) -> Summary:
    """Write landing/, pending/, truth.parquet and truth_persons.parquet under `out`.

    Args:
        persons: number of persons known to PDS (a few extra, not in PDS, appear only in
            the pending HES refresh).
        seed: random seed; same (persons, seed) gives byte-identical files.
        out: output root, laid out like DL_DATA_DIR.
        seeds_folder: dbt seeds folder to read geography from (default: the dbt project's).

    Returns:
        A summary of rows per source and stage.
    """
    started = time.perf_counter()
    geo = load_geography(seeds_folder)
    n_new = max(1, int(round(persons * cfg.HES_INCREMENT_NEW_PERSONS)))
    people = build_population(np.random.default_rng([seed, 0]), persons + n_new, geo)
    people["in_pds"] = np.arange(len(people)) < persons
    factors = subgroup_factors(people)
    files = []
    for k, build in enumerate(BUILDERS.values(), start=1):
        built = build(np.random.default_rng([seed, k]), people, factors, geo)
        files.extend(f for f in built if len(f.frame))  # a header-only file is bad input
    out.mkdir(parents=True, exist_ok=True)
    clear_previous(out, {f.source for f in files})
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
