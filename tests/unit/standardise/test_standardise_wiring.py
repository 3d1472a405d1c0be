"""The Python side of standardisation: registry vars, asset keys, manifest freshness, the publish guard."""

import datetime as dt
import json
import os
import time

import dagster as dg
import pytest

from dl_platform.sources.registry import Period, Registry, Source
from dl_platform.standardise.analyst_queries import load_analyst_queries
from dl_platform.standardise.manifest import manifest_is_stale
from dl_platform.standardise.publish import looks_identifying
from dl_platform.standardise.registry_vars import registry_vars, registry_vars_json
from dl_platform.standardise.translator import PlatformDbtTranslator


def _registry() -> Registry:
    master = Source("pds", "PDS", "master", 1, "snapshot", {"record_id": "id", "nhs_number": "nhs", "sex": "g"})
    hes = Source("hes", "HES", "contributing", 3, "append", {"record_id": "EPIKEY", "date_of_birth": "DOB"},
                 period=Period(dt.date(2015, 4, 1), dt.date(2025, 3, 31), "EPIEND"))
    optout = Source("nopt", "Opt-outs", "contributing", 9, "append", {"record_id": "e", "nhs_number": "n"}, link=False)
    return Registry(path=None, sources={s.name: s for s in (master, hes, optout)})


def test_registry_vars_describe_every_source():
    sources = registry_vars(_registry())["dl_sources"]
    assert [s["name"] for s in sources] == ["pds", "hes", "nopt"]
    assert sources[0] == {"name": "pds", "role": "master", "primacy": 1, "link": True,
                          "fields": ["record_id", "nhs_number", "sex"], "period": None}
    assert sources[1]["period"] == {"start": "2015-04-01", "end": "2025-03-31", "date_column": "EPIEND"}
    assert sources[2]["link"] is False
    assert json.loads(registry_vars_json(_registry())) == {"dl_sources": sources}


@pytest.mark.parametrize(
    "props, key, group",
    [
        ({"resource_type": "model", "name": "stg_pds__demographics", "fqn": ["dl_platform", "staging", "pds", "stg_pds__demographics"]},
         ["staging", "stg_pds__demographics"], "staging"),
        ({"resource_type": "model", "name": "dim_person", "fqn": ["dl_platform", "marts", "persons", "dim_person"]},
         ["marts", "dim_person"], "marts"),
        ({"resource_type": "seed", "name": "ref_ltc_codes", "fqn": ["dl_platform", "ref_ltc_codes"]},
         ["reference", "ref_ltc_codes"], "reference"),
    ],
)
def test_translator_uses_stage_keys_and_groups(props, key, group):
    translator = PlatformDbtTranslator(["pds"])
    assert translator.get_asset_key(props) == dg.AssetKey(key)
    assert translator.get_group_name(props) == group
    assert translator.settings.enable_asset_checks


def test_manifest_is_stale_when_missing_or_older_than_a_model(tmp_path):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    assert manifest_is_stale(tmp_path)
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    assert not manifest_is_stale(tmp_path)
    later = time.time() + 5
    os.utime(model, (later, later))
    assert manifest_is_stale(tmp_path)


@pytest.mark.parametrize("column", ["nhs_number", "NHSNO", "given_name", "surname", "postcode", "home_address",
                                    "date_of_birth", "dob", "practice_name"])
def test_identifying_column_names_are_refused(column):
    assert looks_identifying(column)


@pytest.mark.parametrize("column", ["person_id", "year_of_birth", "age_band", "imd_decile", "region",
                                    "participant_ref", "episode_id", "ltc_diabetes_first_date"])
def test_pseudonymous_column_names_pass(column):
    assert not looks_identifying(column)


def test_analyst_queries_are_named_and_complete():
    queries = load_analyst_queries()
    assert list(queries) == ["diabetes_prevalence_by_imd_decile",
                             "emergency_admissions_by_financial_year_and_age_band",
                             "frequent_ae_attenders_by_region_and_ethnic_group"]
    assert all(q.lstrip().startswith(("select", "--")) and ";" not in q for q in queries.values())
