"""The harsh profile: every documented error kind occurs at its rate and really changes the value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_platform.sources.dates import IMPOSSIBLE_DATE, date_issues
from dl_platform.synthetic.config import PSEUDO_POSTCODES
from dl_platform.synthetic.error_kinds import BY_NAME
from dl_platform.synthetic.nhs_numbers import is_valid
from tests.unit.synthetic.profile_runs import assert_rate, parsed_dob, upper

DOB_KINDS = {"dob_wrong", "dob_swap", "dob_digit", "dob_impossible", "dob_missing", "typo_multi"}
GIVEN_KINDS = {k for k, v in BY_NAME.items() if "given_name" in v.fields}
NHS_KINDS = {k for k, v in BY_NAME.items() if "nhs_number" in v.fields}
# Kinds struck on every record alike (no eligibility condition): their count is testable.
RATE_KINDS = [
    "nhs_typo",
    "nhs_transposed",
    "nhs_random_person",
    "nhs_missing",
    "given_replaced",
    "family_replaced",
    "given_typo",
    "family_typo",
    "given_initial",
    "name_swap",
    "typo_multi",
    "given_missing",
    "family_missing",
    "dob_wrong",
    "dob_digit",
    "dob_impossible",
    "dob_missing",
    "sex_unknown",
    "postcode_replaced",
    "postcode_pseudo",
    "postcode_missing",
    "postcode_format",
]


@pytest.fixture(scope="module")
def harsh(profile_run):
    return profile_run("harsh")


@pytest.fixture(scope="module")
def feeds(harsh) -> pd.DataFrame:
    """Records of the contributing (non-master) sources."""
    return harsh.records[~harsh.records["is_master"]]


def _only(frame: pd.DataFrame, kind: str, family: set[str]) -> pd.DataFrame:
    """Records with `kind` and no other kind of the same family (so the change is its own)."""
    return frame[frame["kinds"].apply(lambda k: kind in k and not (k & family) - {kind})]


def test_truth_covers_every_linked_record_with_errors(harsh):
    rec = harsh.records
    assert rec["person_key"].notna().all() and rec["errors"].notna().all()
    linked = {s.name for s in harsh.registry.linked_sources}
    truth = harsh.truth[harsh.truth["source"].isin(linked)]
    assert len(truth) == len(rec)
    assert set(harsh.truth.columns) == {"source", "record_id", "person_key", "errors"}


@pytest.mark.parametrize("kind", RATE_KINDS)
def test_each_error_kind_occurs_at_its_documented_rate(harsh, kind):
    assert_rate(harsh, kind)


def test_the_master_stays_clean_and_feeds_are_harsh(harsh, feeds):
    master = harsh.records[harsh.records["is_master"]]
    assert master["kinds"].apply(lambda k: not k - {"sex_unknown", "postcode_pseudo"}).all()
    by_source = (feeds["errors"] != "").groupby(feeds["source"]).mean()
    assert (by_source > 0.25).all(), by_source.to_dict()


def test_undamaged_dates_parse_to_the_truth(feeds):
    clean = feeds[feeds["kinds"].apply(lambda k: not k & DOB_KINDS)]
    assert len(clean) > 1000
    assert (parsed_dob(clean) == clean["true_dob"]).all()


def test_impossible_dates_are_delivered_and_do_not_parse(feeds):
    bad = feeds[feeds["kinds"].apply(lambda k: "dob_impossible" in k)]
    assert len(bad) >= 20
    assert bad["date_of_birth"].notna().all()
    assert (date_issues(bad["date_of_birth"]) == IMPOSSIBLE_DATE).all()
    shapes = bad["date_of_birth"].str.replace(r"\D", "", regex=True)
    months, days = shapes.str[4:6].astype(int), shapes.str[6:8].astype(int)
    assert ((months == 13) | (months == 0)).any() and (days == 0).any() and (days > 31).any()
    assert ((days == 31) & months.isin([4, 6, 9, 11])).any()
    assert ((days == 29) & (months == 2)).any()


def test_wrong_swapped_and_mistyped_dates_differ_from_the_truth(feeds):
    wrong = feeds[feeds["kinds"].apply(lambda k: "dob_wrong" in k)]
    assert len(wrong) >= 20 and (parsed_dob(wrong) != wrong["true_dob"]).all()
    swap = _only(feeds, "dob_swap", DOB_KINDS)
    got, true = pd.to_datetime(parsed_dob(swap)), pd.to_datetime(swap["true_dob"])
    assert len(swap) >= 20
    assert ((got.dt.day == true.dt.month) & (got.dt.month == true.dt.day) & (got != true)).all()
    digit = _only(feeds, "dob_digit", DOB_KINDS)
    got = pd.to_datetime(parsed_dob(digit)).dt.strftime("%Y%m%d")
    true = pd.to_datetime(digit["true_dob"]).dt.strftime("%Y%m%d")
    changed = [
        sum(a != b for a, b in zip(x, y, strict=True)) for x, y in zip(got, true, strict=True)
    ]
    assert len(digit) >= 20 and set(changed) == {1}
    missing = feeds[feeds["kinds"].apply(lambda k: "dob_missing" in k)]
    assert len(missing) >= 20 and missing["date_of_birth"].isna().all()


def test_nhs_numbers_keep_truth_unless_struck(harsh, feeds):
    known = feeds[feeds["ref_nhs_number"].notna() & feeds["source"].isin(["hes_apc", "ecds"])]
    clean = known[known["kinds"].apply(lambda k: not k & NHS_KINDS)]
    assert (clean["nhs_number"] == clean["ref_nhs_number"]).all()
    missing = known[known["kinds"].apply(lambda k: "nhs_missing" in k)]
    assert missing["nhs_number"].isna().all()
    assert 0.04 < len(missing) / len(known) < 0.12  # 5% base, more in the subgroups
    tr = known[known["kinds"].apply(lambda k: k & NHS_KINDS == {"nhs_transposed"})]
    assert len(tr) >= 20
    assert not is_valid(tr["nhs_number"].astype(np.int64).to_numpy()).any()
    assert (tr["nhs_number"].map(sorted) == tr["ref_nhs_number"].map(sorted)).all()
    other = known[
        known["kinds"].apply(lambda k: bool(k & {"nhs_random_person", "nhs_other_person"}))
    ]
    assert len(other) >= 10 and is_valid(other["nhs_number"].astype(np.int64).to_numpy()).all()
    assert (other["nhs_number"] != other["ref_nhs_number"]).all()
    master = set(harsh.records.loc[harsh.records["is_master"], "nhs_number"])
    assert other["nhs_number"].isin(master).mean() > 0.95  # someone else's real number


def test_social_care_keeps_its_nhs_column_mostly_blank(feeds):
    asc = feeds[feeds["source"] == "asc_cld"]
    assert len(asc) > 100 and 0.5 < asc["nhs_number"].isna().mean() < 0.65


def test_replaced_swapped_and_initial_names_differ_from_the_truth(harsh, feeds):
    named = feeds[
        feeds["ref_given_name"].notna()
        & feeds["source"].isin(["gp_registrations", "asc_cld", "study_cohort"])
    ]
    clean = named[named["kinds"].apply(lambda k: not k & GIVEN_KINDS)]
    assert len(clean) > 500 and (upper(clean["given_name"]) == upper(clean["ref_given_name"])).all()
    replaced = _only(named, "given_replaced", GIVEN_KINDS)
    assert len(replaced) >= 20
    assert (upper(replaced["given_name"]) != upper(replaced["ref_given_name"])).all()
    master = harsh.records[harsh.records["is_master"]]
    same_sex = master.groupby("true_sex")["given_name"].agg(set)
    assert replaced.apply(lambda r: r["given_name"] in same_sex[r["true_sex"]], axis=1).all()
    fam = named[named["kinds"].apply(lambda k: "family_replaced" in k)]
    assert len(fam) >= 20 and (upper(fam["family_name"]) != upper(fam["ref_family_name"])).all()
    initial = _only(named, "given_initial", GIVEN_KINDS)
    assert len(initial) >= 20 and initial["given_name"].str.fullmatch(r"[A-Z]\.?").all()
    assert (initial["given_name"].str[0] == upper(initial["ref_given_name"]).str[0]).all()
    assert (
        initial["given_name"].str.endswith(".").any()
        and (initial["given_name"].str.len() == 1).any()
    )
    swapped = _only(
        named, "name_swap", GIVEN_KINDS | {"family_replaced", "family_typo", "double_barrel"}
    )
    assert (
        len(swapped) >= 20
        and (upper(swapped["family_name"]) == upper(swapped["ref_given_name"])).all()
    )


def test_multi_field_typos_change_at_least_two_fields(feeds):
    multi = feeds[feeds["kinds"].apply(lambda k: k == {"typo_multi"})]
    assert len(multi) >= 30
    differs = (
        (upper(multi["given_name"]) != upper(multi["ref_given_name"])).fillna(False).astype(int)
        + (upper(multi["family_name"]) != upper(multi["ref_family_name"])).fillna(False).astype(int)
        + (parsed_dob(multi) != multi["true_dob"]).astype(int)
        + (upper(multi["postcode"]) != upper(multi["ref_postcode"])).fillna(False).astype(int)
    )
    assert (differs >= 2).mean() > 0.9


def test_postcode_and_address_errors_change_the_value(feeds):
    replaced = feeds[feeds["kinds"].apply(lambda k: "postcode_replaced" in k)]
    assert len(replaced) >= 20
    norm = upper(replaced["postcode"]).str.replace(" ", "")
    assert (norm != upper(replaced["ref_postcode"]).str.replace(" ", "")).all()
    pseudo = feeds[feeds["kinds"].apply(lambda k: "postcode_pseudo" in k)]
    normalised = upper(pseudo["postcode"]).str.replace(" ", "")
    assert normalised.isin([p.replace(" ", "") for p in PSEUDO_POSTCODES]).all()
    missing = feeds[feeds["kinds"].apply(lambda k: "postcode_missing" in k)]
    assert len(missing) >= 20 and missing["postcode"].isna().all()
    address = feeds[feeds["kinds"].apply(lambda k: "address_replaced" in k)]
    assert (upper(address["address"]) != upper(address["ref_address"])).all()
    unknown = feeds[feeds["kinds"].apply(lambda k: "sex_unknown" in k)]
    assert (
        len(unknown) >= 20 and not unknown["sex"].isin(["M", "F", "1", "2", "Male", "Female"]).any()
    )


def test_day_month_swaps_at_their_rate_among_eligible_dates(feeds):
    true = pd.to_datetime(feeds["true_dob"])
    eligible = feeds[(true.dt.day <= 12) & (true.dt.day != true.dt.month)]
    eligible = eligible[
        eligible["kinds"].apply(lambda k: not k & {"dob_wrong", "dob_impossible", "dob_missing"})
    ]
    swapped = eligible["kinds"].apply(lambda k: "dob_swap" in k).sum()
    expected = 0.05 * len(eligible)  # HARSH_RECORD["dob_swap"]: no subgroup factor
    assert abs(swapped - expected) <= 0.08 * expected + 3.5 * np.sqrt(expected), (swapped, expected)
    ineligible = feeds[(true.dt.day > 12) & feeds["kinds"].apply(lambda k: "dob_wrong" not in k)]
    assert not ineligible["kinds"].apply(lambda k: "dob_swap" in k).any()
