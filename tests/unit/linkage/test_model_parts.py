"""Config, comparisons, blocking rules and the household guard: pure functions."""

import pytest

from dl_platform.linkage.blocking import to_master_rules, training_rules, within_rules
from dl_platform.linkage.comparisons import build_comparisons
from dl_platform.linkage.config import LinkageConfig, load_config, parse_config
from dl_platform.linkage.predict import guard_sql, guard_terms
from dl_platform.linkage.train import needs_training

ALL = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode", "address")


def test_config_file_parses_and_unknown_keys_fail():
    cfg = load_config()
    # Shipped thresholds are chosen by the model; a number in the file fixes one.
    assert cfg.master_match_probability is None and cfg.bucket_match_probability is None
    assert parse_config({"thresholds": {"bucket_match_probability": 0.9}}).bucket_match_probability == 0.9
    with pytest.raises(ValueError, match="unknown key"):
        parse_config({"thresholds": {"bucket_probability": 0.9}})
    assert cfg.with_overrides(master_match_probability=None) == cfg


def test_comparisons_follow_available_fields():
    names = [c["output_column_name"] for c in build_comparisons(ALL)]
    assert names == ["nhs_number", "given_name", "date_of_birth", "sex", "family_location"]
    no_names = [c["output_column_name"] for c in build_comparisons(("date_of_birth", "postcode"))]
    assert no_names == ["date_of_birth", "family_location"]
    pc = build_comparisons(("postcode",))[0]
    assert not any("address_l" in lvl["sql_condition"] for lvl in pc["comparison_levels"])
    assert not any("family_name_l" in lvl["sql_condition"] for lvl in pc["comparison_levels"])


def test_family_name_and_place_are_one_piece_of_evidence():
    """A household's shared name and address are one agreement, and a record with no family
    name (a hospital feed) is compared on place in levels of its own."""
    combined = build_comparisons(("family_name", "postcode", "address"))[0]
    labels = [lvl["label_for_charts"] for lvl in combined["comparison_levels"]]
    assert labels[1] == "Same family name, same address"
    assert "No family name to compare, same postcode" in labels
    assert labels.index("Different family name, same postcode (a partner, a name change)") > labels.index(
        "No family name to compare, elsewhere")


def test_dob_comparison_has_swap_and_one_field_levels():
    dob = build_comparisons(("date_of_birth",))[0]
    labels = [lvl["label_for_charts"] for lvl in dob["comparison_levels"]]
    assert "Day and month transposed" in labels and "One of day, month, year differs" in labels
    assert "One digit mistyped or two adjacent digits swapped" in labels


def test_blocking_never_uses_dob_alone_within_and_skips_missing_fields():
    assert "l.date_of_birth = r.date_of_birth" not in within_rules(ALL)
    assert "l.date_of_birth = r.date_of_birth and r.is_master" in to_master_rules(ALL)
    rules = training_rules(("date_of_birth", "postcode"))
    assert rules == ["l.date_of_birth = r.date_of_birth and l.postcode = r.postcode"]
    assert not any("nhs_number" in r for r in within_rules(("given_name", "family_name")))


def test_guards_are_off_by_default_and_each_can_be_switched_on():
    settings = {"comparisons": build_comparisons(ALL)}
    assert guard_sql(settings, load_config()) == "true"
    strict = LinkageConfig(require_dob_or_given_name=True, veto_on_dob_disagreement=True,
                           veto_on_given_name_disagreement=True)
    terms = guard_terms(settings, strict)
    assert set(terms) == {"require_dob_or_given_name", "veto_on_dob_disagreement", "veto_on_given_name_disagreement"}
    assert terms["veto_on_dob_disagreement"] == "gamma_date_of_birth <> 0"
    assert "gamma_nhs_number > 0" in terms["require_dob_or_given_name"]


def test_name_comparisons_see_initials_and_a_swap_in_both_names():
    given, family = build_comparisons(("given_name", "family_name", "postcode"))
    given_labels = [lvl["label_for_charts"] for lvl in given["comparison_levels"]]
    family_labels = [lvl["label_for_charts"] for lvl in family["comparison_levels"]]
    assert "Initial only, agreeing" in given_labels
    assert "Given and family names swapped" in given_labels
    # A swap is evidence once: the family comparison has no level of its own for it.
    assert not any("swapped" in label.lower() for label in family_labels)
    # No level forbids a link: the last level of each is the trained "else".
    assert given["comparison_levels"][-1]["sql_condition"] == "ELSE"


def test_retraining_reasons():
    cfg = LinkageConfig()
    meta = {"fields": list(ALL), "model_version": cfg.model_version}
    assert needs_training(meta, ALL, cfg, force=False) is None
    assert needs_training(meta, ALL, cfg, force=True) == "requested"
    assert needs_training(None, ALL, cfg, force=False) == "no saved model"
    assert needs_training(meta, ALL[:-1], cfg, force=False) == "evidence fields changed"


def test_retraining_on_data_drift_but_not_on_a_small_delivery():
    cfg = LinkageConfig()
    trained = {"records": 100_000, "nhs_number": 90_000, "given_name": 99_000, "family_name": 99_000,
               "date_of_birth": 98_000, "sex": 100_000, "postcode": 95_000, "address": 0}
    meta = {"fields": list(ALL), "model_version": cfg.model_version, "trained_on": trained}
    delivery = {k: v + v // 100 for k, v in trained.items()}  # 1% more records, same shape
    assert needs_training(meta, ALL, cfg, False, delivery) is None
    doubled = {k: 2 * v for k, v in trained.items()}
    assert needs_training(meta, ALL, cfg, False, doubled).startswith("data drift: 200000 records, 2.0x")
    fewer_nhs = dict(trained, records=110_000, nhs_number=80_000)  # 90% -> 73% carry an NHS number
    assert needs_training(meta, ALL, cfg, False, fewer_nhs) == "data drift: nhs_number completeness moved by -17%"
    assert needs_training(meta, ALL, cfg.with_overrides(retrain_completeness_shift=0.5), False, fewer_nhs) is None
    # a small data set never retrains itself: the saved model is better than one trained on it
    small = {k: v // 100 for k, v in fewer_nhs.items()}
    assert needs_training(meta, ALL, cfg, False, small) is None


def test_search_rules_drop_only_rules_another_rule_implies():
    from dl_platform.linkage.blocking import RULES, search_rules

    rules = to_master_rules(ALL)
    kept = search_rules(rules)
    assert RULES["dob_postcode"][1] in rules and RULES["dob_postcode"][1] not in kept
    assert len(kept) == len(rules) - 1
    no_outward = [r for r in rules if r != RULES["dob_outward"][1]]
    assert search_rules(no_outward) == no_outward  # nothing implies dob_postcode without dob_outward


def test_one_edit_agrees_with_damerau_levenshtein_on_random_strings():
    """The cheap form must give exactly Splink's `damerau_levenshtein(a, b) <= 1`."""
    import random

    import duckdb

    from dl_platform.linkage.comparisons import one_edit

    rng = random.Random(7)
    pairs = [(None, "A"), ("A", None), (None, None), ("", ""), ("", "A")]
    for _ in range(20_000):
        a = "".join(rng.choice("AB12") for _ in range(rng.randint(0, 7)))
        b, op = list(a), rng.randint(0, 4)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.choice("AB12")
        elif op == 1:
            b.insert(rng.randint(0, len(b)), rng.choice("AB12"))
        elif op == 2 and b:
            b.pop(rng.randrange(len(b)))
        elif op == 3 and len(b) > 1:
            i = rng.randrange(len(b) - 1)
            b[i], b[i + 1] = b[i + 1], b[i]
        elif op == 4:
            b = list("".join(rng.choice("AB12") for _ in range(rng.randint(0, 7))))
        pairs.append((a, "".join(b)))
    conn = duckdb.connect()
    conn.execute("create table t (a varchar, b varchar)")
    conn.executemany("insert into t values (?, ?)", pairs)
    disagree, swaps = conn.execute(
        f"""select count(*) filter (where coalesce({one_edit('a', 'b')}, false)
                                    <> coalesce(damerau_levenshtein(a, b) <= 1, false)),
                   count(*) filter (where {one_edit('a', 'b')} and levenshtein(a, b) = 2)
            from t"""
    ).fetchall()[0]
    assert disagree == 0
    assert swaps > 100  # the transposition branch was exercised


def test_broad_blocks_to_the_master_reach_master_records_only():
    """A date of birth, a postcode or a name alone pairs each residual record with every known
    record sharing it (20M pairs at 1M persons): such blocks are restricted to master records."""
    from dl_platform.linkage.blocking import RULES, TO_MASTER

    for name in TO_MASTER:
        fields, sql = RULES[name]
        broad = set(fields) in ({"date_of_birth"}, {"postcode"}, {"given_name", "family_name"})
        assert not broad or "r.is_master" in sql, name
