"""Barcode symbols for a lot as module patterns, and as ZPL field data a Zebra printer encodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import segno
import zxingcpp
from barcode.charsets import code128

from labels.gs1 import GS, LabelDataError, LotBarcodeData, bracketed_element_string, element_string, plain_text

Matrix = tuple[tuple[bool, ...], ...]
"""Rows of a 2D symbol, True for a dark module, without quiet zone."""

LINEAR_QUIET = 10
"""Code 128 needs a clear margin of at least 10 modules on each side."""
DATAMATRIX_QUIET = 1
QR_QUIET = 4

_START = {103: "A", 104: "B", 105: "C"}
START_A, START_B, START_C = 103, 104, 105
CODE_B, CODE_A, FNC1 = 100, 101, 102
_FNC1_ITEM = None
"""FNC1 among the characters to encode (GS1 data only)."""


def min_dots(mm: float, dpi: int) -> int:
    """The fewest whole dots at `dpi` that are at least `mm` wide."""
    return math.ceil(mm * dpi / 25.4 - 1e-9)


def max_dots(mm: float, dpi: int) -> int:
    """The most whole dots at `dpi` that are at most `mm` wide."""
    return math.floor(mm * dpi / 25.4 + 1e-9)


def _items(data: LotBarcodeData) -> list[str | None]:
    """The characters a linear symbol encodes, FNC1 as None: leading FNC1 and separators for GS1 data."""
    if not data.gs1:
        return list(plain_text(data))
    out: list[str | None] = [_FNC1_ITEM]
    for ch in element_string(data):
        out.append(_FNC1_ITEM if ch == GS else ch)
    return out


def _digit(item: str | None) -> bool:
    return item is not None and "0" <= item <= "9"


@lru_cache(maxsize=256)
def linear_codes(data: LotBarcodeData) -> tuple[int, ...]:
    """Code 128 symbol values from the start code on, without the check value.

    GS1 data (GS1-128) starts with FNC1 and has one after every variable-length field that is not last;
    plain data has none. The encoding is chosen so that a thermal printer given ZPL draws exactly these
    values: digits go in pairs in subset C from the start, and at the first point where pairs run out the
    symbol switches to subset B once and stays there (never back to C, whose switch code renderers read
    differently). The last character never directly follows a switch, so a one-character lot keeps its
    character on every renderer (see `zpl_code128_field`).
    """
    items = _items(data)
    # Subset C for the leading run of digit pairs (FNC1 may sit between pairs).
    pairs: list[int | None] = []  # a value, or None for FNC1
    i = 0
    while i < len(items):
        if items[i] is _FNC1_ITEM:
            pairs.append(None)
            i += 1
        elif _digit(items[i]) and i + 1 < len(items) and _digit(items[i + 1]):
            pairs.append(int(f"{items[i]}{items[i + 1]}"))
            i += 2
        else:
            break
    tail = items[i:]
    if len(tail) == 1 and pairs and pairs[-1] is not None:
        # One character left for subset B would follow the switch code directly: take the last digit
        # pair into subset B as well.
        last = pairs.pop()
        assert last is not None
        tail = [*f"{last:02d}", *tail]
        i -= 2
    numeric = [p for p in pairs if p is not None]
    codes: list[int] = []
    if numeric:
        codes.append(START_C)
        codes.extend(FNC1 if p is None else p for p in pairs)
        if tail:
            codes.append(CODE_B)
    else:
        codes.append(START_B)
        tail = items
    for n, item in enumerate(tail):
        if item is _FNC1_ITEM:
            codes.append(FNC1)
            continue
        value = ord(item) - 32
        if not 0 <= value <= 94:
            raise LabelDataError(f"{item!r} cannot be encoded in Code 128 subset B")
        if n == len(tail) - 1 and n > 0 and tail[n - 1] == ">" and value < 64:
            # ZPL writes '>' as an invocation code, and a last character right after one is lost by some
            # renderers: it goes in subset A instead, where ZPL writes it as a digit pair.
            codes.append(CODE_A)
        codes.append(value)
    return tuple(codes)


def gs1_128_codes(data: LotBarcodeData) -> tuple[int, ...]:
    """The GS1-128 (or, without a GTIN, plain Code 128) symbol values; see `linear_codes`."""
    return linear_codes(data)


def code128_check(codes: Sequence[int]) -> int:
    """The Code 128 modulo-103 check value for values from the start code on."""
    return (codes[0] + sum(i * v for i, v in enumerate(codes) if i)) % 103


def gs1_128_pattern(data: LotBarcodeData) -> str:
    """The linear symbol's modules, '1' for a bar and '0' for a space, without quiet zones."""
    codes = linear_codes(data)
    values = [*codes, code128_check(codes)]
    # Stop pattern plus the 2-module termination bar.
    bars: list[str] = [code128.CODES[v] for v in values]
    return "".join(bars) + str(code128.STOP) + "11"


def _matrix(rows: Sequence[Sequence[int]], dark: int) -> Matrix:
    return tuple(tuple(v == dark for v in row) for row in rows)


@lru_cache(maxsize=256)
def datamatrix_matrix(data: LotBarcodeData) -> Matrix:
    """A square DataMatrix (ECC 200): GS1 DataMatrix of the element string, or plain of "SKU LOT"."""
    symbol = zxingcpp.create_barcode(
        bracketed_element_string(data) if data.gs1 else plain_text(data),
        zxingcpp.BarcodeFormat.DataMatrix,
        gs1=data.gs1,
        force_square=True,
    )
    pixels = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False))
    if pixels.ndim != 2 or pixels.shape[0] != pixels.shape[1]:
        raise RuntimeError(f"DataMatrix encoder returned a {pixels.shape} symbol, not a square")
    return _matrix(pixels.tolist(), 0)


@lru_cache(maxsize=256)
def qr_matrix(url: str) -> Matrix:
    """A QR code (level M) of the Digital Link URL."""
    qr = segno.make(url, error="m", boost_error=False, micro=False)
    return _matrix(qr.matrix, 1)


def qr_size_upper(url: str) -> int:
    """Modules per side of the QR a printer makes from `url`: byte mode, the largest it may pick."""
    qr = segno.make(url, error="m", boost_error=False, micro=False, mode="byte")
    return int(qr.symbol_size(border=0)[0])


# ECC 200 square symbols: (modules per side, data codewords).
_DM_SQUARES = (
    (10, 3),
    (12, 5),
    (14, 8),
    (16, 12),
    (18, 18),
    (20, 22),
    (22, 30),
    (24, 36),
    (26, 44),
    (32, 62),
    (36, 86),
    (40, 114),
    (44, 144),
    (48, 174),
    (52, 204),
    (64, 280),
    (72, 368),
)


def datamatrix_size_upper(data: LotBarcodeData) -> int:
    """Modules per side of a square DataMatrix in ASCII encodation.

    Any encoder packs at least as tightly as ASCII (one codeword per character or digit pair),
    so a printer's own DataMatrix is never larger than this.
    """
    text = element_string(data) if data.gs1 else plain_text(data)
    codewords, i = (1 if data.gs1 else 0), 0  # the leading FNC1
    while i < len(text):
        i += 2 if text[i : i + 2].isdigit() and len(text[i : i + 2]) == 2 else 1
        codewords += 1
    for side, capacity in _DM_SQUARES:
        if codewords <= capacity:
            return side
    raise RuntimeError(f"{codewords} codewords exceed every DataMatrix size")


# ^ and ~ start ZPL commands and \ is the ^FH escape itself: written as ^FH hex escapes, which every
# renderer turns back into the character before it encodes the field.
ZPL_HEX = {"^": "\\5E", "~": "\\7E", "\\": "\\5C"}


class ZplSymbolError(LabelDataError):
    """The symbol cannot be written in ZPL so that every printer and renderer draws the same one."""


def zpl_code128_field(codes: Sequence[int]) -> str:
    """^FD data for ^BC in mode N, with ^FH\\, that makes a Zebra-compatible printer draw exactly `codes`.

    Only the invocation codes every renderer reads alike are used (ZPL II manual, ^BC table): >; and >:
    start subsets C and B, >8 is FNC1, >6 switches C to B, >7 B to A, >0 is '>' in subset B. ^, ~ and \\
    are ^FH hex escapes. Some renderers drop a last character that directly follows an invocation code;
    `linear_codes` puts such a character in subset A (>7 and a digit pair), and where it cannot (a
    lower-case letter after '>') this raises ZplSymbolError.
    """
    out: list[str] = []
    subset = ""
    for i, value in enumerate(codes):
        last = i == len(codes) - 1
        if i == 0:
            subset = _START[value]
            if subset == "A":
                raise ZplSymbolError("symbols starting in Code 128 subset A are not written as ZPL")
            out.append({"B": ">:", "C": ">;"}[subset])
        elif value == FNC1:
            out.append(">8")
        elif subset == "C" and value < 100:
            out.append(f"{value:02d}")
        elif subset == "C" and value == CODE_B:
            out.append(">6")
            subset = "B"
        elif subset == "B" and value == CODE_A:
            out.append(">7")
            subset = "A"
        elif subset == "A" and value < 64:
            out.append(f"{value:02d}")
        elif subset == "B" and value < 95:
            char = chr(value + 32)
            if last and out[-1].startswith(">"):
                raise ZplSymbolError(
                    f"a Code 128 ending in {'>' if out[-1] == '>0' else ''}{char} cannot be printed the same "
                    "by every thermal printer")
            out.append(">0" if char == ">" else ZPL_HEX.get(char, char))
        else:
            raise ZplSymbolError(f"Code 128 value {value} has no ZPL form in subset {subset}")
    return "".join(out)


def zpl_datamatrix_escape(text: str) -> str:
    """A ^BX escape character that `text` does not contain, so no data is ever read as an escape.

    The ZPL manual doubles the escape character to encode it, but not every renderer does: a
    character that is absent is read the same everywhere. "_" where possible, as is usual.
    """
    for ch in "_`#|@$!%&*+-./:;<=>?[]{}'\"":
        if ch not in text:
            return ch
    raise ZplSymbolError("no escape character is free for this DataMatrix")


def zpl_datamatrix_field(data: LotBarcodeData) -> tuple[str, str]:
    """(escape character, ^FD data with ^FH\\) for ^BX quality 200.

    GS1 data starts with the escape character and 1 (FNC1) and has one for every separator; plain data
    has none, so it is an ordinary DataMatrix.
    """
    if data.gs1:
        text = element_string(data)
        escape = zpl_datamatrix_escape(text)
        body = escape + "1" + "".join(escape + "1" if ch == GS else ZPL_HEX.get(ch, ch) for ch in text)
        return escape, body
    text = plain_text(data)
    escape = zpl_datamatrix_escape(text)
    return escape, "".join(ZPL_HEX.get(ch, ch) for ch in text)


def bar_runs(pattern: str) -> list[tuple[int, int]]:
    """The bars of a linear pattern ("1" dark, "0" light module) as (first module, width in modules)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, module in enumerate(pattern + "0"):
        if module == "1" and start is None:
            start = i
        elif module != "1" and start is not None:
            runs.append((start, i - start))
            start = None
    return runs
