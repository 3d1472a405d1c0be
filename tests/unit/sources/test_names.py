"""Column names from headers and the registry: the names refused, and how they are shown."""

from __future__ import annotations

import pytest

from dl_platform.sources.names import MAX_NAME_LENGTH, column_name_problem, shown_name


@pytest.mark.parametrize(
    "name", ["code", "Clinic Name (site)/ward", "a;b -- c", "pct%é", "FYEAR", "x" * MAX_NAME_LENGTH]
)
def test_real_world_names_are_accepted(name):
    assert column_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ('x" varchar; copy (select 1) to \'/tmp/x\'; --', "quote character"),
        ("it's", "quote character"),
        ("`code`", "quote character"),
        ("site\x00code", "control character"),
        ("site\tcode", "control character"),
        ("site\ncode", "control character"),
        ("site\rcode", "control character"),
        ("site\u2028code", "control character"),
        ("", "empty or blank"),
        ("   ", "empty or blank"),
        ("x" * (MAX_NAME_LENGTH + 1), f"{MAX_NAME_LENGTH + 1} characters long"),
        (12, "not text"),
    ],
)
def test_unusable_names_are_refused_with_the_reason(name, fragment):
    problem = column_name_problem(name)
    assert problem is not None and fragment in problem


def test_shown_name_escapes_and_shortens():
    assert shown_name("site\x00code") == "'site\\x00code'"
    long = "y" * 100
    assert shown_name(long) == repr("y" * 40) + "… (100 characters)"
