"""The household profile: bigger households, twins, namesakes, movers, mixed formats, PDS duplicates."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from dl_platform.sources.dates import date_issues, parse_delivery_dates
from dl_platform.synthetic.nhs_numbers import is_valid
from tests.unit.synthetic.profile_runs import assert_rate, parsed_dob

# The date shapes dbt's parse_date and the raw contract both accept.
DATE_SHAPES = {
    "iso": r"\d{4}-\d{2}-\d{2}",
    "iso_time": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
    "dmy": r"\d{2}/\d{2}/\d{4}",
    "ymd": r"\d{8}",
}
NAME_KINDS = {
    "given_replaced",
    "family_replaced",
    "nickname",
    "given_typo",
    "family_typo",
    "double_barrel",
    "given_initial",
    "name_swap",
    "typo_multi",
    "given_missing",
    "family_missing",
}


@pytest.fixture(scope="module")
def household(profile_run):
    return profile_run("household")


@pytest.fixture(scope="module")
def master(household) -> pd.DataFrame:
    rec = household.records
    return rec[rec["is_master"]]


def _standardise_name(values: pd.Series) -> pd.Series:
    """Python twin of the dbt macro standardise_name (upper, no accents or apostrophes,
    other non-letters a space, spaces collapsed)."""

    def one(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        text = unicodedata.normalize("NFKD", str(value).upper())
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = re.sub(r"[^A-Z]", " ", re.sub(r"['’`]", "", text))
        return re.sub(r" +", " ", text).strip() or None

    return values.map(one)


@pytest.mark.parametrize(
    "kind",
    [
        "given_replaced",
        "given_typo",
        "name_swap",
        "typo_multi",
        "name_format",
        "dob_wrong",
        "dob_digit",
        "dob_impossible",
        "dob_missing",
        "dob_format",
        "postcode_replaced",
        "postcode_missing",
        "postcode_format",
        "nhs_missing",
    ],
)
def test_each_error_kind_occurs_at_its_documented_rate(household, kind):
    assert_rate(household, kind)


def test_households_are_bigger_than_gentle(household, persons):
    size = household.persons.groupby("household_id").size()
    gentle = persons.groupby("household_id").size()
    assert size.mean() > gentle.mean() + 0.4
    assert (size >= 4).mean() > 1.5 * (gentle >= 4).mean()


def test_twins_share_everything_but_given_names(household, master):
    twins = master[master["is_twin"] & ~master["kinds"].apply(lambda k: "duplicate" in k)]
    pairs = twins.groupby("household_id")
    assert pairs.ngroups >= 30
    assert (pairs["true_dob"].nunique() == 1).all()
    assert (pairs["given_name"].nunique() == pairs.size()).all()
    assert (pairs["family_name"].nunique() == 1).mean() > 0.9
    assert (pairs["postcode"].nunique() == 1).all() and (pairs["address"].nunique() == 1).all()
    same_sex = (pairs["true_sex"].nunique() == 1).mean()
    assert 0.3 < same_sex < 0.7


def test_parent_and_child_share_a_given_name_a_generation_apart(master):
    people = master[~master["kinds"].apply(lambda k: "duplicate" in k)]
    keys = ["household_id", "given_name", "family_name", "postcode", "address"]
    groups = people.groupby(keys)["true_dob"].agg(["size", "min", "max"])
    namesakes = groups[groups["size"] >= 2]
    gap = (pd.to_datetime(namesakes["max"]) - pd.to_datetime(namesakes["min"])).dt.days / 365.25
    assert (gap >= 15).sum() >= 20  # Jr/Sr pairs, not twins


def test_movers_leave_stale_postcodes_in_feeds(household):
    rec = household.records
    stale = rec[rec["kinds"].apply(lambda k: "postcode_stale" in k)]
    assert stale["source"].nunique() >= 4 and len(stale) > 200
    assert (stale["postcode"].str.upper() != stale["ref_postcode"].str.upper()).all()


def test_dates_are_mixed_within_a_source_but_all_standardisable(household):
    feeds = household.records[~household.records["is_master"]]
    for source, part in feeds.groupby("source"):
        dob = part["date_of_birth"].dropna()
        shapes = {name for name, rx in DATE_SHAPES.items() if dob.str.fullmatch(rx).any()}
        assert len(shapes) >= 3, (source, shapes)
        assert dob.str.fullmatch("|".join(DATE_SHAPES.values())).all(), source
    fine = feeds[feeds["kinds"].apply(lambda k: not k & {"dob_impossible", "dob_missing"})]
    assert date_issues(fine["date_of_birth"]).isna().all()
    kept = fine[
        fine["kinds"].apply(lambda k: not k & {"dob_wrong", "dob_swap", "dob_digit", "typo_multi"})
    ]
    assert (parse_delivery_dates(kept["date_of_birth"]).dt.date == kept["true_dob"]).all()


def test_name_formats_vanish_under_standardise_name(household):
    feeds = household.records[
        ~household.records["is_master"] & household.records["ref_given_name"].notna()
    ]
    fmt = feeds[feeds["kinds"].apply(lambda k: "name_format" in k and not k & NAME_KINDS)]
    assert len(fmt) >= 100
    given = fmt["given_name"].dropna()
    assert given.str.isupper().any() and given.str.islower().any()
    assert (given != given.str.strip()).any()  # stray spaces
    assert (_standardise_name(fmt["given_name"]) == _standardise_name(fmt["ref_given_name"])).all()
    assert (fmt["given_name"] != fmt["ref_given_name"]).mean() > 0.8
    family = fmt[fmt["ref_family_name"].str.contains("['-]", regex=True)]
    assert (family["family_name"] != family["ref_family_name"]).any()


def test_a_few_persons_have_two_master_records(household, master):
    dups = master[master["person_key"].duplicated(keep=False)]
    assert 1 <= dups["person_key"].nunique() <= max(1, round(0.0003 * 4000)) + 1
    assert dups["record_id"].is_unique and dups["nhs_number"].is_unique
    assert is_valid(dups["nhs_number"].astype(np.int64).to_numpy()).all()
    assert dups["kinds"].apply(lambda k: "duplicate" in k).sum() == dups["person_key"].nunique()
    assert (parsed_dob(dups).groupby(dups["person_key"]).nunique() <= 2).all()
