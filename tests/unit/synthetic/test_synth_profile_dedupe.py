"""The dedupe profile: its own registry, no master, no NHS numbers, 1-10 records a person."""

from __future__ import annotations

import pandas as pd
import pytest

from dl_platform.sources.dates import IMPOSSIBLE_DATE, date_issues
from tests.unit.synthetic.profile_runs import DUPLICATE, assert_rate, parsed_dob, upper


@pytest.fixture(scope="module")
def dedupe(profile_run):
    return profile_run("dedupe")


def _is_dup(frame: pd.DataFrame) -> pd.Series:
    return frame["kinds"].apply(lambda k: DUPLICATE in k)


def test_registry_has_no_master_and_no_nhs_numbers(dedupe):
    registry = dedupe.registry
    assert registry.master is None and len(list(registry)) >= 2
    assert all(s.role == "contributing" and "nhs_number" not in s.identifiers for s in registry)


def test_deliveries_land_per_source_with_the_mapped_columns_only(dedupe):
    for source in dedupe.registry:
        files = sorted((dedupe.out / "landing" / source.name).glob("*.csv"))
        assert files, source.name
        for path in files:
            header = path.read_bytes().split(b"\n", 1)[0].decode("ascii").split(",")
            assert set(source.identifiers.values()) <= set(header), path.name
            assert not [c for c in header if "nhs" in c.lower()], path.name
    assert {p.name for p in dedupe.out.iterdir() if p.is_dir()} == {"landing"}
    assert set(dedupe.truth["source"]) == {s.name for s in dedupe.registry}
    assert dedupe.records["person_key"].notna().all()


def test_every_person_has_one_original_and_up_to_nine_duplicates(dedupe):
    rec = dedupe.records
    per_person = rec.groupby("person_key").size()
    assert per_person.index.nunique() == len(dedupe.persons)
    assert per_person.between(1, 10).all()
    assert (per_person == 1).mean() > 0.45 and (per_person >= 6).sum() >= 20
    originals = rec[~_is_dup(rec)]
    assert originals["person_key"].is_unique and len(originals) == len(dedupe.persons)
    assert (originals["source"] == "client_register").all()
    dups = rec[_is_dup(rec)]
    assert set(dups["source"]) == {"client_register", "referrals"}


@pytest.mark.parametrize(
    "kind",
    [
        "given_replaced",
        "family_replaced",
        "given_typo",
        "given_initial",
        "name_swap",
        "typo_multi",
        "given_missing",
        "dob_wrong",
        "dob_digit",
        "dob_impossible",
        "postcode_replaced",
        "postcode_missing",
        "address_replaced",
    ],
)
def test_duplicates_carry_the_harsh_errors_at_their_rates(dedupe, kind):
    assert_rate(dedupe, kind)


def test_duplicates_are_damaged_and_originals_mostly_clean(dedupe):
    rec = dedupe.records
    dups = rec[_is_dup(rec)]
    damaged = dups["kinds"].apply(lambda k: bool(k - {DUPLICATE}))
    assert damaged.mean() > 0.3
    assert (rec.loc[~_is_dup(rec), "errors"] == "").mean() > 0.8
    impossible = dups[dups["kinds"].apply(lambda k: "dob_impossible" in k)]
    assert (
        len(impossible) >= 20
        and (date_issues(impossible["date_of_birth"]) == IMPOSSIBLE_DATE).all()
    )
    replaced = dups[dups["kinds"].apply(lambda k: k - {DUPLICATE} == {"given_replaced"})]
    assert len(replaced) >= 20
    assert (upper(replaced["given_name"]) != upper(replaced["ref_given_name"])).all()
    clean_dob = dups[
        dups["kinds"].apply(lambda k: not any(x.startswith("dob") or x == "typo_multi" for x in k))
    ]
    assert (parsed_dob(clean_dob) == clean_dob["true_dob"]).all()


def test_relatives_and_twins_make_precision_hard(dedupe):
    rec = dedupe.records
    originals = rec[~_is_dup(rec) & (rec["errors"] == "")]
    shared = originals.groupby(["household_id", "family_name", "postcode"]).size()
    assert (shared >= 2).sum() >= 200  # relatives sharing surname and postcode
    twins = dedupe.persons[dedupe.persons["is_twin"]]
    assert twins.groupby("household_id").size().ge(2).sum() >= 20
    twin_records = originals[originals["is_twin"]]
    pairs = twin_records.groupby("household_id")
    assert (
        (pairs["true_dob"].nunique() == 1) & (pairs["given_name"].nunique() == pairs.size())
    ).any()
