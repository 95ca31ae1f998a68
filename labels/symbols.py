"""Barcode symbols for a lot as module patterns, and as ZPL field data a Zebra printer encodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import segno
import zxingcpp
from barcode.charsets import code128
from barcode.codex import Gs1_128

from labels.gs1 import GS, LotBarcodeData, bracketed_element_string, element_string

Matrix = tuple[tuple[bool, ...], ...]
"""Rows of a 2D symbol, True for a dark module, without quiet zone."""

LINEAR_QUIET = 10
"""Code 128 needs a clear margin of at least 10 modules on each side."""
DATAMATRIX_QUIET = 1
QR_QUIET = 4

_FNC1 = Gs1_128.FNC1_CHAR
_START = {103: "A", 104: "B", 105: "C"}


def min_dots(mm: float, dpi: int) -> int:
    """The fewest whole dots at `dpi` that are at least `mm` wide."""
    return math.ceil(mm * dpi / 25.4 - 1e-9)


def max_dots(mm: float, dpi: int) -> int:
    """The most whole dots at `dpi` that are at most `mm` wide."""
    return math.floor(mm * dpi / 25.4 + 1e-9)


@lru_cache(maxsize=256)
def gs1_128_codes(data: LotBarcodeData) -> tuple[int, ...]:
    """Code 128 symbol values from the start code on, without the check value.

    FNC1 leads (that is what makes Code 128 into GS1-128) and follows every variable-length field
    that is not last; the parentheses of the human-readable text are never encoded.
    """
    # Gs1_128 adds the leading FNC1 itself; FNC1 also stands in for the GS separator.
    return tuple(Gs1_128(element_string(data, separator=_FNC1)).encoded)


def code128_check(codes: Sequence[int]) -> int:
    """The Code 128 modulo-103 check value for values from the start code on."""
    return (codes[0] + sum(i * v for i, v in enumerate(codes) if i)) % 103


def gs1_128_pattern(data: LotBarcodeData) -> str:
    """The GS1-128 modules, '1' for a bar and '0' for a space, without quiet zones."""
    codes = gs1_128_codes(data)
    values = [*codes, code128_check(codes)]
    # Stop pattern plus the 2-module termination bar.
    bars: list[str] = [code128.CODES[v] for v in values]
    return "".join(bars) + str(code128.STOP) + "11"


def _matrix(rows: Sequence[Sequence[int]], dark: int) -> Matrix:
    return tuple(tuple(v == dark for v in row) for row in rows)


@lru_cache(maxsize=256)
def datamatrix_matrix(data: LotBarcodeData) -> Matrix:
    """A square GS1 DataMatrix (ECC 200) of the lot's element string."""
    symbol = zxingcpp.create_barcode(
        bracketed_element_string(data),
        zxingcpp.BarcodeFormat.DataMatrix,
        gs1=True,
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
    """Modules per side of a square GS1 DataMatrix in plain ASCII encodation.

    Any encoder packs at least as tightly as ASCII (one codeword per character or digit pair),
    so a printer's own DataMatrix is never larger than this.
    """
    text = element_string(data)
    codewords, i = 1, 0  # the leading FNC1
    while i < len(text):
        i += 2 if text[i : i + 2].isdigit() and len(text[i : i + 2]) == 2 else 1
        codewords += 1
    for side, capacity in _DM_SQUARES:
        if codewords <= capacity:
            return side
    raise RuntimeError(f"{codewords} codewords exceed every DataMatrix size")


_ZPL_B_SPECIAL = {">": ">0", "^": "><", "~": ">="}
"""Characters ZPL reserves inside ^FD, written as Code 128 invocation codes."""


def zpl_code128_field(codes: Sequence[int]) -> str:
    """^FD data for ^BC (mode N) that makes a Zebra printer encode exactly `codes`.

    Invocation codes from the ZPL manual: >9 >: >; start in subset A/B/C, >8 is FNC1,
    >5 switches to C, >6 to B (from A or C), >7 to A (from B or C).
    """
    out: list[str] = []
    subset = ""
    for i, value in enumerate(codes):
        if i == 0:
            subset = _START[value]
            out.append({"A": ">9", "B": ">:", "C": ">;"}[subset])
        elif value == 102:
            out.append(">8")
        elif subset == "C" and value < 100:
            out.append(f"{value:02d}")
        elif subset in "AB" and value < (64 if subset == "A" else 95):
            char = chr(value + 32)
            out.append(_ZPL_B_SPECIAL.get(char, char))
        elif value == 99 and subset != "C":
            out.append(">5")
            subset = "C"
        elif value == 100 and subset != "B":
            out.append(">6")
            subset = "B"
        elif value == 101 and subset != "A":
            out.append(">7")
            subset = "A"
        else:
            raise ValueError(f"Code 128 value {value} has no ZPL form in subset {subset}")
    return "".join(out)


ZPL_DATAMATRIX_ESCAPE = "_"


def zpl_datamatrix_field(data: LotBarcodeData) -> str:
    """^FD data for ^BX (quality 200, escape '_'): _1 is FNC1, a literal underscore is __."""
    text = element_string(data).replace("_", "__").replace(GS, "_1")
    return "_1" + text


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
