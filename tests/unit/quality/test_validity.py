"""Identifier validity on tiny series, cross-checked against the nhs-number package."""

import nhs_number
import pandas as pd

from dl_platform.quality.validity import nhs_number_valid, postcode_valid, sex_normalised


def test_modulus_11_agrees_with_the_nhs_number_package():
    values = ["9434765919", "943 476 5919", "943-476-5919", "9876544321", "1111111111", "0000000000",
              "943476591", "", None, "94347659190", "abcdefghij"]
    ours = nhs_number_valid(pd.Series(values, dtype="object")).tolist()
    assert ours[:3] == [True, True, True]
    assert not any(ours[3:])
    for value, valid in zip(values, ours, strict=True):
        if value and len(value.replace(" ", "").replace("-", "")) == 10 and value.replace(" ", "").isdigit():
            same = len(set(value.replace(" ", "").replace("-", ""))) == 1
            assert valid == (nhs_number.is_valid(value.replace(" ", "").replace("-", "")) and not same)


def test_postcodes_pseudo_and_malformed_count_as_invalid():
    got = postcode_valid(pd.Series(["ec1a1bb", "LS1 4AP", "ZZ99 3VZ", "Q1 1AA", "LS1 4CI", None]))
    assert got.tolist() == [True, True, False, False, False, False]


def test_sex_codes_from_every_source_map_to_m_f_or_unknown():
    got = sex_normalised(pd.Series(["1", "2", "M", "f", "Male", "Female", "9", "U", "0", None]))
    assert got.fillna("?").tolist() == ["M", "F", "M", "F", "M", "F", "?", "?", "?", "?"]
