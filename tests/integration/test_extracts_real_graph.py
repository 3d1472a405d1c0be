"""Extracts on the real graph: synthetic deliveries -> raw -> dbt -> linkage -> marts -> extracts.

Slow (the whole graph: dbt build and Splink, about a minute on 2 cores), so it carries the
`bench` marker and runs with `make bench`, not `make test`; the fast extracts tests build
the marts themselves (tests/unit/extracts/synthetic_marts.py).
"""

import dagster as dg
import pandas as pd
import pytest

from dl_platform.definitions import defs
from dl_platform.extracts import defs as extract_defs
from dl_platform.extracts.optouts import as_flag
from dl_platform.extracts.pseudonymise import project_key, study_ids
from dl_platform.extracts.spec import DIRECT_IDENTIFIERS
from dl_platform.resources import build_resources, open_warehouse
from dl_platform.settings import get_settings
from dl_platform.synthetic.generate import generate

pytestmark = pytest.mark.bench


def test_real_graph_extracts_hold_no_opted_out_person(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path / "data"))
    generate(800, 5, tmp_path / "data")
    keys = [k for k in defs.resolve_all_asset_keys() if k.path[-1] not in ("review", "release")]
    # Resources built now, so they point at this test's DL_DATA_DIR (defs built theirs at import).
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(*keys).without_checks(),
        resources=build_resources(),
    )
    assert result.success
    with open_warehouse(read_only=True) as conn:
        flags = conn.execute("select person_id, national_opt_out from marts.person_flags").df()
    opted_out = set(flags.loc[as_flag(flags["national_opt_out"]), "person_id"])
    assert opted_out
    key = get_settings().pseudonymisation_key
    for spec in extract_defs.projects:
        folder = get_settings().extracts_dir / spec.id / "v1"
        payload = pd.read_parquet(folder / "file2_payload.parquet")
        assert not set(payload.columns) & DIRECT_IDENTIFIERS
        if spec.legal_basis == "s251":
            hidden = set(study_ids(pd.Series(sorted(opted_out)), project_key(key, spec.id)))
            assert len(payload) and not hidden & set(payload["study_id"])
