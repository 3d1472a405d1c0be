"""Generated error profiles read back as standard records, and rate checks against them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dl_platform.sources.dates import parse_delivery_dates
from dl_platform.sources.registry import STANDARD_FIELDS, load_registry
from dl_platform.synthetic.config import MAX_RATE
from dl_platform.synthetic.corruption import subgroup_factors
from dl_platform.synthetic.error_kinds import BY_NAME, NAMES
from dl_platform.synthetic.profiles import get_profile, registry_path

PROFILE_PERSONS = 4000
PROFILE_SEED = 11
DUPLICATE = "duplicate"


@dataclass
class ProfileRun:
    """One generated profile: its folder, registry, and every linked record in standard form.

    `records`: one row per delivered record of every linked source, identifier columns renamed
    to the standard fields (missing fields NA), with truth (`person_key`, `errors`), the true
    person (`true_sex`, `true_dob`, attributes, `pi` = row in `persons`) and, from the person's
    clean reference record (master, else an error-free original), `ref_<field>`.
    """

    name: str
    out: Path
    registry: object
    truth: pd.DataFrame
    persons: pd.DataFrame
    records: pd.DataFrame

    def with_kind(self, kind: str) -> pd.DataFrame:
        return self.records[self.records["kinds"].apply(lambda k: kind in k)]


def read_delivery(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """A delivery as strings (empty -> NA), the way the raw loader sees it."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)


def _standard_records(out: Path, registry, truth: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for source in registry.linked_sources:
        paths = [
            p
            for stage in ("landing", "pending")
            for p in sorted((out / stage / source.name).glob("*"))
        ]
        if not paths:
            continue
        raw = pd.concat([read_delivery(p, source.encoding) for p in paths], ignore_index=True)
        mapped = {column: field for field, column in source.identifiers.items()}
        std = raw[list(mapped)].rename(columns=mapped)
        for field in STANDARD_FIELDS:
            if field not in std:
                std[field] = pd.NA
        frames.append(
            std[list(STANDARD_FIELDS)].assign(source=source.name, is_master=source.is_master)
        )
    records = pd.concat(frames, ignore_index=True)
    return records.merge(truth, on=["source", "record_id"], how="left", validate="one_to_one")


def _reference(records: pd.DataFrame) -> pd.DataFrame:
    """Per person, the identifiers of their error-free master record (with no master: of an
    error-free record; the dedupe originals are the only records that can be error-free)."""
    clean = records[records["errors"] == ""]
    if records["is_master"].any():
        clean = clean[clean["is_master"]]
    ref = clean.sort_values(["source", "record_id"]).drop_duplicates("person_key")
    fields = ["nhs_number", "given_name", "family_name", "postcode", "address"]
    return ref[["person_key", *fields]].rename(columns={f: f"ref_{f}" for f in fields})


def load_profile_run(name: str, out: Path) -> ProfileRun:
    registry = load_registry(registry_path(name))
    truth = pd.read_parquet(out / "truth.parquet")
    persons = pd.read_parquet(out / "truth_persons.parquet")
    records = _standard_records(out, registry, truth)
    people = persons[["person_key", "sex", "date_of_birth", "household_id", "is_twin"]].rename(
        columns={"sex": "true_sex", "date_of_birth": "true_dob"}
    )
    people["pi"] = np.arange(len(people))
    records = records.merge(people, on="person_key", how="left").merge(
        _reference(records), on="person_key", how="left"
    )
    records["kinds"] = records["errors"].str.split(";").apply(lambda k: frozenset(k) - {""})
    return ProfileRun(name, out, registry, truth, persons, records)


def expected_and_observed(run: ProfileRun, kind: str) -> tuple[float, int]:
    """Expected strikes of `kind` (profile rate x subgroup factors, capped) and how many
    records truth says it changed, over records no later overwriting kind on the same field
    struck (strikes are independent, so leaving those out keeps the rate)."""
    people = run.persons.assign(
        young_adult=run.persons["age_band"] == "18-30", deprived=run.persons["imd_decile"] <= 2
    )
    factor = subgroup_factors(people)[kind]
    profile = get_profile(run.name)
    later = NAMES[NAMES.index(kind) + 1 :]
    hiders = {
        k for k in later if BY_NAME[k].overwrites and BY_NAME[k].fields == BY_NAME[kind].fields
    }
    rec = run.records[run.records["kinds"].apply(lambda k: not k & hiders)]
    rec = rec.assign(dup=rec["kinds"].apply(lambda k: DUPLICATE in k))
    expected = 0.0
    for (source, dup), part in rec.groupby(["source", "dup"]):
        rate = profile.rates_for(source, DUPLICATE if dup else None).get(kind, 0.0)
        pi = part["pi"].to_numpy()
        expected += float(np.minimum(rate * factor[pi], MAX_RATE).sum())
    observed = int(rec["kinds"].apply(lambda k: kind in k).sum())
    return expected, observed


def assert_rate(run: ProfileRun, kind: str) -> None:
    """Observed within sampling noise (3.5 sd) plus 8% of expected."""
    expected, observed = expected_and_observed(run, kind)
    assert expected >= 10, (kind, expected)  # enough records to measure
    tolerance = 0.08 * expected + 3.5 * np.sqrt(expected)
    assert abs(observed - expected) <= tolerance, (run.name, kind, expected, observed)


def parsed_dob(records: pd.DataFrame) -> pd.Series:
    return parse_delivery_dates(records["date_of_birth"]).dt.date


def upper(values: pd.Series) -> pd.Series:
    return values.astype("string").str.upper()
