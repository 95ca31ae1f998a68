"""Reads what scanners, keyboards and phone cameras deliver: scanner strings and barcode photos."""

from scanning.advice import Advice, advise
from scanning.counts import Counted
from scanning.decoding import DEFAULT_BUDGET_MS, Decoded, decode
from scanning.errors import (
    BadCheckDigit,
    DuplicateAI,
    EmptyImage,
    ImageError,
    ImageTooLarge,
    ImpossibleDate,
    MissingSeparator,
    NotAnImage,
    PairingError,
    ScanError,
    UnreadableScan,
)
from scanning.parsing import Scan, parse

__all__ = [
    "DEFAULT_BUDGET_MS",
    "Advice",
    "BadCheckDigit",
    "Counted",
    "Decoded",
    "DuplicateAI",
    "EmptyImage",
    "ImageError",
    "ImageTooLarge",
    "ImpossibleDate",
    "MissingSeparator",
    "NotAnImage",
    "PairingError",
    "Scan",
    "ScanError",
    "UnreadableScan",
    "advise",
    "decode",
    "parse",
]
