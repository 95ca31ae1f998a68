"""Where everything goes on a label, in whole printer dots, for every renderer to draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labels.gs1 import LotBarcodeData, ai_fields, human_readable, plain_text
from labels.model import LotLabel
from labels.sizes import LabelFitError, LabelSize
from labels.symbols import (
    DATAMATRIX_QUIET,
    LINEAR_QUIET,
    QR_QUIET,
    Matrix,
    ZplSymbolError,
    bar_runs,
    datamatrix_matrix,
    datamatrix_size_upper,
    gs1_128_pattern,
    linear_codes,
    max_dots,
    min_dots,
    qr_matrix,
    qr_size_upper,
    zpl_code128_field,
)
from labels.text import ellipsize, fit_size, wrap

# Module sizes in mm: (smallest that still scans reliably, largest worth spending space on).
# GS1-128: GS1's minimum X-dimension is 0.25 mm, i.e. 2 dots at 203 dpi and 3 at 300 dpi.
LINEAR_MM = (0.25, 0.51)
DATAMATRIX_MM = (0.30, 1.0)
# QR: read by phone cameras; 0.33 mm is 3 dots at 203 dpi and 4 at 300 dpi.
QR_MM = (0.33, 1.0)
SMALL_DATAMATRIX_MAX_MM = 0.5
"""On small labels a bigger DataMatrix would only take room from the lot code."""
ZPL_QR_MAX_MAGNIFICATION = 10


@dataclass(frozen=True)
class TextLine:
    """One line of text; (x, y) is the top-left of a box `width` wide and `size` high."""

    x: int
    y: int
    width: int
    size: int
    text: str
    bold: bool = False
    centred: bool = False


@dataclass(frozen=True)
class LinearSymbol:
    """A GS1-128 (or plain Code 128) symbol; (x, y) is the top-left of its first bar (the quiet zones lie outside)."""

    x: int
    y: int
    module: int
    height: int
    codes: tuple[int, ...]
    pattern: str

    @property
    def width(self) -> int:
        """Width from the first bar to the last, in dots."""
        return len(self.pattern) * self.module


@dataclass(frozen=True)
class MatrixSymbol:
    """A (GS1) DataMatrix or QR code; (x, y) is its top-left module (quiet zone outside)."""

    kind: Literal["datamatrix", "qr"]
    x: int
    y: int
    module: int
    side: int
    """Modules per side the layout reserved room for."""
    matrix: Matrix | None
    """The modules to draw; None in a ZPL plan, where the printer makes the symbol."""


@dataclass(frozen=True)
class Plan:
    """A label laid out in dots at `dpi` in its frame (before any rotation onto the page)."""

    size: LabelSize
    dpi: int
    width: int
    height: int
    data: LotBarcodeData
    url: str
    texts: tuple[TextLine, ...]
    linear: LinearSymbol | None
    datamatrix: MatrixSymbol | None
    qr: MatrixSymbol | None


def _fit(content: int, quiet: int, room: int, mm: tuple[float, float], dpi: int) -> int | None:
    """The largest whole-dot module in the `mm` range for which the symbol fits `room` dots."""
    for module in range(max_dots(mm[1], dpi), min_dots(mm[0], dpi) - 1, -1):
        if (content + 2 * quiet) * module <= room:
            return module
    return None


@dataclass
class _Builder:
    label: LotLabel
    size: LabelSize
    dpi: int
    for_zpl: bool
    width: int = 0
    height: int = 0
    texts: list[TextLine] = field(default_factory=list)
    linear: LinearSymbol | None = None
    datamatrix: MatrixSymbol | None = None
    qr: MatrixSymbol | None = None

    def __post_init__(self) -> None:
        w_in, h_in = self.size.frame_in
        self.width = round(w_in * self.dpi)
        self.height = round(h_in * self.dpi)

    @property
    def data(self) -> LotBarcodeData:
        return self.label.barcode_data

    def pt(self, points: float) -> int:
        return round(points * self.dpi / 72)

    def inch(self, inches: float) -> int:
        return round(inches * self.dpi)

    @staticmethod
    def lead(size: int) -> int:
        return round(size * 1.2)

    def line(
        self,
        x: int,
        y: int,
        width: int,
        text: str,
        size: int,
        bold: bool = False,
        centred: bool = False,
    ) -> int:
        """Add a line of text; return the top of the next line (`y` again if there is no text)."""
        if not text:
            return y
        self.texts.append(TextLine(x, y, width, size, text, bold, centred))
        return y + self.lead(size)

    def lines(
        self,
        x: int,
        y: int,
        width: int,
        text: str,
        size: int,
        max_lines: int,
        bold: bool = False,
    ) -> int:
        for line in wrap(text, size, bold, width, max_lines):
            y = self.line(x, y, width, line, size, bold)
        return y

    # --- the texts every label carries -------------------------------------------------------

    def lot_line(self, x: int, y: int, width: int, largest: float) -> int:
        """The lot code, in full on one line, as big as fits; LabelFitError if it cannot be read."""
        text = f"LOT {self.label.lot_code}"
        size = fit_size(text, True, width, self.pt(largest), self.pt(6))
        if size is None:
            raise LabelFitError(
                f"lot code {self.label.lot_code!r} is too long to print in full on a "
                f"{self.size.title} label; print a larger label"
            )
        return self.line(x, y, width, text, size, bold=True)

    def expiry_text(self) -> str:
        expiry = self.label.expiry
        return f"EXP {expiry.isoformat()}" if expiry else "No expiry"

    def production_text(self) -> str:
        made = self.label.production_date
        return f"PROD {made.isoformat()}" if made else ""

    def quantity_text(self) -> str:
        quantity = self.label.quantity_text
        return f"QTY {quantity}" if quantity else ""

    def id_text(self, *, company: bool) -> str:
        parts = [self.label.company] if company and self.label.company else []
        parts.append(f"SKU {self.label.sku}")
        if self.data.gtin:
            parts.append(f"GTIN {self.data.gtin}")
        return " · ".join(parts)

    def not_fit_text(self, symbol: str) -> str:
        return f"{symbol} does not fit on {self.size.title}; print a larger label"

    @property
    def linear_name(self) -> str:
        return "GS1-128 barcode" if self.data.gs1 else "Code 128 barcode"

    @property
    def matrix_name(self) -> str:
        return "GS1 DataMatrix" if self.data.gs1 else "DataMatrix"

    def hri(self, width: int, largest: float) -> tuple[list[str], int]:
        """The text under the linear barcode in at most two whole lines: GS1 broken between fields."""
        if self.data.gs1:
            text = human_readable(self.data)
            tokens = [f"({ai}){value}" for ai, value in ai_fields(self.data)]
        else:
            text = plain_text(self.data)
            tokens = text.split(" ")
            tokens = [t + " " for t in tokens[:-1]] + tokens[-1:]
        size = self.pt(largest)
        while True:
            lines = wrap(text, size, False, width, 3, tokens=tokens, joiner="")
            if len(lines) <= 2 or size <= self.pt(5):
                return lines[:2], size
            size -= 1

    # --- symbols -----------------------------------------------------------------------------

    def zpl_unsafe(self) -> str | None:
        """Why the linear symbol cannot go in ZPL that every printer reads alike, or None."""
        if not self.for_zpl:
            return None
        try:
            zpl_code128_field(linear_codes(self.data))
        except ZplSymbolError as exc:
            return f"{self.linear_name} left off: {exc}"
        return None

    def place_linear(self, left: int, right: int, y: int, height: int) -> bool:
        """Centre the linear barcode between `left` and `right` if it fits at a scannable module."""
        pattern = gs1_128_pattern(self.data)
        module = _fit(len(pattern), LINEAR_QUIET, right - left, LINEAR_MM, self.dpi)
        if module is None:
            return False
        x = left + (right - left - len(pattern) * module) // 2
        self.linear = LinearSymbol(x, y, module, height, linear_codes(self.data), pattern)
        return True

    def matrix_symbol(
        self,
        kind: Literal["datamatrix", "qr"],
        room: int,
        max_mm: float | None = None,
    ) -> tuple[int, int, Matrix | None] | None:
        """(module, side, matrix) of the largest symbol that fits a `room`-dot square, or None."""
        matrix: Matrix | None
        if kind == "datamatrix":
            matrix = None if self.for_zpl else datamatrix_matrix(self.data)
            side = datamatrix_size_upper(self.data) if matrix is None else len(matrix)
            quiet, mm = DATAMATRIX_QUIET, DATAMATRIX_MM
        else:
            matrix = None if self.for_zpl else qr_matrix(self.label.url)
            side = qr_size_upper(self.label.url) if matrix is None else len(matrix)
            quiet, mm = QR_QUIET, QR_MM
        if max_mm is not None:
            mm = (mm[0], max_mm)
        module = _fit(side, quiet, room, mm, self.dpi)
        if module is not None and kind == "qr" and self.for_zpl:
            module = min(module, ZPL_QR_MAX_MAGNIFICATION)
        return None if module is None else (module, side, matrix)

    def set_matrix(
        self,
        kind: Literal["datamatrix", "qr"],
        x: int,
        y: int,
        fitted: tuple[int, int, Matrix | None],
    ) -> MatrixSymbol:
        """Place a fitted symbol with the top-left of its quiet zone at (x, y)."""
        module, side, matrix = fitted
        quiet = (DATAMATRIX_QUIET if kind == "datamatrix" else QR_QUIET) * module
        symbol = MatrixSymbol(kind, x + quiet, y + quiet, module, side, matrix)
        if kind == "datamatrix":
            self.datamatrix = symbol
        else:
            self.qr = symbol
        return symbol

    @staticmethod
    def outer(fitted: tuple[int, int, Matrix | None], quiet: int) -> int:
        """Size of a fitted symbol with its quiet zone, in dots."""
        module, side, _ = fitted
        return (side + 2 * quiet) * module

    def plan(self) -> Plan:
        return Plan(
            self.size,
            self.dpi,
            self.width,
            self.height,
            self.data,
            self.label.url,
            tuple(self.texts),
            self.linear,
            self.datamatrix,
            self.qr,
        )


def _bottom_band(b: _Builder, margin: int, bar_height: int, hri_pt: float, notice_pt: float) -> int:
    """The linear barcode with its human-readable text along the bottom; return the band's top."""
    width = b.width - 2 * margin
    hri_lines, hri_size = b.hri(width, hri_pt)
    y = b.height - margin - len(hri_lines) * b.lead(hri_size)
    for i, line in enumerate(hri_lines):
        b.line(margin, y + i * b.lead(hri_size), width, line, hri_size, centred=True)
    bars_top = y - b.pt(3) - bar_height
    # The quiet zones may run into the side margins: they only need to be blank.
    edge = b.inch(0.03)
    unsafe = b.zpl_unsafe()
    if unsafe is not None or not b.place_linear(edge, b.width - edge, bars_top, bar_height):
        size = b.pt(notice_pt)
        notice = wrap(unsafe or b.not_fit_text(b.linear_name), size, True, width, 2)
        top = bars_top + (bar_height - len(notice) * b.lead(size)) // 2
        for i, line in enumerate(notice):
            b.line(margin, top + i * b.lead(size), width, line, size, bold=True, centred=True)
    return bars_top


def _tall(b: _Builder) -> None:
    label = b.label
    m = b.inch(0.15)
    width = b.width - 2 * m
    y = m
    y = b.line(m, y, width, ellipsize(label.company, b.pt(11), False, width), b.pt(11))
    y = b.lines(m, y, width, label.product_name, b.pt(22), 2, bold=True)
    y = b.line(m, y, width, ellipsize(b.id_text(company=False), b.pt(11), False, width), b.pt(11))
    y += b.pt(6)
    y = b.lot_line(m, y, width, 40)
    y = b.line(m, y, width, b.expiry_text(), b.pt(24), bold=True)
    y = b.line(m, y, width, b.production_text(), b.pt(13))
    y = b.line(m, y, width, b.quantity_text(), b.pt(16), bold=True)
    y = b.lines(m, y, width, label.free_text, b.pt(11), 4)

    bars_top = _bottom_band(b, m, b.inch(1.0), 11, 12)

    # DataMatrix left and QR right, in the room between the text and the GS1-128.
    top = y + b.pt(6)
    room_h = bars_top - b.pt(10) - top
    gap = b.pt(12)
    room = min(room_h, (width - gap) // 2)
    dm = b.matrix_symbol("datamatrix", room)
    if dm is not None:
        b.set_matrix("datamatrix", m, top + (room_h - b.outer(dm, DATAMATRIX_QUIET)) // 2, dm)
    else:
        b.lines(m, top, width // 2, b.not_fit_text(b.matrix_name), b.pt(11), 3, bold=True)
    qr = b.matrix_symbol("qr", room)
    if qr is not None:
        outer = b.outer(qr, QR_QUIET)
        b.set_matrix("qr", b.width - m - outer, top + (room_h - outer) // 2, qr)
    if b.linear is None and b.datamatrix is None:
        raise LabelFitError(f"no barcode fits on a {b.size.title} label; print a larger label")


def _wide(b: _Builder) -> None:
    label = b.label
    m = b.inch(0.08)
    width = b.width - 2 * m
    y = m
    y = b.line(m, y, width, ellipsize(label.product_name, b.pt(13), True, width), b.pt(13), bold=True)
    y = b.line(m, y, width, ellipsize(b.id_text(company=True), b.pt(8), False, width), b.pt(8))
    top = y + b.pt(2)

    bars_top = _bottom_band(b, m, round(b.height * 0.22), 8, 9)

    # Symbols right-aligned in squares as tall as the middle band; the text takes the rest.
    bottom = bars_top - b.pt(4)
    room = bottom - top
    gap = b.pt(6)
    right = b.width - m
    qr = b.matrix_symbol("qr", room)
    if qr is not None:
        outer = b.outer(qr, QR_QUIET)
        right = b.set_matrix("qr", right - outer, top + (room - outer) // 2, qr).x
        right -= QR_QUIET * qr[0] + gap
    dm = b.matrix_symbol("datamatrix", room)
    if dm is not None:
        outer = b.outer(dm, DATAMATRIX_QUIET)
        right = b.set_matrix("datamatrix", right - outer, top + (room - outer) // 2, dm).x
        right -= DATAMATRIX_QUIET * dm[0] + gap
    elif b.linear is None:
        raise LabelFitError(f"no barcode fits on a {b.size.title} label; print a larger label")
    text_width = right - m

    y = b.lot_line(m, top, text_width, 18)
    y = b.line(m, y, text_width, b.expiry_text(), b.pt(12), bold=True)
    if dm is None:
        y = b.lines(m, y, text_width, b.not_fit_text(b.matrix_name), b.pt(8), 2, bold=True)
    details = " · ".join(t for t in (b.production_text(), b.quantity_text()) if t)
    y = b.line(m, y, text_width, ellipsize(details, b.pt(8), False, text_width), b.pt(8))
    if label.free_text:
        size = b.pt(7)
        room_lines = (bottom - y - size) // b.lead(size) + 1
        if room_lines > 0:
            b.lines(m, y, text_width, label.free_text, size, room_lines)


def _small(b: _Builder) -> None:
    label = b.label
    m = b.inch(0.06)
    room = min(b.height - 2 * m, round(b.width * 0.45))
    dm = b.matrix_symbol("datamatrix", room, SMALL_DATAMATRIX_MAX_MM)
    if dm is None:
        raise LabelFitError(
            f"the {b.matrix_name} for lot {label.lot_code!r} does not fit on a "
            f"{b.size.title} label; print a larger label"
        )
    outer = b.outer(dm, DATAMATRIX_QUIET)
    b.set_matrix("datamatrix", m, (b.height - outer) // 2, dm)
    x = m + outer + b.pt(3)
    width = b.width - m - x
    bottom = b.height - m

    y = m
    y = b.line(x, y, width, ellipsize(label.product_name, b.pt(8), True, width), b.pt(8), bold=True)
    y = b.lot_line(x, y, width, 16)
    y = b.line(x, y, width, b.expiry_text(), b.pt(9), bold=True)
    # The rest only as far as there is room for it.
    optional = [
        (f"SKU {label.sku}", b.pt(7)),
        (b.production_text(), b.pt(6)),
        (b.quantity_text(), b.pt(7)),
    ]
    for text, size in optional:
        if text and y + size <= bottom:
            y = b.line(x, y, width, ellipsize(text, size, False, width), size)
    if label.free_text:
        size = b.pt(6)
        room_lines = (bottom - y - size) // b.lead(size) + 1
        if room_lines > 0:
            b.lines(x, y, width, label.free_text, size, room_lines)


_TEMPLATES = {"tall": _tall, "wide": _wide, "small": _small}


def plan_label(label: LotLabel, size: LabelSize, dpi: int, *, for_zpl: bool = False) -> Plan:
    """Lay `label` out on `size` at `dpi`; LabelFitError if it cannot be printed readably.

    For ZPL the printer makes the 2D symbols itself, so room is kept for the largest symbol it
    could make and no module matrix is attached.
    """
    builder = _Builder(label, size, dpi, for_zpl)
    _TEMPLATES[size.template](builder)
    return builder.plan()


Rect = tuple[int, int, int, int]
"""x, y, width, height in dots, y downwards."""


def baseline(line: TextLine) -> int:
    """Where the baseline of `line` sits: its box top plus the font's ascent."""
    return line.y + round(line.size * 0.8)


def linear_rects(bars: LinearSymbol) -> list[Rect]:
    """One rectangle per bar of the linear symbol."""
    return [(bars.x + start * bars.module, bars.y, width * bars.module, bars.height)
            for start, width in bar_runs(bars.pattern)]


def matrix_rects(symbol: MatrixSymbol, *, merge: bool) -> list[Rect]:
    """Rectangles for the dark modules: one per module, or one per horizontal run if `merge`."""
    if symbol.matrix is None:
        raise ValueError("a ZPL plan carries no module matrix")
    m = symbol.module
    rects: list[Rect] = []
    for r, row in enumerate(symbol.matrix):
        y = symbol.y + r * m
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            end = c + 1
            while merge and end < len(row) and row[end]:
                end += 1
            rects.append((symbol.x + c * m, y, (end - c) * m, m))
            c = end
    return rects
