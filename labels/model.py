"""What goes on a lot label, validated once so every renderer can trust it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from labels.gs1 import LabelDataError, LotBarcodeData, label_url

# Control characters would end or corrupt a ZPL field and have no meaning on paper.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def _clean(name: str, value: str, *, multiline: bool = False) -> None:
    if _CONTROL.search(value) or (not multiline and "\n" in value):
        raise LabelDataError(f"{name} {value!r} contains control characters")


@dataclass(frozen=True)
class LotLabel:
    """One lot label; data its barcodes cannot carry raises LabelDataError when the label is made."""

    company: str
    product_name: str
    sku: str
    lot_code: str
    base_url: str
    """Where the site lives; the QR code carries the lot's GS1 Digital Link (or, without a GTIN, its lot
    finder URL) under this URL."""
    gtin: str | None = None
    expiry: date | None = None
    production_date: date | None = None
    quantity: Decimal | None = None
    unit: str = ""
    free_text: str = ""
    """Optional extra line(s), e.g. allergens; newlines start a new line."""
    barcode_data: LotBarcodeData = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.product_name.strip():
            raise LabelDataError("a label needs a product name")
        for name in ("company", "product_name", "sku", "unit"):
            _clean(name.replace("_", " "), getattr(self, name))
        _clean("free text", self.free_text, multiline=True)
        if not _URL.match(self.base_url):
            raise LabelDataError(f"base URL {self.base_url!r} must be an http(s) address without spaces")
        if self.quantity is not None and not self.quantity.is_finite():
            raise LabelDataError(f"quantity {self.quantity} is not a number")
        object.__setattr__(
            self,
            "barcode_data",
            LotBarcodeData(lot=self.lot_code, gtin=self.gtin or None, sku=self.sku, expiry=self.expiry),
        )

    @property
    def url(self) -> str:
        """The URL the QR code carries: the GS1 Digital Link, or the lot finder on a plain label."""
        return label_url(self.barcode_data, self.base_url)

    @property
    def quantity_text(self) -> str:
        """'12.5 kg', or '' without a quantity; trailing zeros dropped, never an exponent."""
        if self.quantity is None:
            return ""
        q = self.quantity.normalize()
        text = format(q, "f")
        return f"{text} {self.unit}".strip()
