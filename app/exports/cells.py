"""Stored values made into safe spreadsheet cells: the one rule every CSV and XLSX file follows.

Stored text comes from people, other systems and scanners, so a file must neither break on it nor
let a spreadsheet run it:

- Text that a spreadsheet would take for a formula — starting with `=`, `+`, `-`, `@`, tab or carriage
  return (OWASP's CSV injection rule) — stays text: in CSV behind a leading apostrophe `'`, in XLSX as
  a string cell (never a formula) marked "quote prefix", as Excel marks text typed after an apostrophe.
- The GS1 group separator (ASCII 29) that a supplier's lot code may carry is written `␝`, as on the
  pages. Otherwise a CSV cell holds the stored text exactly.
- XLSX only: the other characters an XLSX file (XML 1.0) cannot hold — control characters other than
  tab, line feed and carriage return, and U+FFFE/U+FFFF — become visible stand-ins: the control's
  Unicode "control picture" (`␀` … `␟`, the same family as `␝`) or `�`. A line break is written as a
  line feed (Excel's own; XML would read a carriage return back as one anyway). Text beyond Excel's
  32,767 characters per cell is cut to fit and ends with `…`.

Numbers and dates are not text: they stay numbers and dates (a negative quantity is `-5`, not `'-5`).
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal

from app.formatting import qty, shown

Cell = str | int | Decimal | date | datetime | None
"""A value as queries hand it to a file: text, a number, a date, a time or nothing."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these would be read as a formula by a spreadsheet."""

CSV_LINE_END = "\r\n"
"""Every CSV file ends its rows with CR LF (RFC 4180): the csv module then quotes any field holding a CR
or an LF, so no stored line break can split a row."""

XLSX_MAX_TEXT = 32767
"""The most characters an Excel cell holds."""

_CUT = "…"
# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates (which Python text from
# the database never holds unpaired) and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run `text` as a formula if it were written as it is."""
    return text.startswith(FORMULA_START)


def _stand_in(match: re.Match[str]) -> str:
    ch = match.group()
    return chr(0x2400 + ord(ch)) if ch < " " else "\ufffd"


CACHED_TEXT = 256
"""Text cells repeat (names, places, units, products): each distinct text up to this many characters is made safe
once and remembered (at most 65,536 of them, so a long-running server holds a few megabytes); longer text, rarer
and bigger, is made safe each time."""


def _csv_text(value: str) -> str:
    text = shown(value)
    return "'" + text if is_formula_like(text) else text


_csv_text_cached = functools.lru_cache(maxsize=1 << 16)(_csv_text)


def csv_text_cell(value: str) -> str:
    """A text CSV field: shown (␝) and never a formula (`csv_cell` of text)."""
    return _csv_text_cached(value) if len(value) <= CACHED_TEXT else _csv_text(value)


def csv_cell(value: Cell) -> str:
    """A CSV field: numbers without trailing zeros, dates in ISO form, text shown (␝) and never a formula."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text_cell(value)
    if isinstance(value, Decimal | int):
        return qty(value)
    return value.isoformat()


def xlsx_text(value: str) -> str:
    """Text as an XLSX string cell holds it: shown (␝), other unstorable characters as visible stand-ins,
    line breaks as line feeds, at most 32,767 characters. `is_formula_like` is asked of this result."""
    text = _NOT_XML.sub(_stand_in, shown(value)).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > XLSX_MAX_TEXT:
        text = text[: XLSX_MAX_TEXT - len(_CUT)] + _CUT
    return text
