"""Project specs: the demo projects load, and every bad spec names its file and key."""

from pathlib import Path

import pytest
import yaml

from dl_platform.extracts.spec import SpecError, load_projects, load_spec
from dl_platform.settings import DEFAULT_PROJECTS_DIR

GOOD = {
    "id": "proj",
    "title": "T",
    "legal_basis": "s251",
    "cohort": {"population": {"min_age": 40, "flags": ["ltc_diabetes"]}},
    "period": {"start": "2020-01-01", "end": "2024-12-31"},
    "datasets": {"person": {"variables": ["age_band", "sex"]}},
    "quasi_identifiers": ["age_band", "sex"],
}


def write(tmp_path: Path, body: dict, name: str = "proj") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_demo_projects_load_with_both_legal_bases():
    specs = {s.id: s for s in load_projects(DEFAULT_PROJECTS_DIR)}
    assert {s.legal_basis for s in specs.values()} >= {"consent", "s251"}
    consent = next(s for s in specs.values() if s.legal_basis == "consent")
    assert consent.cohort.study and consent.cohort.permission == "perm_nhse_linkage"
    s251 = next(s for s in specs.values() if s.legal_basis == "s251")
    assert s251.cohort.min_age == 40 and "ltc_diabetes" in s251.cohort.flags


def test_defaults_and_stable_hash(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert (
        spec.disclosure["threshold"] == 10
        and spec.disclosure["k"] == 10
        and spec.disclosure["rounding"] == 5
    )
    assert spec.spec_hash == load_spec(write(tmp_path, GOOD)).spec_hash
    changed = {**GOOD, "disclosure": {"k": 5}}
    assert load_spec(write(tmp_path, changed)).spec_hash != spec.spec_hash


@pytest.mark.parametrize(
    "change, key",
    [
        ({"legal_basis": "vibes"}, "'legal_basis'"),
        ({"colour": "red"}, "'colour'"),
        (
            {"datasets": {"person": {"variables": ["age_band", "nhs_number"]}}},
            "'datasets.person.variables'",
        ),
        ({"legal_basis": "anonymous", "file1": ["nhs_number"]}, "'file1'"),
        ({"quasi_identifiers": ["region"]}, "'quasi_identifiers'"),
        (
            {
                "datasets": {
                    "person": {"variables": ["sex"]},
                    "hospital_episodes": {"variables": ["x"]},
                }
            },
            "'datasets.hospital_episodes.date_column'",
        ),
        ({"disclosure": {"threshold": 0}}, "'disclosure.threshold'"),
        ({"period": {"start": "2024-01-01", "end": "2020-01-01"}}, "'period.end'"),
        (
            {"cohort": {"study": "study_cohort", "permission": "perm_everything"}},
            "'cohort.permission'",
        ),
        ({"aggregates": [{"name": "a", "rows": "region"}]}, "'aggregates[0].rows'"),
    ],
)
def test_errors_name_file_and_key(tmp_path, change, key):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_id_must_match_file_name(tmp_path):
    with pytest.raises(SpecError, match="'id'"):
        load_spec(write(tmp_path, GOOD, name="other"))
