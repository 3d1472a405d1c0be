"""Vectorised NHS numbers: valid Modulus 11, in the never-issued 999 test range.

The 999 000 0000 - 999 999 9999 range holds only 909,090 valid numbers (a check digit of
10 is never issued and 9999999999 is all-same-digit), so populations larger than that
continue downwards into 998..., which is reported by `allocate_nhs_numbers`.
"""

from __future__ import annotations

import numpy as np

WEIGHTS = np.arange(10, 1, -1)
TEST_PREFIX = 999


def digits_of(numbers: np.ndarray, width: int) -> np.ndarray:
    """Split integers into a (n, width) array of decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (numbers.astype(np.int64)[:, None] // powers) % 10


def check_digits(bodies: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit of 9-digit bodies; 10 where the body can never be issued."""
    remainder = (digits_of(bodies, 9) * WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def is_valid(numbers: np.ndarray) -> np.ndarray:
    """Modulus 11 validity of 10-digit integers (all-same-digit numbers are invalid)."""
    numbers = numbers.astype(np.int64)
    digits = digits_of(numbers, 10)
    same = (digits == digits[:, :1]).all(axis=1)
    return (check_digits(numbers // 10) == digits[:, 9]) & ~same


def allocate_nhs_numbers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
    """Draw `n` distinct valid NHS numbers, from the 999 range first.

    Args:
        rng: the generator's random state.
        n: how many numbers.

    Returns:
        (10-digit int64 numbers in random order, how many fell outside the 999 range).
    """
    pool: list[np.ndarray] = []
    available, prefix = 0, TEST_PREFIX
    while available < n:
        bodies = prefix * 1_000_000 + np.arange(1_000_000, dtype=np.int64)
        numbers = bodies * 10 + check_digits(bodies)
        numbers = numbers[(check_digits(bodies) < 10)]
        numbers = numbers[is_valid(numbers)]
        pool.append(numbers)
        available += len(numbers)
        prefix -= 1
    first = pool[0]
    if n <= len(first):
        return rng.choice(first, n, replace=False), 0
    extra = np.concatenate(pool[1:])
    chosen = np.concatenate([first, rng.choice(extra, n - len(first), replace=False)])
    return rng.permutation(chosen), n - len(first)


def mistype(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """Keying errors: half single-digit typos, half adjacent transpositions.

    A single-digit change or a transposition of two different adjacent digits always breaks
    Modulus 11, so these numbers "usually" fail validation (a transposition of equal digits
    leaves the number unchanged, which is realistic too).

    Args:
        rng: random state.
        numbers: 10-digit int64 NHS numbers.

    Returns:
        The mistyped numbers (int64).
    """
    digits = digits_of(numbers, 10).copy()
    rows = np.arange(len(numbers))
    pos = rng.integers(3, 9, len(numbers))  # keep the 999 prefix recognisable
    typo = rng.random(len(numbers)) < 0.5
    shift = rng.integers(1, 10, len(numbers))
    digits[rows[typo], pos[typo]] = (digits[rows[typo], pos[typo]] + shift[typo]) % 10
    t_rows, t_pos = rows[~typo], pos[~typo]
    left, right = digits[t_rows, t_pos].copy(), digits[t_rows, t_pos + 1].copy()
    digits[t_rows, t_pos], digits[t_rows, t_pos + 1] = right, left
    return (digits * 10 ** np.arange(9, -1, -1, dtype=np.int64)).sum(axis=1)


def to_text(numbers: np.ndarray) -> np.ndarray:
    """10-character zero-padded strings."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return np.array([], dtype=object)
    return np.char.zfill(numbers.astype(str), 10).astype(object)


def spare_nhs_numbers(rng: np.random.Generator, n: int, used: np.ndarray) -> np.ndarray:
    """`n` distinct valid numbers none of `used` holds (second numbers for master duplicates).

    Args:
        rng: random state.
        n: how many numbers.
        used: numbers already allocated (int64).

    Returns:
        int64 numbers, from the 999 range while it has room, then 998 and below.
    """
    taken = set(used.tolist())
    out: list[int] = []
    prefix = TEST_PREFIX
    while len(out) < n and prefix > 0:
        bodies = prefix * 1_000_000 + rng.permutation(1_000_000).astype(np.int64)
        numbers = bodies * 10 + check_digits(bodies)
        numbers = numbers[(check_digits(bodies) < 10)]
        numbers = numbers[is_valid(numbers)]
        out.extend(int(x) for x in numbers[: 4 * n + 100] if int(x) not in taken)
        prefix -= 1
    return np.array(out[:n], dtype=np.int64)


def transpose(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """Two different adjacent digits of the body swapped: the number always fails Modulus 11.

    Adjacent weights differ by one, so swapping digits a != b moves the weighted sum by
    b - a (never a multiple of 11). Only body digits 4-9 move: the 999 prefix stays.

    Args:
        rng: random state.
        numbers: 10-digit int64 NHS numbers.

    Returns:
        The transposed numbers (int64); a number with no two different adjacent body digits
        in that span is returned unchanged.
    """
    digits = digits_of(numbers, 10).copy()
    differs = digits[:, 3:8] != digits[:, 4:9]
    score = np.where(differs, rng.random(differs.shape), -1.0)
    pos = 3 + np.argmax(score, axis=1)
    rows = np.flatnonzero(differs.any(axis=1))
    left, right = digits[rows, pos[rows]].copy(), digits[rows, pos[rows] + 1].copy()
    digits[rows, pos[rows]], digits[rows, pos[rows] + 1] = right, left
    return (digits * 10 ** np.arange(9, -1, -1, dtype=np.int64)).sum(axis=1)
