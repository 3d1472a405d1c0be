"""The catalogue of error kinds a synthetic record can carry, in the order they are reported.

Each kind is switched on by a rate in a profile (`profiles.py`) and applied once, in
`corruption.py`. A record's `errors` in truth.parquet lists the kinds that changed its
delivered values, in this order, joined by ';'. A kind that *overwrites* a field (replaced,
missing, pseudo postcode) hides earlier kinds on the same field, which are then not listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from dl_platform.synthetic import config as cfg


@dataclass(frozen=True)
class ErrorKind:
    """One way a source gets an identifier wrong."""

    name: str
    fields: tuple[str, ...]  # standard identifier fields it changes
    doc: str
    overwrites: bool = False
    eligible: str = ""  # the records it can apply to, when not every record


_NHS, _GIVEN, _FAMILY = ("nhs_number",), ("given_name",), ("family_name",)
_DOB, _SEX, _POSTCODE, _ADDRESS = ("date_of_birth",), ("sex",), ("postcode",), ("address",)
_NAMES = ("given_name", "family_name")

KINDS: tuple[ErrorKind, ...] = (
    ErrorKind(
        "duplicate",
        (),
        "a second record of a person in a register meant to hold one "
        "(a master duplicate also carries a second valid NHS number)",
    ),
    ErrorKind(
        "nhs_typo", _NHS, "one digit mistyped or two adjacent digits transposed (fails Modulus 11)"
    ),
    ErrorKind(
        "nhs_transposed", _NHS, "two different adjacent digits transposed (fails Modulus 11)"
    ),
    ErrorKind(
        "nhs_other_person",
        _NHS,
        "a household member's valid number (a parent's on a child's record)",
        True,
        "persons sharing a household",
    ),
    ErrorKind("nhs_random_person", _NHS, "an unrelated person's valid number", True),
    ErrorKind("nhs_missing", _NHS, "NHS number blank", True),
    ErrorKind(
        "given_replaced",
        _GIVEN,
        "given name replaced by another person's given name of the same sex",
        True,
    ),
    ErrorKind(
        "family_replaced", _FAMILY, "family name replaced by another person's family name", True
    ),
    ErrorKind(
        "nickname",
        _GIVEN,
        "the informal name from the nickname seed (Bob for Robert)",
        True,
        "given names with a nickname",
    ),
    ErrorKind(
        "given_typo", _GIVEN, "one keying error: a letter substituted, dropped, doubled or swapped"
    ),
    ErrorKind("family_typo", _FAMILY, "one keying error in the family name"),
    ErrorKind(
        "double_barrel",
        _FAMILY,
        "one part only, or a space for the hyphen",
        False,
        "hyphenated family names",
    ),
    ErrorKind("given_initial", _GIVEN, "given name as its initial, 'J' or 'J.'"),
    ErrorKind("name_swap", _NAMES, "given and family names swapped"),
    ErrorKind(
        "typo_multi",
        ("given_name", "family_name", "date_of_birth", "postcode"),
        "keying errors in two or three of the delivered name, date and postcode fields",
    ),
    ErrorKind("given_missing", _GIVEN, "given name blank", True),
    ErrorKind("family_missing", _FAMILY, "family name blank", True),
    ErrorKind(
        "name_format",
        _NAMES,
        "case, stray spaces, apostrophe, hyphen or accents differ "
        "(standardise_name makes it equal)",
    ),
    ErrorKind("dob_wrong", _DOB, "wholly wrong: another person's (plausible) date of birth", True),
    ErrorKind(
        "dob_swap",
        _DOB,
        "day and month transposed",
        False,
        "dates whose day is 12 or less and differs from the month (~36%)",
    ),
    ErrorKind("dob_digit", _DOB, "one digit mistyped, still a real date"),
    ErrorKind(
        "dob_impossible",
        _DOB,
        "an impossible date as text (31/04, 29/02 in a non-leap year, "
        "month 00 or 13, day 00 or 32-99): delivered, but does not parse",
        True,
    ),
    ErrorKind("dob_missing", _DOB, "date of birth blank", True),
    ErrorKind(
        "dob_format", _DOB, "another accepted shape (ISO, ISO with a time, DD/MM/YYYY, YYYYMMDD)"
    ),
    ErrorKind("sex_unknown", _SEX, "sex not known (U, 9 or blank as the source codes it)", True),
    ErrorKind(
        "postcode_stale",
        _POSTCODE,
        "the previous postcode, after a move",
        True,
        "records of movers dated after the move",
    ),
    ErrorKind("postcode_replaced", _POSTCODE, "another person's (real) postcode", True),
    ErrorKind(
        "postcode_pseudo", _POSTCODE, "a ZZ99 pseudo-postcode (no fixed abode, unknown)", True
    ),
    ErrorKind("postcode_missing", _POSTCODE, "postcode blank", True),
    ErrorKind("postcode_format", _POSTCODE, "lower case or no space (normalisation fixes it)"),
    ErrorKind("address_replaced", _ADDRESS, "another person's address line", True),
)
BY_NAME: dict[str, ErrorKind] = {k.name: k for k in KINDS}
NAMES: tuple[str, ...] = tuple(BY_NAME)

# The kinds of the original generator. They always draw their random numbers (even at rate 0),
# as they did before profiles existed, so the gentle profile's files stay byte-identical;
# every later kind draws only when a profile switches it on.
GENTLE_KINDS = frozenset(cfg.ORIGINAL_KINDS)
