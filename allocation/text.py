"""Number formatting shared by every reason the allocator gives."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache


# Shortage reasons write the same few quantities over and over; equal values write the same
# text (typed: an int and a Decimal of equal value are kept apart, as are True and 1).
@lru_cache(maxsize=4096, typed=True)
def number(value: Decimal | int) -> str:
    """A quantity or percentage as people write it: no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def quantity(value: Decimal, unit: str) -> str:
    """`12 ea`, `2.5 kg`."""
    return f"{number(value)} {unit}" if unit else number(value)


def plural(count: int, word: str) -> str:
    """`1 day`, `60 days`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
