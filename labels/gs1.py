"""What a lot label's barcodes say, from one source.

A product with a GTIN gets GS1 barcodes: the element string (01)GTIN(17)expiry(10)lot and the GS1 Digital
Link URL. A product without one gets plain barcodes that carry no GS1 marker (no FNC1, no Digital Link):
the text "SKU LOT" (the sku, one space, the lot code) in Code 128 and DataMatrix, and the URL of the
site's lot finder, BASE/lots/find?sku=SKU&code=LOT, in the QR code. GS1 requires a GTIN (or another
product key) next to a lot number, so a label without one must not pretend to be GS1.

Labels printed before this carried (240)SKU(10)LOT and BASE/240/SKU/10/LOT; `element_string`,
`human_readable` and `digital_link` still write that older form for data without a GTIN, so that
readers of those labels can be tested, but no label prints it any more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, quote, urlsplit

from biip import ParseError
from biip.gs1_prefixes import GS1Prefix

GS = "\x1d"
"""ASCII 29, the group separator that stands for FNC1 inside an element string."""

GS_SYMBOL = "\u241d"
"""How a group separator kept in stored text is shown on screens and in exports: ␝ (SYMBOL FOR GROUP
SEPARATOR), so it is seen, not lost or taken for a space."""

GS_PRINTED = "<GS>"
"""How it is printed on a label: thermal printer fonts and the PDF label font have no ␝, and GS1's own
documents write the separator this way."""

# GS1 General Specifications, figure 7.11-1: the 82 characters allowed in AI 10 and AI 240.
_CSET82 = re.compile(r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+""")
_DIGITS = re.compile(r"[0-9]+")
LOT_MAX = 20
SKU_MAX = 30
PLAIN_LOT_MAX = 40
"""Longest lot code a plain label carries: as long as a lot code may be."""
PLAIN_SEPARATOR = " "
"""Between sku and lot in a plain label's text: skus never hold a space, so the first one splits them."""
PLAIN_PATH = "/lots/find"
"""Path of the lot finder a plain label's QR code points to."""
# Printable ASCII: what every scanner, Code 128 (without FNC4 shifts) and every ZPL renderer agree on.
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
_PLAIN_SKU = re.compile(r"[\x21-\x7e]+")


def cset82(text: str) -> bool:
    """Whether every character of `text` is allowed in AI 10 and AI 240."""
    return bool(_CSET82.fullmatch(text))


class LabelDataError(ValueError):
    """The lot's data cannot be written in the label's barcodes; the message says why."""


def gtin_check_digit(body: str) -> int:
    """Check digit for the first n-1 digits of a GTIN (GS1 mod-10, weights 3,1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 as GTIN-14, after checking its digits and check digit."""
    g = gtin.strip()
    if not _DIGITS.fullmatch(g) or len(g) not in (8, 12, 13, 14):
        raise LabelDataError(f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits")
    if gtin_check_digit(g[:-1]) != int(g[-1]):
        raise LabelDataError(f"GTIN {gtin} has a wrong check digit")
    return g.zfill(14)


@dataclass(frozen=True)
class LotBarcodeData:
    """What a lot label encodes: the product (GTIN, or the sku when it has none), the lot code and its expiry.

    With a GTIN the lot must fit GS1 AI 10; without one the barcodes are plain, and sku and lot need only be
    printable ASCII (the sku without spaces), which every scanner and label printer reads the same way.
    """

    lot: str
    gtin: str | None = None
    sku: str | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        if self.gtin:
            object.__setattr__(self, "gtin", normalize_gtin(self.gtin))
            if not self.lot or len(self.lot) > LOT_MAX or not _CSET82.fullmatch(self.lot):
                raise LabelDataError(
                    f"lot code {self.lot!r} cannot go in a GS1 barcode (AI 10): up to {LOT_MAX} "
                    "letters, digits and GS1 punctuation, no spaces"
                )
            return
        if not self.sku:
            raise LabelDataError("a label needs a GTIN or a sku")
        if len(self.sku) > SKU_MAX or not _PLAIN_SKU.fullmatch(self.sku):
            raise LabelDataError(
                f"sku {self.sku!r} cannot go in a barcode: up to {SKU_MAX} letters, digits and "
                "punctuation (ASCII), no spaces"
            )
        if (not self.lot or len(self.lot) > PLAIN_LOT_MAX or not _PRINTABLE.fullmatch(self.lot)
                or self.lot != self.lot.strip()):
            raise LabelDataError(
                f"lot code {self.lot!r} cannot go in a barcode: up to {PLAIN_LOT_MAX} letters, digits, "
                "spaces and punctuation (ASCII, no accents or control characters)"
            )

    @property
    def gs1(self) -> bool:
        """Whether the barcodes are GS1 (the product has a GTIN) or plain."""
        return self.gtin is not None


def yymmdd(d: date) -> str:
    """A date as GS1 writes it in AI 11/15/17."""
    return d.strftime("%y%m%d")


def _fields(data: LotBarcodeData) -> list[tuple[str, str]]:
    # Fixed-length fields first and the lot (variable length) last, so only AI 240 needs a separator.
    fields: list[tuple[str, str]] = []
    if data.gtin:
        fields.append(("01", data.gtin))
    else:
        assert data.sku is not None
        fields.append(("240", data.sku))
    if data.expiry:
        fields.append(("17", yymmdd(data.expiry)))
    fields.append(("10", data.lot))
    return fields


_VARIABLE = {"10", "240"}


def element_string(data: LotBarcodeData, separator: str = GS) -> str:
    """The GS1 element string (no leading FNC1), with `separator` after variable-length fields."""
    out = []
    fields = _fields(data)
    for i, (ai, value) in enumerate(fields):
        out.append(ai + value)
        if ai in _VARIABLE and i < len(fields) - 1:
            out.append(separator)
    return "".join(out)


def human_readable(data: LotBarcodeData) -> str:
    """The text printed under a GS1 barcode: '(01)…(17)…(10)…'."""
    return "".join(f"({ai}){value}" for ai, value in _fields(data))


def digital_link(data: LotBarcodeData, base_url: str) -> str:
    """A GS1 Digital Link URI for the lot: BASE/01/GTIN/10/LOT?17=YYMMDD (240 for sku-only)."""
    base = base_url.rstrip("/")
    key = f"01/{data.gtin}" if data.gtin else f"240/{quote(data.sku or '', safe='')}"
    url = f"{base}/{key}/10/{quote(data.lot, safe='')}"
    if data.expiry:
        url += f"?17={yymmdd(data.expiry)}"
    return url


def plain_text(data: LotBarcodeData) -> str:
    """What a plain label's Code 128 and DataMatrix carry, and the text printed under the Code 128: "SKU LOT"."""
    return f"{data.sku}{PLAIN_SEPARATOR}{data.lot}"


def plain_url(data: LotBarcodeData, base_url: str) -> str:
    """A plain label's QR code: the site's lot finder for this sku and lot (not a GS1 Digital Link)."""
    query = f"sku={quote(data.sku or '', safe='')}&code={quote(data.lot, safe='')}"
    return f"{base_url.rstrip('/')}{PLAIN_PATH}?{query}"


def label_url(data: LotBarcodeData, base_url: str) -> str:
    """The URL in the label's QR code: the GS1 Digital Link with a GTIN, the lot finder without one."""
    return digital_link(data, base_url) if data.gs1 else plain_url(data, base_url)


def barcode_text(data: LotBarcodeData) -> str:
    """The text under the label's linear barcode: "(01)…(17)…(10)…", or "SKU LOT" on a plain label."""
    return human_readable(data) if data.gs1 else plain_text(data)


def read_plain(text: str) -> tuple[str, str] | None:
    """(sku, lot) from a plain label's text "SKU LOT" or its lot finder URL; None for anything else.

    Only the shape is read here; whether such a product and lot exist is for the caller to find out.
    """
    text = text.strip()
    if text[:8].lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        if not parts.path.rstrip("/").endswith(PLAIN_PATH):
            return None
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        sku, lot = query.get("sku", "").strip(), query.get("code", "").strip()
        return (sku, lot) if sku and lot else None
    sku, separator, lot = text.partition(PLAIN_SEPARATOR)
    lot = lot.strip()
    if not separator or not lot or len(sku) > SKU_MAX or not _PLAIN_SKU.fullmatch(sku):
        return None
    return sku, lot


def ai_fields(data: LotBarcodeData) -> list[tuple[str, str]]:
    """The (AI, value) pairs the label encodes, in the order they are encoded."""
    return _fields(data)


def bracketed_element_string(data: LotBarcodeData) -> str:
    """The element string in the '[01]…[17]…[10]…' syntax GS1 barcode encoders take as input.

    Brackets cannot occur in AI 10 or AI 240 values (they are outside the 82-character set), so
    unlike the parenthesised human-readable form this one can always be split back unambiguously.
    """
    return "".join(f"[{ai}]{value}" for ai, value in _fields(data))


# --- GTINs from the site's GS1 company prefix --------------------------------------------------

COMPANY_PREFIX_LENGTHS = range(4, 13)
"""GS1 company prefixes have 4 to 12 digits (a U.P.C. company prefix written with its leading 0)."""
_NOT_A_COMPANY = re.compile(r"restricted|bookland|issn|reserved|unused|coupon|refund", re.I)


def company_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot be a GS1 company prefix to make GTIN-13s from, or None when it can."""
    if not _DIGITS.fullmatch(prefix) or len(prefix) not in COMPANY_PREFIX_LENGTHS:
        return "a GS1 company prefix has 4 to 12 digits"
    try:
        found = GS1Prefix.extract(prefix)
    except ParseError:
        found = None
    if found is None:
        return f"{prefix} starts with no GS1 prefix that GS1 gives out"
    usage = found.usage
    if _NOT_A_COMPANY.search(usage):
        return f"{prefix} is not a company prefix: GS1 keeps that range for this use: {usage}"
    return None


def item_reference_capacity(prefix: str) -> int:
    """How many GTIN-13s a company prefix makes: 10 ** (12 - its length) item references."""
    return int(10 ** (12 - len(prefix)))


def gtin_from(prefix: str, item_reference: int) -> str:
    """The GTIN (14 digits, as stored) made of `prefix`, the item reference and the check digit."""
    digits = 12 - len(prefix)
    if not 0 <= item_reference < 10**digits:
        raise LabelDataError(f"item reference {item_reference} does not fit the {digits} digits prefix {prefix} leaves")
    body = prefix + (f"{item_reference:0{digits}d}" if digits else "")
    return (body + str(gtin_check_digit(body))).zfill(14)
