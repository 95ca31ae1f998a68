"""Errors raised for scans and photos that cannot be used, worded for the person holding the scanner."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanning.parsing import Scan


class ScanError(ValueError):
    """A scan or photo that cannot be used; `str(error)` is the message to show the user."""


class UnreadableScan(ScanError):
    """Nothing usable could be read: empty input, garbage, or GS1 data that breaks its format."""


class BadCheckDigit(ScanError):
    """A GTIN (or SSCC, GLN) whose last digit does not match the others."""


class ImpossibleDate(ScanError):
    """A YYMMDD date that does not exist, e.g. month 13 or 30 February."""


class DuplicateAI(ScanError):
    """The same GS1 field appears twice with different values."""


class PairingError(ScanError):
    """A GS1 field appears without the field it must go with, e.g. a lot without a product.

    `scan` holds everything that was read, so a page that already knows the product can still
    use the lot from a barcode that carries only the lot.
    """

    def __init__(self, message: str, scan: Scan) -> None:
        super().__init__(message)
        self.scan = scan


class MissingSeparator(ScanError):
    """A variable-length field seems to have swallowed the next field: the separator is missing."""


class ImageError(ScanError):
    """An uploaded photo that cannot be decoded at all."""


class EmptyImage(ImageError):
    """The upload has no bytes."""


class NotAnImage(ImageError):
    """The upload is not a picture format we can read."""


class ImageTooLarge(ImageError):
    """The upload is bigger than the limit, in bytes or in pixels."""
