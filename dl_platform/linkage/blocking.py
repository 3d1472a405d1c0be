"""Blocking rules: which record pairs are scored at all.

Never date of birth alone across everything (at 1M persons that is ~100M pairs and
fails, DOMAIN.md). Searching residual records against the master is different: the
residual side is small, so a date-of-birth block there costs residual x ~30 pairs and
recovers records whose postcode and names changed, and postcode blocks recover records
carrying no names whose date of birth is wrong or missing (0.1% of true links in the harsh
profile). Names against every known record rather than the master's would be 20M pairs at 1M
persons for a few dozen records.
"""

from __future__ import annotations

RULES: dict[str, tuple[tuple[str, ...], str]] = {
    # name: (fields required, SQL condition)
    "nhs_number": (("nhs_number",), "l.nhs_number = r.nhs_number"),
    "dob_postcode": (("date_of_birth", "postcode"), "l.date_of_birth = r.date_of_birth and l.postcode = r.postcode"),
    "dob_outward": (
        ("date_of_birth", "postcode"),
        "l.date_of_birth = r.date_of_birth and l.postcode_outward = r.postcode_outward",
    ),
    "dob_family_initial": (
        ("date_of_birth", "family_name"),
        "l.date_of_birth = r.date_of_birth and left(l.family_name, 1) = left(r.family_name, 1)",
    ),
    "names": (
        ("given_name", "family_name"),
        "l.given_name_formal = r.given_name_formal and l.family_name = r.family_name",
    ),
    "family_postcode": (("family_name", "postcode"), "l.family_name = r.family_name and l.postcode = r.postcode"),
    "names_postcode": (
        ("given_name", "family_name", "postcode"),
        "l.given_name_formal = r.given_name_formal and l.family_name = r.family_name and l.postcode = r.postcode",
    ),
    "dob_given": (
        ("date_of_birth", "given_name"),
        "l.date_of_birth = r.date_of_birth and l.given_name_formal = r.given_name_formal",
    ),
    "dob_sex": (("date_of_birth", "sex"), "l.date_of_birth = r.date_of_birth and l.sex = r.sex"),
    # Against master records only: the master holds one record a person, so these stay cheap.
    # Names against every known record are residual x ~80 pairs at 1M persons (20M) for a
    # few dozen records the master's own names would not reach.
    "names_master": (
        ("given_name", "family_name"),
        "l.given_name_formal = r.given_name_formal and l.family_name = r.family_name and r.is_master",
    ),
    "dob_master": (("date_of_birth",), "l.date_of_birth = r.date_of_birth and r.is_master"),
    # A record without names whose date of birth is wrong is reachable only through its postcode:
    # the master records there of the same sex (half of ~50), or all of them when it has no date.
    "postcode_sex_master": (("postcode", "sex"), "l.postcode = r.postcode and l.sex = r.sex and r.is_master"),
    "postcode_no_dob_master": (("postcode",), "l.postcode = r.postcode and l.date_of_birth is null and r.is_master"),
}
# Rules whose pairs another rule already generates (same postcode => same outward code): left
# out when only the set of reachable records matters (`search_rules`).
IMPLIED_BY = {"dob_postcode": "dob_outward"}
TRAINING = ("nhs_number", "dob_postcode")
TRAINING_WITHOUT_NHS = ("dob_postcode", "names_postcode", "dob_given")
# Records compared among themselves (the bucket). No family-name + postcode block: it pairs
# every member of a household with every other, and without a master to choose between
# candidates a few wrong edges chain the household into one person.
WITHIN = ("nhs_number", "dob_postcode", "dob_outward", "dob_family_initial", "names", "dob_given")
# Residual records searched against master persons: each record joins its best candidate,
# so household blocks only add candidates to choose from.
TO_MASTER = tuple(n for n in WITHIN if n != "names") + (
    "names_master", "family_postcode", "dob_master", "postcode_sex_master", "postcode_no_dob_master",
)


def rules_for(names: tuple[str, ...], fields: tuple[str, ...]) -> list[str]:
    """SQL blocking rules among `names` whose fields are all present.

    Args:
        names: Rule names from `RULES`, in priority order.
        fields: Evidence fields with values in the data.

    Returns:
        Blocking rule SQL strings for Splink (`l.` / `r.` prefixed).
    """
    have = set(fields)
    return [RULES[n][1] for n in names if set(RULES[n][0]) <= have]


def training_rules(fields: tuple[str, ...]) -> list[str]:
    """Cheap, precise blocks for EM, just enough that every comparison is learnt once.

    A block cannot teach the comparisons it fixes: NHS number teaches all but itself,
    DOB + postcode then teaches NHS number. Without NHS numbers every block holds some
    non-matches EM takes for matches, so each comparison is taught where those are rarest:
    names by DOB + postcode (only twins), date of birth by name + postcode (only a child named
    after a parent), place by DOB + given name (only coincidences), rather than by the names
    block, where everyone called JOHN SMITH would teach that dates of birth often disagree.
    """
    names = TRAINING if "nhs_number" in fields else TRAINING_WITHOUT_NHS
    return rules_for(names, fields)


def within_rules(fields: tuple[str, ...]) -> list[str]:
    """Rules for records compared among themselves (bucket, baseline)."""
    return rules_for(WITHIN, fields)


def to_master_rules(fields: tuple[str, ...]) -> list[str]:
    """Rules for residual records searched against the master (small left side)."""
    return rules_for(TO_MASTER, fields)


def adopt_rules(fields: tuple[str, ...]) -> list[str]:
    """Rules for new master records searched against bucket records (`cascade.adopt`): the
    right side holds no master record, so no master-only rule; each record joins its best
    candidate, so the household block only adds candidates, as in `to_master_rules`."""
    return rules_for(WITHIN + ("family_postcode",), fields)


def search_rules(rules: list[str]) -> list[str]:
    """`rules` without those another rule in the list implies: the same reachable records for
    fewer scans of a large table (`predict.reachable_sql`)."""
    implied = {RULES[a][1] for a, b in IMPLIED_BY.items() if RULES[b][1] in rules}
    return [r for r in rules if r not in implied]
