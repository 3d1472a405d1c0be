"""One small synthetic population per test session, shared by the synthetic tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dl_platform.settings import get_settings
from dl_platform.sources.registry import load_registry
from dl_platform.synthetic.generate import generate
from tests.unit.synthetic.profile_runs import (
    PROFILE_PERSONS,
    PROFILE_SEED,
    ProfileRun,
    load_profile_run,
)

PERSONS = 2000


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(PERSONS, 11, out)
    return out


@pytest.fixture(scope="session")
def registry():
    return load_registry(get_settings().sources_file)


def read_delivery(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """A delivery as strings (empty -> NA), the way the raw loader sees it."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)


@pytest.fixture(scope="session")
def deliveries(synth_dir, registry) -> dict[str, pd.DataFrame]:
    """Every source's landing + pending rows, with a _stage and _file column."""
    out = {}
    for source in registry:
        frames = []
        for stage in ("landing", "pending"):
            for path in sorted((synth_dir / stage / source.name).glob("*")):
                frame = read_delivery(path, source.encoding)
                frame["_stage"], frame["_file"] = stage, path.name
                frames.append(frame)
        out[source.name] = pd.concat(frames, ignore_index=True)
    return out


@pytest.fixture(scope="session")
def truth(synth_dir) -> pd.DataFrame:
    return pd.read_parquet(synth_dir / "truth.parquet")


@pytest.fixture(scope="session")
def persons(synth_dir) -> pd.DataFrame:
    return pd.read_parquet(synth_dir / "truth_persons.parquet")


@pytest.fixture(scope="session")
def linked(deliveries, truth, persons) -> dict[str, pd.DataFrame]:
    """Each source's rows joined to their true person (attributes and PDS identifiers)."""
    pds = deliveries["pds"].merge(
        truth[truth["source"] == "pds"], left_on="pds_record_id", right_on="record_id"
    )
    true_ids = pds[
        ["person_key", "nhs_number", "given_name", "family_name", "date_of_birth"]
    ].add_prefix("true_")
    out = {}
    for name, frame in deliveries.items():
        rid = frame.columns[0]
        joined = frame.merge(truth[truth["source"] == name], left_on=rid, right_on="record_id")
        joined = joined.merge(persons, on="person_key", how="left")
        out[name] = joined.merge(
            true_ids, left_on="person_key", right_on="true_person_key", how="left"
        )
    return out


@pytest.fixture(scope="session")
def profile_run(tmp_path_factory):
    """profile_run(name) -> ProfileRun, generated once per session."""
    runs: dict[str, ProfileRun] = {}

    def get(name: str) -> ProfileRun:
        if name not in runs:
            out = tmp_path_factory.mktemp(f"synth_{name}")
            generate(PROFILE_PERSONS, PROFILE_SEED, out, profile=name)
            runs[name] = load_profile_run(name, out)
        return runs[name]

    return get
