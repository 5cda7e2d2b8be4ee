"""Unified social credit code (GB 32100-2015): the check character over the first 17."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The 18th character for the 17 given; ValueError for a character outside the alphabet."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True when ``code`` has 18 characters from the alphabet and a correct check character."""
    if len(code) != 18:
        return False
    total = 0
    for c, weight in zip(code, WEIGHTS, strict=False):  # the first 17
        value = _VALUE.get(c)
        if value is None:
            return False
        total += value * weight
    return code[17] in _VALUE and ALPHABET[(31 - total % 31) % 31] == code[17]
