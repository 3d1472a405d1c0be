"""Splink comparisons for the standardised identifier fields.

Written as settings dictionaries (plain SQL conditions) so the saved model JSON reads
without this code and the levels say exactly what they test. Choices:
- names: exact (term-frequency adjusted: a rare surname is stronger evidence), nickname
  resolved to the formal name, Jaro-Winkler, phonetic code, an initial for the whole name,
  given and family swapped (one level, weighed by how common the given name is; the family
  comparison then treats the family name as not comparable, so a swap counts once);
- date of birth: exact, day/month transposed, one digit mistyped, one of day/month/year
  differs (the typical keying errors), the same year and month when one date is not a real
  date (`19450493` is kept and flagged, and still says April 1945), else;
- every level, "else" included, is weighed by the trained model: no level forbids a link
  (a wholly wrong date or a replaced name is common in real feeds; EM learns how common);
- family name and place (postcode, address) are ONE comparison: household members share a
  family name, a postcode and an address, and counting them as independent agreements lets
  parents, children and siblings score as matches and chains households into one person
  (DOMAIN.md); the postcode levels include one character mistyped, same sector, same district;
- NHS number: exact or not (only valid numbers reach the model).
"""

from __future__ import annotations

from typing import Any

# Output column names of the comparisons (gamma_<name> in predictions), in a fixed order.
COMPARISON_NAMES = ("nhs_number", "given_name", "date_of_birth", "sex", "family_location")
ELSE_LEVEL = 0
POSTCODE_L, POSTCODE_R = '"postcode_l"', '"postcode_r"'
SWAPPED = '"given_name_l" = "family_name_r" and "family_name_l" = "given_name_r"'


def one_edit(a: str, b: str) -> str:
    """SQL: `a` and `b` differ by at most one character typed wrong, added, dropped, or two
    adjacent characters swapped (Damerau-Levenshtein <= 1).

    DuckDB's `damerau_levenshtein` costs ~1 us a pair, eight times `levenshtein`, and a
    comparison evaluates it for every candidate pair (tens of millions at 1M persons). Only a
    swap of two adjacent characters needs it: same length, exactly two positions differ, which
    the cheap `levenshtein` and `hamming` decide first (`hamming` needs equal lengths, so the
    CASE asks in order).
    """
    return (
        f"(case when levenshtein({a}, {b}) <= 1 then true when length({a}) <> length({b}) then false "
        f"when hamming({a}, {b}) <> 2 then false else damerau_levenshtein({a}, {b}) = 1 end)"
    )


def _level(sql: str, label: str, *, null: bool = False, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _null(col: str) -> dict[str, Any]:
    return _level(f'"{col}_l" is null or "{col}_r" is null', "Null", null=True)


def _else() -> dict[str, Any]:
    return _level("ELSE", "All other comparisons")


def nhs_number_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "nhs_number",
        "comparison_description": "Valid NHS number: exact, one keying error, else",
        "comparison_levels": [
            _null("nhs_number"),
            _level('"nhs_number_l" = "nhs_number_r"', "Exact match"),
            _level(one_edit('"nhs_number_l"', '"nhs_number_r"'), "One digit wrong or transposed"),
            _else(),
        ],
    }


def given_name_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "given_name",
        "comparison_description": "Given name: exact, nickname, Jaro-Winkler, phonetic, swapped with family",
        "comparison_levels": [
            _null("given_name"),
            _level('"given_name_l" = "given_name_r"', "Exact match", tf="given_name"),
            _level('"given_name_formal_l" = "given_name_formal_r"', "Same formal name (nickname)"),
            _level('jaro_winkler_similarity("given_name_l", "given_name_r") >= 0.92', "Jaro-Winkler >= 0.92"),
            _level('"given_name_phonetic_l" = "given_name_phonetic_r"', "Phonetic match"),
            _level('jaro_winkler_similarity("given_name_l", "given_name_r") >= 0.8', "Jaro-Winkler >= 0.8"),
            _level(
                '(length("given_name_l") = 1 or length("given_name_r") = 1) '
                'and left("given_name_l", 1) = left("given_name_r", 1)',
                "Initial only, agreeing",
            ),
            # Weighed by how common the given name is: "SMITH JOHN" for "JOHN SMITH" says little
            # when both are common names, much when they are rare.
            _level(SWAPPED, "Given and family names swapped", tf="given_name"),
            _else(),
        ],
    }


def family_name_comparison() -> dict[str, Any]:
    """Family name alone (no source carries a postcode or address)."""
    return {
        "output_column_name": "family_location",
        "comparison_description": "Family name: exact, Jaro-Winkler, phonetic, shared part",
        "comparison_levels": [
            _null("family_name"),
            _level('"family_name_l" = "family_name_r"', "Exact match", tf="family_name"),
            _level(SWAPPED, "Given and family names swapped"),
            _level(
                'jaro_winkler_similarity("family_name_l", "family_name_r") >= 0.92', "Jaro-Winkler >= 0.92"
            ),
            _level('"family_name_phonetic_l" = "family_name_phonetic_r"', "Phonetic match"),
            _level(
                "contains(\"family_name_l\", \"family_name_r\") or contains(\"family_name_r\", \"family_name_l\")",
                "One name contains the other (double-barrelled)",
            ),
            _level('jaro_winkler_similarity("family_name_l", "family_name_r") >= 0.8', "Jaro-Winkler >= 0.8"),
            _else(),
        ],
    }


def date_of_birth_comparison() -> dict[str, Any]:
    y = 'year("date_of_birth_{s}")'
    m = 'month("date_of_birth_{s}")'
    d = 'day("date_of_birth_{s}")'
    same = {part: f"{p.format(s='l')} = {p.format(s='r')}" for part, p in (("y", y), ("m", m), ("d", d))}
    swap = (
        f"{same['y']} and {m.format(s='l')} = {d.format(s='r')} and {d.format(s='l')} = {m.format(s='r')}"
    )
    two_of_three = (
        f"(case when {same['y']} then 1 else 0 end + case when {same['m']} then 1 else 0 end"
        f" + case when {same['d']} then 1 else 0 end) = 2"
    )
    digits = 'strftime("date_of_birth_{s}", \'%Y%m%d\')'
    one_digit = one_edit(digits.format(s="l"), digits.format(s="r"))
    partial = '"date_of_birth_year_month_l" = "date_of_birth_year_month_r"'
    return {
        "output_column_name": "date_of_birth",
        "comparison_description": "Date of birth: exact, day-month swap, one digit, one field differs, "
                                  "same year and month of a date that is not real",
        "comparison_levels": [
            _level(
                '("date_of_birth_l" is null and "date_of_birth_year_month_l" is null) or '
                '("date_of_birth_r" is null and "date_of_birth_year_month_r" is null)',
                "Null", null=True,
            ),
            _level('"date_of_birth_l" = "date_of_birth_r"', "Exact match"),
            _level(swap, "Day and month transposed"),
            _level(one_digit, "One digit mistyped or two adjacent digits swapped"),
            _level(two_of_three, "One of day, month, year differs"),
            _level(partial, "Same year and month (one date not a real date)"),
            _else(),
        ],
    }


def sex_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "sex",
        "comparison_description": "Sex exact",
        "comparison_levels": [_null("sex"), _level('"sex_l" = "sex_r"', "Exact match"), _else()],
    }


def postcode_address_comparison(with_address: bool) -> dict[str, Any]:
    """Postcode (and address, when any source has it) as one piece of evidence (no source
    carries a family name)."""
    levels = [
        _level(
            '("postcode_l" is null and "address_l" is null) or ("postcode_r" is null and "address_r" is null)'
            if with_address else '"postcode_l" is null or "postcode_r" is null',
            "Null",
            null=True,
        )
    ]
    if with_address:
        levels.append(
            _level('"postcode_l" = "postcode_r" and "address_l" = "address_r"', "Postcode and address exact")
        )
    levels += [
        _level('"postcode_l" = "postcode_r"', "Postcode exact", tf="postcode"),
        _level(one_edit(POSTCODE_L, POSTCODE_R), "Postcode with one character wrong"),
        _level('"postcode_sector_l" = "postcode_sector_r"', "Same postcode sector"),
        _level('"postcode_outward_l" = "postcode_outward_r"', "Same postcode district (outward code)"),
        _else(),
    ]
    return {
        "output_column_name": "family_location",
        "comparison_description": "Postcode and address together (household evidence counted once)",
        "comparison_levels": levels,
    }


def _location(with_address: bool) -> dict[str, str]:
    """SQL for how two records' places agree, best first, and when either has no place."""
    near = f'("postcode_sector_l" = "postcode_sector_r" or {one_edit(POSTCODE_L, POSTCODE_R)})'
    return {
        "null": ('("postcode_l" is null and "address_l" is null) or ("postcode_r" is null and "address_r" is null)'
                 if with_address else '"postcode_l" is null or "postcode_r" is null'),
        "address": '"postcode_l" = "postcode_r" and "address_l" = "address_r"',
        "postcode": '"postcode_l" = "postcode_r"',
        "near": near,
        "district": '"postcode_outward_l" = "postcode_outward_r"',
    }


def family_location_comparison(with_address: bool) -> dict[str, Any]:
    """Family name and place as ONE piece of evidence.

    Relatives share a family name AND an address: counted as two independent agreements, a
    sibling or parent looks like a second record of the same person, and clustering without a
    master chains whole households. As one comparison, "same family name at the same address"
    gets the u of exactly that event among random pairs, which household members are part of.
    Records that carry no family name (hospital feeds) are compared on place alone, apart
    from records whose family names differ.
    """
    loc = _location(with_address)
    # Swapped names are weighed once, by the given-name comparison: here they count as a
    # family name that cannot be compared.
    fam = {
        "exact": '"family_name_l" = "family_name_r"',
        "similar": ('(jaro_winkler_similarity("family_name_l", "family_name_r") >= 0.8 '
                    'or "family_name_phonetic_l" = "family_name_phonetic_r" '
                    'or contains("family_name_l", "family_name_r") or contains("family_name_r", "family_name_l"))'),
        "unknown": f'("family_name_l" is null or "family_name_r" is null or ({SWAPPED}))',
    }
    here = f"({loc['address']} or {loc['postcode']})" if with_address else loc["postcode"]
    levels = [_level(f"{fam['unknown']} and ({loc['null']})", "Null", null=True)]
    if with_address:
        levels.append(_level(f"{fam['exact']} and {loc['address']}", "Same family name, same address"))
    levels += [
        _level(f"{fam['exact']} and {loc['postcode']}", "Same family name, same postcode"),
        _level(f"{fam['similar']} and {here}", "Similar family name, same postcode"),
        _level(f"{fam['exact']} and {loc['near']}", "Same family name, postcode one character off or same sector"),
        _level(f"{fam['similar']} and {loc['near']}", "Similar family name, postcode near"),
        _level(fam["exact"], "Same family name, elsewhere or place unknown", tf="family_name"),
        _level(fam["similar"], "Similar family name, elsewhere or place unknown"),
    ]
    if with_address:
        levels.append(_level(f"{fam['unknown']} and {loc['address']}", "No family name to compare, same address"))
    levels += [
        _level(f"{fam['unknown']} and {loc['postcode']}", "No family name to compare, same postcode", tf="postcode"),
        _level(f"{fam['unknown']} and {loc['near']}", "No family name to compare, postcode near"),
        _level(f"{fam['unknown']} and {loc['district']}", "No family name to compare, same district"),
        _level(fam["unknown"], "No family name to compare, elsewhere"),
        _level(here, "Different family name, same postcode (a partner, a name change)"),
        _level(loc["near"], "Different family name, postcode near"),
        _else(),
    ]
    return {
        "output_column_name": "family_location",
        "comparison_description": "Family name and place together (a household's shared name and address counted once)",
        "comparison_levels": levels,
    }


def build_comparisons(fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The comparisons for the evidence fields present in the data.

    Args:
        fields: Evidence fields with values (see `inputs.available_fields`).

    Returns:
        Splink comparison dictionaries, one per usable field, in `COMPARISON_NAMES` order.
    """
    out: list[dict[str, Any]] = []
    if "nhs_number" in fields:
        out.append(nhs_number_comparison())
    if "given_name" in fields:
        out.append(given_name_comparison())
    if "date_of_birth" in fields:
        out.append(date_of_birth_comparison())
    if "sex" in fields:
        out.append(sex_comparison())
    has_place = "postcode" in fields or "address" in fields
    if "family_name" in fields and has_place:
        out.append(family_location_comparison(with_address="address" in fields))
    elif "family_name" in fields:
        out.append(family_name_comparison())
    elif has_place:
        out.append(postcode_address_comparison(with_address="address" in fields))
    return out
