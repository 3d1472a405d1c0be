"""Study IDs: per project, stable under one key, different under another; `_e` codes still group."""

import pandas as pd
import pytest

from dl_platform.extracts.pseudonymise import MissingKeyError, encrypt_codes, project_key, study_ids

PERSONS = pd.Series([f"P{i}" for i in range(500)])


def test_same_key_same_ids_and_no_collisions():
    first = study_ids(PERSONS, project_key("k", "a"))
    assert first.equals(study_ids(PERSONS, project_key("k", "a")))
    assert first.nunique() == len(PERSONS)
    assert not set(first) & set(PERSONS)


def test_two_projects_never_join_and_another_key_differs():
    a = set(study_ids(PERSONS, project_key("k", "a")))
    assert not a & set(study_ids(PERSONS, project_key("k", "b")))
    assert not a & set(study_ids(PERSONS, project_key("other-key", "a")))


def test_missing_key_says_how_to_set_it():
    with pytest.raises(MissingKeyError, match="DL_PSEUDONYMISATION_KEY"):
        project_key(None, "a")


def test_encrypted_codes_group_like_the_originals_and_hide_them():
    codes = pd.Series(["E01000001", "E01000002", "E01000001", None])
    enc = encrypt_codes(codes, project_key("k", "a"), "lsoa11")
    assert enc[0] == enc[2] != enc[1] and enc[3] is None
    assert not set(enc.dropna()) & set(codes.dropna())
    assert enc[0] != encrypt_codes(codes, project_key("k", "b"), "lsoa11")[0]


def test_default_coarsening_encrypts_below_region_and_keeps_region():
    from dl_platform.extracts.coarsen import default_rule

    assert default_rule("lsoa11") == default_rule("practice_code") == default_rule("site_code") == "encrypt"
    assert default_rule("practice_region") == default_rule("region") == "keep"
    assert default_rule("date_of_death") == "year_month" and default_rule("year_of_birth") == "keep"
