"""GS1 data for a lot: element string, human-readable text and Digital Link URL from one source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

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


def cset82(text: str) -> bool:
    """Whether every character of `text` is allowed in AI 10 and AI 240."""
    return bool(_CSET82.fullmatch(text))


class LabelDataError(ValueError):
    """The lot's data cannot be written in a GS1 barcode; the message says why."""


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
    """What a lot label encodes: the product (GTIN or sku), the lot code and its expiry."""

    lot: str
    gtin: str | None = None
    sku: str | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        if self.gtin:
            object.__setattr__(self, "gtin", normalize_gtin(self.gtin))
        elif not self.sku:
            raise LabelDataError("a label needs a GTIN or a sku")
        elif len(self.sku) > SKU_MAX or not _CSET82.fullmatch(self.sku):
            raise LabelDataError(
                f"sku {self.sku!r} cannot go in a GS1 barcode (AI 240): up to {SKU_MAX} "
                "letters, digits and GS1 punctuation, no spaces"
            )
        if not self.lot or len(self.lot) > LOT_MAX or not _CSET82.fullmatch(self.lot):
            raise LabelDataError(
                f"lot code {self.lot!r} cannot go in a GS1 barcode (AI 10): up to {LOT_MAX} "
                "letters, digits and GS1 punctuation, no spaces"
            )


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


def ai_fields(data: LotBarcodeData) -> list[tuple[str, str]]:
    """The (AI, value) pairs the label encodes, in the order they are encoded."""
    return _fields(data)


def bracketed_element_string(data: LotBarcodeData) -> str:
    """The element string in the '[01]…[17]…[10]…' syntax GS1 barcode encoders take as input.

    Brackets cannot occur in AI 10 or AI 240 values (they are outside the 82-character set), so
    unlike the parenthesised human-readable form this one can always be split back unambiguously.
    """
    return "".join(f"[{ai}]{value}" for ai, value in _fields(data))
