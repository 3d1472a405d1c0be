"""NHS number generation: Modulus 11, test range, uniqueness, typos that fail validation."""

import numpy as np
from nhs_number import is_valid as reference_is_valid

from dl_platform.synthetic.nhs_numbers import (
    allocate_nhs_numbers,
    check_digits,
    is_valid,
    mistype,
    to_text,
)


def test_check_digit_matches_domain_examples():
    assert check_digits(np.array([943476591]))[0] == 9
    assert not is_valid(np.array([9876544321]))[0]
    assert not is_valid(np.array([9999999999]))[0]  # all-same-digit passes mod 11 but is not real


def test_allocation_is_unique_valid_and_in_test_range():
    numbers, outside = allocate_nhs_numbers(np.random.default_rng(1), 5000)
    assert outside == 0
    assert len(np.unique(numbers)) == 5000
    assert is_valid(numbers).all()
    assert ((numbers // 10_000_000) == 999).all()
    assert all(reference_is_valid(x) for x in to_text(numbers[:500]))


def test_allocation_beyond_the_test_range_is_reported():
    numbers, outside = allocate_nhs_numbers(np.random.default_rng(1), 950_000)
    assert outside == 950_000 - 909_090
    assert len(np.unique(numbers)) == len(numbers) and is_valid(numbers).all()


def test_mistyped_numbers_fail_modulus_11():
    numbers, _ = allocate_nhs_numbers(np.random.default_rng(2), 2000)
    typed = mistype(np.random.default_rng(3), numbers)
    changed = typed != numbers
    assert changed.mean() > 0.85  # transposing two equal digits changes nothing
    assert not is_valid(typed[changed]).any()
