"""Lot code patterns: every code a pattern makes must fit GS1 AI 10 (at most 20 characters of the GS1
82-character set), because our labels carry it as (10). A pattern that cannot is refused at start-up."""

from __future__ import annotations

import string
from datetime import date

from labels.gs1 import LOT_MAX
from labels.gs1 import cset82 as is_cset82

FIELDS = frozenset({"date", "sku", "seq", "seq_alpha"})
# The longest sequence a pattern must still fit: 702 lots of a product on one day (seq_alpha "ZZ").
_BUSY_DAY = 702
_SAMPLE_DAY = date(2026, 12, 31)


class PatternError(ValueError):
    """The lot code pattern cannot make valid GS1 lot codes; the message says why."""


def alpha(n: int) -> str:
    """1 → A, 26 → Z, 27 → AA: the letter sequence used in lot codes."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _fields(pattern: str) -> set[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise PatternError(f"lot code pattern {pattern!r} is not a valid pattern: {exc}") from None
    unknown = names - FIELDS
    if unknown:
        raise PatternError(f"lot code pattern {pattern!r} has unknown field(s) {', '.join(sorted(unknown))}; "
                           f"use {{date:%y%m%d}}, {{sku}}, {{seq}} or {{seq_alpha}}")
    return names


def _render(pattern: str, on: date, sku: str, seq: int) -> str:
    try:
        return pattern.format(date=on, sku=sku, seq=seq, seq_alpha=alpha(seq))
    except (ValueError, IndexError, KeyError) as exc:
        raise PatternError(f"lot code pattern {pattern!r} is not a valid pattern: {exc}") from None


def check_pattern(pattern: str) -> None:
    """Refuse a pattern whose codes would not fit GS1 AI 10, even with the shortest sku."""
    names = _fields(pattern)
    for seq in (1, _BUSY_DAY):
        fixed = _render(pattern, _SAMPLE_DAY, "", seq)
        if fixed and not is_cset82(fixed):
            raise PatternError(f"lot code pattern {pattern!r} makes codes such as {fixed!r} with characters GS1 "
                               f"lot codes (AI 10) do not allow: letters, digits and - . / _ only, no spaces")
        room = LOT_MAX - len(fixed) - (1 if "sku" in names else 0)
        if room < 0:
            raise PatternError(f"lot code pattern {pattern!r} makes codes longer than the {LOT_MAX} characters a "
                               f"GS1 lot code (AI 10) holds, such as {_render(pattern, _SAMPLE_DAY, 'X', seq)!r}")


def lot_code(pattern: str, on: date, sku: str, seq: int) -> str:
    """The `seq`-th code of the day for the product `sku`.

    `{sku}` is shortened (from the end) to what the rest of the code leaves of GS1's 20 characters;
    lot codes are unique per product, so two products whose skus start alike may share a code, as
    they may with any pattern.
    """
    room = LOT_MAX - len(_render(pattern, on, "", seq))
    code = _render(pattern, on, sku[:max(room, 0)], seq)
    if len(code) > LOT_MAX or not is_cset82(code):
        raise PatternError(f"lot code {code!r} does not fit GS1 AI 10 (at most {LOT_MAX} letters, digits "
                           f"and GS1 punctuation)")
    return code
