"""Turns what a scanner or keyboard sends into a Scan: GS1 data, Digital Link, GTIN or plain text."""

from __future__ import annotations

import calendar
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal
from urllib.parse import unquote, urlsplit

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import SymbologyIdentifier
from biip.upc import Upc

from labels.gs1 import GS, gtin_check_digit
from scanning.errors import (
    BadCheckDigit,
    DuplicateAI,
    ImpossibleDate,
    MissingSeparator,
    PairingError,
    ScanError,
    UnreadableScan,
)

Kind = Literal["gs1", "digital_link", "gtin", "text"]
Form = Literal["element_string", "hri", "digital_link"]

MAX_SCAN_LENGTH = 4096
"""Longer input is not a barcode (a full QR code holds at most about 4,300 characters)."""

# Symbology identifiers (ISO/IEC 15424) whose data is a GS1 element string: GS1-128, GS1 DataBar,
# GS1 DataMatrix (with and without ECI), GS1 QR Code (with and without ECI), GS1 DotCode.
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]d2", "]d5", "]Q3", "]Q4", "]J1"})
# EAN-13/UPC-A/UPC-E, EAN-13 with add-on, EAN-8, ITF(-14): their data is a GTIN.
GTIN_SYMBOLOGIES = frozenset({"]E0", "]E3", "]E4", "]I0", "]I1"})

# GS1 AI 10/240 and every other X-type field use this 82-character set (Gen Specs figure 7.11-1);
# a substitute separator inside it could also be part of a lot code.
_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")

# biip checks dates against the wall clock; we check them ourselves against `today`.
_BIIP = ParseConfig(gs1_element_strings_verify_date=False)

_YYMMDD_DAY_ZERO_OK = frozenset({"11", "12", "13", "15", "16", "17"})
_DATE_PREFIXED = frozenset({"4324", "4325", "4326", "7003", "7006", "7007", "7011", "8008"})

# GS1 mod-10 check digit: AI -> number of leading digits of the value it covers.
_CHECKED_DIGITS = {
    "00": 18, "01": 14, "02": 14, "03": 14, "253": 13, "255": 13, "402": 17,
    "410": 13, "411": 13, "412": 13, "413": 13, "414": 13, "415": 13, "416": 13, "417": 13,
    "8006": 14, "8017": 18, "8018": 18, "8026": 14,
}  # fmt: skip

# The AIs that name the product on one label. GS1 requires 01/02/03 (or 8006/8026) next to a lot,
# a date or a serial; our own labels for products without a GTIN carry the sku in AI 240 instead.
_PRODUCT_AIS = frozenset({"01", "02", "03", "240", "8006", "8026"})
_NEEDS_PRODUCT = frozenset(
    {"10", "11", "13", "15", "16", "17", "20", "21", "22", "30", "235", "241", "242", "243", "250",
     "251", "422", "423", "424", "425", "426", "427"}
)  # fmt: skip
_TRADE_MEASURE_PREFIXES = ("31", "32", "35", "36")

# Dates that a missing separator typically glues onto a lot code, with the span (years back,
# years ahead of today) in which such a date is plausible on a label being scanned today.
_GLUE_DATES = {"11": (5, 1), "13": (5, 1), "15": (2, 10), "16": (2, 10), "17": (2, 10)}
_GLUE_KEYS = frozenset({"00", "01", "02"})

_NOUNS = {
    "00": "SSCC", "01": "GTIN", "02": "content GTIN", "03": "GTIN", "10": "lot",
    "11": "production date", "12": "due date", "13": "packing date", "15": "best-before date",
    "16": "sell-by date", "17": "expiry date", "21": "serial number", "22": "variant",
    "240": "product code", "30": "count", "37": "count",
}  # fmt: skip
_PLURALS = {"SSCC": "SSCCs", "GTIN": "GTINs", "content GTIN": "content GTINs", "lot": "lots",
            "count": "counts", "serial number": "serial numbers", "variant": "variants",
            "product code": "product codes"}  # fmt: skip


@dataclass(frozen=True)
class Scan:
    """One scan, parsed. `gtin` is always 14 digits; dates are real dates; `raw` is what arrived.

    For kind "gs1" and "digital_link" the GS1 fields are filled in and `elements` lists every
    (AI, value) pair in order. For "gtin" only `gtin` is set, plus `text`: the digits as scanned,
    so a caller can also try them as a typed lot or order number. For "text", `text` is the input
    without surrounding whitespace (and without a symbology identifier, if one came first).
    """

    raw: str
    kind: Kind
    symbology: str | None = None
    gtin: str | None = None
    sku: str | None = None
    lot: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    production_date: date | None = None
    serial: str | None = None
    quantity: Decimal | None = None
    net_weight_kg: Decimal | None = None
    sscc: str | None = None
    elements: tuple[tuple[str, str], ...] = ()
    text: str | None = None

    @property
    def product_key(self) -> str | None:
        """The GTIN if there is one, else the sku: what identifies the product on this label."""
        return self.gtin or self.sku


def parse(raw: str, *, separator: str | None = None, today: date | None = None) -> Scan:
    """Parse one scan or typed entry; raise a ScanError subclass if it cannot be used as it is.

    `separator` is the character a keyboard-wedge scanner sends for FNC1 when it is configured
    not to send ASCII 29 (e.g. "~" or "|"); ASCII 29 is always accepted too. `today` decides the
    century of two-digit years (GS1 sliding window) and defaults to the system date.
    """
    separator, today = check_separator(separator), today or date.today()
    if len(raw) > _REMEMBERED_LENGTH:
        return _parse(raw, separator=separator, today=today)
    return _remembered(raw, separator, today)


# A warehouse scans the same labels over and over (every case of a lot carries the same one), and a parse depends
# only on the text, the separator and the day: the last few thousand labels of ordinary length are kept (a
# megabyte or two at most). A refused scan is not kept (it is rare, and its exception is raised afresh each time).
_REMEMBERED_LENGTH = 256

@functools.lru_cache(maxsize=4096)
def _remembered(raw: str, separator: str | None, today: date) -> Scan:
    return _parse(raw, separator=separator, today=today)


def check_separator(separator: str | None) -> str | None:
    """Return a valid substitute separator, or raise ValueError for one that would be ambiguous."""
    if separator is None or separator == GS:
        return None
    if len(separator) != 1:
        raise ValueError(f"the scanner's separator must be one character, not {separator!r}")
    if separator in _CSET82 or separator.isspace():
        raise ValueError(
            f"{separator!r} can appear inside lot codes, so it cannot stand for the GS1 separator; "
            "configure the scanner to send a character such as '~' or '|'"
        )
    return separator


def _parse(raw: str, *, separator: str | None, today: date) -> Scan:
    if len(raw) > MAX_SCAN_LENGTH:
        raise UnreadableScan(f"This scan is too long to be a barcode ({len(raw)} characters).")
    # str.strip() also removes ASCII 28-31, so a leading FNC1 (GS) or trailing CR/LF/Tab goes too.
    body = raw.strip()
    if not body:
        raise UnreadableScan("Nothing was scanned.")

    symbology = None
    if body.startswith("]") and len(body) >= 3:
        try:
            symbology = str(SymbologyIdentifier.extract(body))
        except (ParseError, ValueError):
            # biip raises ValueError, not ParseError, for some malformed identifiers ("]Y:"):
            # either way the text does not start with a symbology identifier.
            symbology = None
        if symbology is not None:
            body = body[len(symbology) :].strip()
            if not body:
                raise UnreadableScan("The barcode was empty.")

    ctx = _Context(raw=raw, symbology=symbology, separator=separator, today=today)
    if _is_url(body):
        return _parse_url(body, ctx)
    if symbology in GS1_SYMBOLOGIES:
        if body.startswith("("):
            return _parse_hri(body, ctx)
        return _parse_element_string(body, ctx)
    if symbology in GTIN_SYMBOLOGIES:
        return _parse_gtin(body, ctx, strict=True)
    if _HRI_START.match(body):
        return _parse_hri(body, ctx)
    if _digits(body) and len(body) in (8, 12, 13, 14):
        # 12-14 digits are a GTIN typed or scanned without symbology identifier. Eight digits are
        # also a common shape for a typed lot or order number, so only a valid GTIN-8 counts.
        return _parse_gtin(body, ctx, strict=len(body) != 8)
    if _looks_like_element_string(body, separator):
        return _parse_element_string(body, ctx)
    return _text(body, ctx)


# -- shared plumbing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    raw: str
    symbology: str | None
    separator: str | None
    today: date


@dataclass(frozen=True)
class _Element:
    ai: GS1ApplicationIdentifier
    value: str
    parsed: GS1ElementString


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other scripts' digits."""
    return text.isascii() and text.isdigit()


def _noun(ai: str) -> str:
    if ai in _NOUNS:
        return _NOUNS[ai]
    if ai.startswith("310"):
        return "net weight"
    return f"field ({ai})"


def _plural(noun: str) -> str:
    if noun in _PLURALS:
        return _PLURALS[noun]
    if noun.endswith(("date", "weight")):
        return noun + "s"
    return noun + " values"


def _lookup_ai(text: str) -> GS1ApplicationIdentifier | None:
    """The AI that `text` starts with, if any (AIs are prefix-free, so there is at most one)."""
    if not _digits(text[:2]):
        return None
    try:
        return GS1ApplicationIdentifier.extract(text[:4])
    except ParseError:
        return None


def _exact_ai(code: str) -> GS1ApplicationIdentifier | None:
    ai = _lookup_ai(code)
    return ai if ai is not None and ai.ai == code else None


_LENGTH_PART = re.compile(r"[NXYZ](?:\.\.)?(\d+)")


def _max_length(ai: GS1ApplicationIdentifier) -> int:
    """Longest value the AI allows, from biip's format text such as 'N2+X..20' or 'N4+N6[+N6]'."""
    parts = ai.format.split("+", 1)[1] if "+" in ai.format else ""
    return sum(int(m.group(1)) for m in _LENGTH_PART.finditer(parts))


def _is_url(body: str) -> bool:
    return body[:8].lower().startswith(("http://", "https://"))


def _printable(text: str) -> bool:
    return all(unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") for ch in text) and ("\ufffd" not in text)


def _text(body: str, ctx: _Context) -> Scan:
    if not _printable(body):
        raise UnreadableScan("This scan could not be read. Scan again.")
    return Scan(raw=ctx.raw, kind="text", symbology=ctx.symbology, text=body)


# -- dates -------------------------------------------------------------------------------------


def gs1_date(yymmdd: str, today: date, *, day_zero: bool = True, what: str = "date") -> date:
    """A GS1 YYMMDD date: century by the sliding window of Gen Specs 7.12, day 00 = month's end.

    Raises ImpossibleDate (worded with `what`, e.g. "expiry date") for dates that do not exist.
    """
    if len(yymmdd) != 6 or not _digits(yymmdd):
        raise UnreadableScan(f"The {what} {yymmdd!r} must be six digits (YYMMDD).")
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    this_century, this_yy = divmod(today.year, 100)
    difference = yy - this_yy
    if 51 <= difference <= 99:
        century = this_century - 1
    elif -99 <= difference <= -50:
        century = this_century + 1
    else:
        century = this_century
    year = century * 100 + yy
    if not 1 <= mm <= 12:
        raise ImpossibleDate(f"The {what} {yymmdd} is not a real date: there is no month {mm:02d}.")
    last = calendar.monthrange(year, mm)[1]
    if dd == 0 and day_zero:
        return date(year, mm, last)
    if not 1 <= dd <= last:
        month = calendar.month_name[mm]
        raise ImpossibleDate(f"The {what} {yymmdd} is not a real date: {month} {year} has {last} days.")
    return date(year, mm, dd)


# -- GS1 element strings -----------------------------------------------------------------------


def _tokens(body: str, separator: str | None) -> Iterator[tuple[GS1ApplicationIdentifier, str]]:
    """Split an element string into (AI, value); a variable-length value runs to the separator.

    Raises UnreadableScan for an unknown AI or a fixed-length value that is cut short. A
    variable-length value is returned whole even when it is too long; the caller decides.
    """
    if separator is not None:
        body = body.replace(separator, GS)
    rest = body.strip(GS)
    while rest:
        ai = _lookup_ai(rest)
        if ai is None:
            raise UnreadableScan(
                f"This barcode could not be read: {_shorten(rest)!r} does not start with a known GS1 code."
            )
        after = rest[len(ai.ai) :]
        if ai.separator_required:
            value, _, rest = after.partition(GS)
        else:
            size = _max_length(ai)
            segment = after.split(GS, 1)[0]
            if len(segment) < size:
                raise UnreadableScan(
                    f"The {_noun(ai.ai)} ({ai.ai}) on this barcode is too short: {segment!r} should have {size} digits."
                )
            value, rest = after[:size], after[size:]
        yield ai, value
        rest = rest.lstrip(GS)


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_element_string(body: str, separator: str | None) -> bool:
    """Decide whether input without a GS1 symbology identifier is meant as GS1 data.

    Many wedge scanners are set up without symbology identifiers, so GS1-128 arrives as bare
    digits. Input counts as GS1 when it has a separator, or splits cleanly into two or more
    fields, or is a single SSCC/GTIN field (00/01/02). A typed lot such as "10ABC" stays text.
    """
    if not _digits(body[:2]) or " " in body:
        # No GS1 field holds a space, while the text of our plain lot labels ("SKU LOT") always does.
        return False
    if GS in body or (separator is not None and separator in body):
        return True
    try:
        tokens = list(itertools.islice(_tokens(body, separator), 64))
    except ScanError:
        return False
    return len(tokens) >= 2 or (len(tokens) == 1 and tokens[0][0].ai in ("00", "01", "02"))


def _parse_element_string(body: str, ctx: _Context) -> Scan:
    pairs: list[tuple[str, str]] = []
    for ai, value in _tokens(body, ctx.separator):
        limit = _max_length(ai)
        if ai.separator_required and len(value) > limit:
            raise MissingSeparator(
                f"The {_noun(ai.ai)} on this barcode is {len(value)} characters long; the "
                f"limit is {limit}. The barcode is probably missing a separator: check the "
                "label and type it by hand."
            )
        pairs.append((ai.ai, value))
    return _build(pairs, ctx, form="element_string")


# -- human-readable text: (01)…(17)…(10)… ------------------------------------------------------

_HRI_START = re.compile(r"\(\d{2,4}\)")
_HRI_MAX_CHOICES = 8


def _hri_readings(body: str) -> Iterator[list[tuple[str, str]]]:
    """Every way to read the text, most AI boundaries first.

    "(NN)" inside a value (lot codes may contain parentheses) is indistinguishable from the next
    AI, so each "(NN)" after the first may be a boundary or part of a value.
    """
    marks = [m for m in _HRI_START.finditer(body) if _exact_ai(m.group()[1:-1]) is not None]
    if not marks or marks[0].start() != 0:
        raise UnreadableScan(
            f"This barcode text could not be read: {_shorten(body)!r} does not start with a known GS1 code in brackets."
        )
    optional = marks[1:]
    choices = (
        itertools.product((True, False), repeat=len(optional))
        if len(optional) <= _HRI_MAX_CHOICES
        else iter([(True,) * len(optional)])
    )
    for choice in choices:
        chosen = [marks[0], *(m for m, keep in zip(optional, choice, strict=True) if keep)]
        reading = []
        for i, mark in enumerate(chosen):
            end = chosen[i + 1].start() if i + 1 < len(chosen) else len(body)
            reading.append((mark.group()[1:-1], body[mark.end() : end]))
        yield reading


def _parse_hri(body: str, ctx: _Context) -> Scan:
    # Spaces typed around the brackets go; a space inside a value stays, and makes it invalid.
    body = re.sub(r"\s*(\(\d{2,4}\))\s*", r"\1", body)
    first_error: ScanError | None = None
    with_repeats: Scan | None = None
    for reading in _hri_readings(body):
        try:
            scan = _build(reading, ctx, form="hri")
        except ScanError as error:
            first_error = first_error or error
            continue
        if len(scan.elements) == len(reading):
            return scan
        with_repeats = with_repeats or scan
    if with_repeats is not None:
        return with_repeats
    assert first_error is not None
    raise first_error


# -- GS1 Digital Link --------------------------------------------------------------------------

# Primary keys that may start a Digital Link path, plus our 240 (sku) for products without GTIN.
_DL_PRIMARY = frozenset(
    {"00", "01", "240", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010",
     "8013", "8017", "8018"}
)  # fmt: skip
_DL_GTIN_KEYS = frozenset({"01", "02"})


def _parse_url(body: str, ctx: _Context) -> Scan:
    try:
        parts = urlsplit(body)
    except ValueError:
        return _text(body, ctx)
    segments = parts.path.split("/")
    while segments and segments[-1] == "":
        segments.pop()
    start = next(
        (
            i
            for i, segment in enumerate(segments)
            if segment in _DL_PRIMARY
            and (len(segments) - i) % 2 == 0
            and all(_exact_ai(segments[j]) is not None for j in range(i, len(segments), 2))
        ),
        None,
    )
    if start is None:
        # A web address that is not a Digital Link, e.g. a page printed on a delivery note.
        return _text(body, ctx)
    pairs: list[tuple[str, str]] = []
    for j in range(start, len(segments), 2):
        ai, value = segments[j], unquote(segments[j + 1])
        if ai in _DL_GTIN_KEYS and _digits(value) and len(value) in (8, 12, 13):
            value = value.zfill(14)
        pairs.append((ai, value))
    # Query values are percent-encoded, not form-encoded: "+" is a legal lot character.
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        key = unquote(key)
        if _exact_ai(key) is not None:
            pairs.append((key, unquote(value)))
    return _build(pairs, ctx, form="digital_link")


# -- GTIN alone --------------------------------------------------------------------------------


def _parse_gtin(body: str, ctx: _Context, *, strict: bool) -> Scan:
    digits = body
    if ctx.symbology == "]E3" and _digits(body) and len(body) in (15, 18):
        digits = body[:13]  # EAN-13/UPC-A followed by its 2- or 5-digit add-on
    elif ctx.symbology == "]E0" and _digits(body) and len(body) in (6, 7, 8):
        # UPC-E arrives in its short form; the GTIN is its UPC-A expansion.
        try:
            digits = Upc.parse(body).as_upc_a()
        except ParseError as error:
            raise BadCheckDigit(f"The UPC-E code {body} has a wrong check digit.") from error
    if not _digits(digits) or len(digits) not in (8, 12, 13, 14):
        if not strict:
            return _text(body, ctx)
        raise UnreadableScan(f"A GTIN has 8, 12, 13 or 14 digits; this scan is {body!r}.")
    expected = gtin_check_digit(digits[:-1])
    if expected != int(digits[-1]):
        if not strict:
            return _text(body, ctx)
        raise BadCheckDigit(
            f"The GTIN {digits} has a wrong check digit: it should end in {expected}. Scan again or check the number."
        )
    return Scan(raw=ctx.raw, kind="gtin", symbology=ctx.symbology, gtin=digits.zfill(14), text=body)


# -- validation common to every GS1 form -------------------------------------------------------


def _element(ai_code: str, value: str, today: date) -> tuple[_Element, date | None]:
    ai = _exact_ai(ai_code)
    if ai is None:
        raise UnreadableScan(f"This barcode has an unknown GS1 code ({ai_code}).")
    noun = _noun(ai.ai)
    if not value.isascii():
        # GS1 data is ASCII; biip's patterns (Python's \d) would let other scripts' digits by.
        raise UnreadableScan(f"The {noun} on this barcode has characters a barcode cannot hold.")
    limit = _max_length(ai)
    if len(value) > limit:
        raise UnreadableScan(f"The {noun} on this barcode is {len(value)} characters long; the limit is {limit}.")
    when = None
    if ai.ai in _YYMMDD_DAY_ZERO_OK:
        when = gs1_date(value, today, what=noun)
    elif ai.ai in _DATE_PREFIXED and _digits(value[:6]) and len(value) >= 6:
        gs1_date(value[:6], today, day_zero=False, what=noun)
        if ai.ai == "7007" and len(value) == 12:
            gs1_date(value[6:], today, day_zero=False, what=noun)
    try:
        parsed = GS1ElementString.parse(ai.ai + value, config=_BIIP)
    except ParseError as error:
        raise UnreadableScan(
            f"The {noun} on this barcode is not valid: {_shorten(value)!r}."
            if value
            else f"The {noun} on this barcode is empty."
        ) from error
    checked = _CHECKED_DIGITS.get(ai.ai)
    if checked is not None:
        digits = value[:checked]
        expected = gtin_check_digit(digits[:-1])
        if expected != int(digits[-1]):
            label = noun if ai.ai in ("00", "01", "02", "03") else f"number in ({ai.ai})"
            raise BadCheckDigit(
                f"The {label} {digits} has a wrong check digit: it should end in {expected}. "
                "Scan again or check the label."
            )
    return _Element(ai=ai, value=value, parsed=parsed), when


def _duplicate_key(ai: str) -> str:
    # 3102 and 3103 are the same net weight with different decimals: one weight per label.
    if len(ai) == 4 and ai[:2] in ("31", "32", "33", "34", "35", "36"):
        return ai[:3]
    return ai


def _same_value(a: _Element, b: _Element) -> bool:
    if a.ai.ai == b.ai.ai:
        return a.value == b.value
    return a.parsed.decimal is not None and a.parsed.decimal == b.parsed.decimal


def _build(pairs: list[tuple[str, str]], ctx: _Context, *, form: Form) -> Scan:
    if not pairs:
        raise UnreadableScan("This barcode has no GS1 data.")
    elements: list[_Element] = []
    dates: dict[str, date] = {}
    seen: dict[str, _Element] = {}
    for code, value in pairs:
        element, when = _element(code, value, ctx.today)
        key = _duplicate_key(element.ai.ai)
        earlier = seen.get(key)
        if earlier is not None:
            # GS1 forbids the same AI twice with different values; an identical repeat carries
            # no contradiction (some printers repeat the GTIN), so it is accepted and dropped.
            if _same_value(earlier, element):
                continue
            noun = _plural(_noun(element.ai.ai))
            raise DuplicateAI(f"This barcode has two different {noun}: {earlier.value} and {element.value}.")
        seen[key] = element
        elements.append(element)
        if when is not None:
            dates[element.ai.ai] = when
    if form == "element_string":
        _check_glued(elements, ctx.today)
    scan = _scan_from(elements, dates, ctx, form)
    _check_pairing(set(seen), scan)
    return scan


def _check_glued(elements: list[_Element], today: date) -> None:
    """Raise MissingSeparator when a variable-length value ends in what reads as more GS1 fields.

    Without a separator after a lot, "10ABC" + "17261231" arrives as the lot "ABC17261231". The
    same characters can be a real lot code, so this fires only when the tail (a) starts with a
    date (11/13/15/16/17) that is plausible today, or an SSCC/GTIN (00/01/02) with a valid check
    digit, (b) reads as complete, valid GS1 fields up to the end of the value, and (c) brings
    AIs that the barcode does not carry elsewhere.
    """
    present = {e.ai.ai for e in elements}
    for element in elements:
        if not element.ai.separator_required or element.ai.ai[:1] == "9":
            continue
        value = element.value
        for start in range(1, len(value) - 7):
            tail = value[start:]
            glued = _glued_fields(tail, today)
            if glued and not glued & present:
                first = _lookup_ai(tail)
                assert first is not None
                raise MissingSeparator(
                    f'The {_noun(element.ai.ai)} "{value}" seems to contain {_a(_noun(first.ai))} '
                    f"({first.ai}). The barcode is probably missing a separator: check the "
                    "label and type it by hand."
                )


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _glued_fields(tail: str, today: date) -> set[str] | None:
    first = _lookup_ai(tail)
    if first is None or (first.ai not in _GLUE_KEYS and first.ai not in _GLUE_DATES):
        return None
    try:
        tokens = list(itertools.islice(_tokens(tail, None), 16))
        found = [_element(ai.ai, value, today) for ai, value in tokens]
    except ScanError:
        return None
    if any(e.ai.separator_required and len(e.value) > _max_length(e.ai) for e, _ in found):
        return None
    head, when = found[0]
    if when is not None:
        back, ahead = _GLUE_DATES[head.ai.ai]
        earliest = today.replace(year=today.year - back, day=1)
        latest = today.replace(year=today.year + ahead, day=1)
        if not earliest <= when <= latest:
            return None
    return {e.ai.ai for e, _ in found}


def _scan_from(elements: list[_Element], dates: dict[str, date], ctx: _Context, form: Form) -> Scan:
    values = {e.ai.ai: e.value for e in elements}
    weight = next((e.parsed.decimal for e in elements if e.ai.ai.startswith("310")), None)
    count = values.get("37") or values.get("30")
    return Scan(
        raw=ctx.raw,
        kind="digital_link" if form == "digital_link" else "gs1",
        symbology=ctx.symbology,
        gtin=values.get("01") or values.get("02"),
        sku=values.get("240"),
        lot=values.get("10"),
        expiry=dates.get("17"),
        best_before=dates.get("15"),
        production_date=dates.get("11"),
        serial=values.get("21"),
        quantity=Decimal(int(count)) if count else None,
        net_weight_kg=weight,
        sscc=values.get("00"),
        elements=tuple((e.ai.ai, e.value) for e in elements),
    )


def _check_pairing(ais: set[str], scan: Scan) -> None:
    """GS1 mandatory associations (Gen Specs 4.14), checked within this one barcode.

    Not checked: 02 needs 00 and 37. On a GS1 logistic label the SSCC has a barcode of its own,
    so a scan of the (02)(37)(10)(17) barcode alone is normal and must be accepted.
    """
    if "01" in ais and "02" in ais:
        raise PairingError(
            "This barcode has both a GTIN (01) and a content GTIN (02); only one is allowed.",
            scan,
        )
    if "37" in ais and not ais & {"02", "8026"}:
        raise PairingError(
            "This barcode has a count of contained items (37) but no content GTIN (02).",
            scan,
        )
    if ais & _PRODUCT_AIS:
        return
    orphans = sorted(ai for ai in ais if ai in _NEEDS_PRODUCT or ai.startswith(_TRADE_MEASURE_PREFIXES))
    if orphans:
        what = "lot" if "10" in orphans else _noun(orphans[0])
        raise PairingError(
            f"This barcode has {_a(what)} but no product (GTIN). Scan the product's barcode "
            "or choose the product, then scan again.",
            scan,
        )
