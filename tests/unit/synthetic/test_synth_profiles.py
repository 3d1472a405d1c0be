"""Error profiles as data: catalogue, registries, the CLI, determinism, gentle unchanged."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from dl_platform.cli import main
from dl_platform.settings import DEFAULT_SOURCES_FILE
from dl_platform.sources.registry import load_registry
from dl_platform.synthetic import config as cfg
from dl_platform.synthetic.error_kinds import BY_NAME, GENTLE_KINDS, KINDS
from dl_platform.synthetic.profiles import PROFILES, describe_all, get_profile, registry_path
from dl_platform.synthetic.sources import BUILDERS, FIELDS

MAIN_HARSH_RATES = {
    "given_replaced": 0.03,
    "family_replaced": 0.02,
    "name_swap": 0.02,
    "dob_wrong": 0.02,
    "dob_digit": 0.02,
    "dob_impossible": 0.015,
    "typo_multi": 0.02,
    "given_initial": 0.03,
}


def test_registries_match_the_fields_each_source_delivers():
    for name in PROFILES:
        registry = load_registry(registry_path(name))
        for source in registry:
            assert set(FIELDS[source.name]) == set(source.identifier_fields) - {"record_id"}, (
                source.name
            )
    assert registry_path("gentle") == DEFAULT_SOURCES_FILE
    assert registry_path("dedupe").name == "dedupe.yml" and registry_path("dedupe").exists()


def test_every_rate_is_a_known_kind_on_a_delivered_field():
    for profile in PROFILES.values():
        assert all(b in BUILDERS for b in profile.builders), profile.name
        for key, rates in profile.rates.items():
            source = key.split(":")[0]
            for kind, rate in rates.items():
                assert kind in BY_NAME, (profile.name, key, kind)
                assert 0 <= rate <= 1, (profile.name, key, kind)
                if rate > 0 and source in FIELDS:
                    assert set(BY_NAME[kind].fields) & set(FIELDS[source]), (
                        profile.name,
                        key,
                        kind,
                    )


def test_gentle_is_the_original_rates_and_harsh_is_harsher_everywhere():
    gentle, harsh = get_profile("gentle"), get_profile("harsh")
    assert gentle.rates == {s: dict(r) for s, r in cfg.CORRUPTION_RATES.items()}
    assert {k for r in gentle.rates.values() for k, v in r.items() if v > 0} <= GENTLE_KINDS
    for source in ("gp_registrations", "hes_apc", "ecds", "asc_cld", "study_cohort"):
        for kind, rate in gentle.rates[source].items():
            assert harsh.rates[source].get(kind, 0) >= rate, (source, kind)
    assert harsh.rates["pds"] == gentle.rates["pds"]  # the master stays as it was
    for kind, rate in MAIN_HARSH_RATES.items():
        assert harsh.rates["gp_registrations"][kind] == rate, kind
    for source in ("hes_apc", "ecds"):
        assert harsh.rates[source]["nhs_missing"] == 0.05
        assert harsh.rates[source]["nhs_transposed"] == 0.01
        assert (
            harsh.rates[source]["nhs_other_person"] + harsh.rates[source]["nhs_random_person"]
            >= 0.005
        )
        assert "given_replaced" not in harsh.rates[source]  # HES and ECDS carry no names


def test_household_errors_sit_between_gentle_and_harsh():
    gentle, household, harsh = (
        get_profile(n).rates["asc_cld"] for n in ("gentle", "household", "harsh")
    )
    for kind in ("given_replaced", "dob_wrong", "dob_impossible", "name_swap"):
        assert gentle.get(kind, 0) < household[kind] < harsh[kind], kind


def test_list_profiles_prints_every_profile_and_kind(capsys):
    assert main(["synth", "--list-profiles"]) == 0
    printed = capsys.readouterr().out
    assert printed == describe_all() + "\n"
    for name in PROFILES:
        assert f"{name}: " in printed
    for kind in KINDS:
        assert kind.name in printed
    assert "dedupe.yml" in printed and "3" in printed.split("given_replaced", 1)[1].splitlines()[0]


def test_a_profile_with_its_own_registry_says_which_to_use(tmp_path, capsys):
    assert main(["synth", "--persons", "200", "--profile", "dedupe", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"set DL_SOURCES_FILE={registry_path('dedupe')}" in printed
    assert (
        main(["synth", "--persons", "200", "--profile", "harsh", "--out", str(tmp_path / "h")]) == 0
    )
    assert "DL_SOURCES_FILE" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["synth", "--profile", "nope"])


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("profile", ["harsh", "household", "dedupe"])
def test_each_profile_is_deterministic_and_differs_from_gentle(tmp_path, profile):
    args = ["synth", "--persons", "400", "--seed", "5", "--profile"]
    for name in ("a", "b"):
        assert main([*args, profile, "--out", str(tmp_path / name)]) == 0
    main([*args, "gentle", "--out", str(tmp_path / "g")])
    first = _digests(tmp_path / "a")
    assert first == _digests(tmp_path / "b") and len(first) >= 4
    gentle = _digests(tmp_path / "g")
    feeds = [
        k
        for k in first
        if k.startswith("landing/")
        and k.split("/")[1] not in ("pds", "national_opt_out", "type1_opt_out")
    ]
    assert feeds and all(first[k] != gentle.get(k) for k in feeds)
    if profile == "harsh":  # same people, same master register: only the feeds are harsher
        assert first["landing/pds/pds_2025-03-31.csv"] == gentle["landing/pds/pds_2025-03-31.csv"]


def test_gentle_records_carry_only_the_original_kinds(truth):
    kinds = set(truth["errors"].str.split(";").explode()) - {""}
    assert kinds and kinds <= GENTLE_KINDS
    assert (truth["errors"] != "").mean() > 0.05


def test_a_fresh_profile_replaces_the_previous_one_in_the_same_folder(tmp_path):
    main(["synth", "--persons", "300", "--out", str(tmp_path)])
    main(["synth", "--persons", "300", "--profile", "dedupe", "--out", str(tmp_path)])
    left = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    assert {p.parent.name for p in left} == {"client_register", "referrals"}
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert set(truth["source"]) == {"client_register", "referrals"}
