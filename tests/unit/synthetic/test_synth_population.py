"""Corruption, subgroup bias and hard negatives are present as configured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dl_platform.synthetic.geography import seeds_dir
from dl_platform.synthetic.nhs_numbers import is_valid

NHS_COLUMN = {
    "gp_registrations": "nhs_no",
    "hes_apc": "NEWNHSNO",
    "ecds": "nhs_number",
    "asc_cld": "nhs_number",
    "study_cohort": "nhs_number",
}


def _nhs_missing(linked, source: str) -> pd.Series:
    return linked[source][NHS_COLUMN[source]].isna()


def test_missing_nhs_numbers_at_configured_levels(linked):
    assert not _nhs_missing(linked, "pds").any() if "pds" in NHS_COLUMN else True
    assert 0.30 <= _nhs_missing(linked, "asc_cld").mean() <= 0.55
    assert 0.005 <= _nhs_missing(linked, "hes_apc").mean() <= 0.05
    assert 0.02 <= _nhs_missing(linked, "ecds").mean() <= 0.10


def test_mistyped_nhs_numbers_mostly_fail_modulus_11(linked):
    frame = pd.concat(
        [
            linked[s][[NHS_COLUMN[s], "true_nhs_number"]].set_axis(["nhs", "true"], axis=1)
            for s in NHS_COLUMN
        ]
    )
    wrong = frame[frame["nhs"].notna() & (frame["nhs"] != frame["true"])]
    assert 0.002 < len(wrong) / len(frame) < 0.03
    valid = is_valid(wrong["nhs"].astype(np.int64).to_numpy())
    assert valid.mean() < 0.3  # typos fail; a few are a household member's valid number


def test_missing_nhs_is_more_common_in_the_configured_subgroups(linked):
    frame = pd.concat(
        [
            linked[s].assign(missing=_nhs_missing(linked, s))
            for s in ("hes_apc", "ecds", "asc_cld", "gp_registrations")
        ]
    )
    by_group = frame.groupby("ethnic_group")["missing"].mean()
    assert by_group[["Asian", "Black", "Other"]].min() > by_group["White"]
    by_migrant = frame.groupby("is_recent_migrant")["missing"].mean()
    assert by_migrant[True] > 1.5 * by_migrant[False]
    by_young = frame.groupby(frame["age_band"] == "18-30")["missing"].mean()
    assert by_young[True] > by_young[False]


def test_name_corruption_and_nicknames_from_the_seed(linked):
    asc = linked["asc_cld"]
    differs = asc["first_name"].fillna("") != asc["true_given_name"]
    assert 0.05 < differs.mean() < 0.4
    nick = pd.read_csv(seeds_dir() / "ref_nicknames.csv", dtype=str)
    formal = dict(zip(nick["nickname"], nick["formal_name"], strict=True))
    both = pd.concat(
        [
            linked[s][[g, "true_given_name"]].set_axis(["given", "true"], axis=1)
            for s, g in (("asc_cld", "first_name"), ("gp_registrations", "forename"))
        ]
    )
    resolved = both["given"].str.upper().map(formal)
    nicknamed = (
        resolved.notna() & (resolved == both["true"].str.upper()) & (both["given"] != both["true"])
    )
    assert nicknamed.sum() >= 10
    swaps = pd.concat(
        [
            linked[s][[g, "true_family_name"]].set_axis(["given", "true"], axis=1)
            for s, g in (("asc_cld", "first_name"), ("gp_registrations", "forename"))
        ]
    )
    assert (swaps["given"] == swaps["true"]).sum() >= 1  # given <-> family swapped


def test_day_month_swaps_and_stale_postcodes(linked, deliveries):
    gp = linked["gp_registrations"]
    true = pd.to_datetime(gp["true_date_of_birth"])
    got = pd.to_datetime(gp["dob"], format="%d/%m/%Y")
    swapped = (got != true) & (got.dt.day == true.dt.month) & (got.dt.month == true.dt.day)
    assert swapped.sum() >= 1
    pds = linked["pds"][["person_key", "postcode"]].rename(columns={"postcode": "pds_postcode"})
    hes = linked["hes_apc"].merge(pds, on="person_key")
    assert (hes["HOMEADD"].notna() & (hes["HOMEADD"] != hes["pds_postcode"])).mean() > 0.03
    assert deliveries["ecds"]["postcode"].isin(["ZZ99 3VZ", "ZZ99 3CZ"]).any()


def test_twins_share_birth_date_household_but_not_names_or_numbers(persons, linked):
    twins = persons[persons["is_twin"]]
    assert len(twins) >= 2
    pairs = twins.groupby("household_id")
    assert (pairs["date_of_birth"].nunique() == 1).all()
    pds = linked["pds"]
    twin_pds = pds[pds["person_key"].isin(twins["person_key"])]
    per_hh = twin_pds.groupby("household_id")
    assert (per_hh["given_name"].nunique() == per_hh.size()).all()
    assert (per_hh["family_name"].nunique() == 1).mean() > 0.8
    assert (per_hh["postcode"].nunique() == 1).mean() > 0.8
    assert (per_hh["nhs_number"].nunique() == per_hh.size()).all()


def test_households_share_addresses_and_deprivation_is_tilted(persons, linked):
    pds = linked["pds"]
    assert pds.groupby(["postcode", "address_line_1"]).size().max() >= 3
    assert persons["household_id"].nunique() < 0.6 * len(persons)
    decile = persons.groupby(persons["ethnic_group"] == "White")["imd_decile"].mean()
    assert decile[False] < decile[True]
    shares = persons["ethnic_group"].value_counts(normalize=True)
    assert 0.72 < shares["White"] < 0.9 and shares["Asian"] > shares["Black"]


def test_no_activity_after_death(linked, persons):
    death = persons.set_index("person_key")["date_of_death"].dropna().astype(str)
    for source, column in (("hes_apc", "EPIEND"), ("ecds", "arrival_date")):
        frame = linked[source]
        after = frame["person_key"].map(death)
        assert (frame.loc[after.notna(), column] <= after.dropna()).all(), source
    dead_keys = set(death.index)
    pds = linked["pds"]
    in_pds_dead = pds["person_key"].isin(dead_keys)
    assert in_pds_dead.any()
    assert (
        pds.loc[in_pds_dead, "date_of_death_x"] == pds.loc[in_pds_dead, "person_key"].map(death)
    ).all()  # PDS carries the true date of death
    gp = linked["gp_registrations"]
    current_dead = gp["person_key"].isin(dead_keys) & gp["deregistration_date"].isna()
    assert not current_dead.any()
    assert (gp.loc[gp["deregistration_reason"] == "death", "person_key"].isin(dead_keys)).all()


def test_brand_new_persons_appear_only_in_the_pending_hes_refresh(truth, persons, deliveries):
    outsiders = set(persons.loc[~persons["in_pds"], "person_key"])
    assert outsiders
    hes = deliveries["hes_apc"]
    pending_ids = set(hes.loc[hes["_stage"] == "pending", "EPIKEY"])
    rows = truth[truth["person_key"].isin(outsiders)]
    assert len(rows) >= 1
    assert (rows["source"] == "hes_apc").all() and rows["record_id"].isin(pending_ids).all()
    share = len(pending_ids) / (hes["_stage"] == "landing").sum()
    assert 0.005 < share < 0.03
