"""PDF for office and label printers: single labels one per page, or sheets of labels."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.pdfgen.canvas import Canvas

from labels.gs1 import LabelDataError
from labels.layout import Plan, baseline, linear_rects, matrix_rects, plan_label
from labels.model import LotLabel
from labels.sizes import PDF_DPI, LabelSizeError, label_size, sheet_layout
from labels.text import FONT_NAMES, register_fonts

_PT = 72 / PDF_DPI
"""Points per layout dot."""
_INSET = 0.01
"""Dots each rectangle edge is pulled in. Rasterisers that snap an edge lying a rounding error
past a pixel boundary to the next pixel would otherwise widen a bar by a whole dot."""


class _Painter:
    """Draws one plan onto a page, the frame's top-left at page dot (left, top)."""

    def __init__(self, canvas: Canvas, page_height_pt: float, left: int, top: int, plan: Plan):
        self.canvas = canvas
        self.page_height_pt = page_height_pt
        self.left = left
        self.top = top
        self.plan = plan

    def _page(self, x: int, y: int) -> tuple[int, int]:
        # A rotated frame is turned a quarter turn anticlockwise: its top edge becomes the
        # page's left edge and its text runs up the page.
        if self.plan.size.rotated:
            return self.left + y, self.top + self.plan.width - x
        return self.left + x, self.top + y

    def _pt(self, x: int, y: int) -> tuple[float, float]:
        px, py = self._page(x, y)
        return px * _PT, self.page_height_pt - py * _PT

    def rect(self, x: int, y: int, w: int, h: int) -> None:
        if self.plan.size.rotated:
            px, py = self._page(x + w, y)
            pw, ph = h, w
        else:
            (px, py), pw, ph = self._page(x, y), w, h
        self.canvas.rect(
            (px + _INSET) * _PT,
            self.page_height_pt - (py + ph - _INSET) * _PT,
            (pw - 2 * _INSET) * _PT,
            (ph - 2 * _INSET) * _PT,
            stroke=0,
            fill=1,
        )

    def paint(self) -> None:
        plan = self.plan
        c = self.canvas
        c.setFillColorRGB(0, 0, 0)
        for line in plan.texts:
            x = line.x + line.width // 2 if line.centred else line.x
            c.saveState()
            c.translate(*self._pt(x, baseline(line)))
            if plan.size.rotated:
                c.rotate(90)
            c.setFont(FONT_NAMES[line.bold], line.size * _PT)
            if line.centred:
                c.drawCentredString(0, 0, line.text)
            else:
                c.drawString(0, 0, line.text)
            c.restoreState()
        rects = linear_rects(plan.linear) if plan.linear else []
        for symbol in (plan.datamatrix, plan.qr):
            if symbol is not None:
                rects.extend(matrix_rects(symbol, merge=True))
        for rect in rects:
            self.rect(*rect)


def _canvas(buffer: io.BytesIO, page: tuple[float, float], title: str) -> Canvas:
    register_fonts()
    canvas = Canvas(buffer, pagesize=page, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Lotwise")
    return canvas


def _title(labels: Sequence[LotLabel]) -> str:
    lots = ", ".join(label.lot_code for label in labels[:3])
    return f"Lot labels: {lots}{' …' if len(labels) > 3 else ''}"


def to_pdf(labels: Sequence[LotLabel], size: str | None = None, *, sheet: str | None = None) -> bytes:
    """A PDF of `labels`: one per page at a single-label `size` (default 4x6), or on `sheet`s.

    Sizes: 4x6, 4x2, 2x1, 100x50mm, 62mm (62 × 100 mm from a continuous roll). Sheets:
    letter-30 (3 × 10 of 2⅝ × 1 in) and a4-21 (3 × 7 of 63.5 × 38.1 mm), filled in order.
    Geometry sits on a 1/300 in grid, so bars and modules are whole dots on 300, 600 and
    1200 dpi printers; print at 100 % ("actual size"), never "fit to page".
    """
    if not labels:
        raise LabelDataError("no labels to print")
    if size is not None and sheet is not None:
        raise LabelSizeError("give a label size or a sheet, not both")
    buffer = io.BytesIO()
    if sheet is None:
        spec = label_size(size or "4x6")
        plans = [plan_label(label, spec, PDF_DPI) for label in labels]
        # The page is the frame rounded to whole dots, so the grid starts at its corner.
        w, h = plans[0].width, plans[0].height
        page_w, page_h = (h, w) if spec.rotated else (w, h)
        canvas = _canvas(buffer, (page_w * _PT, page_h * _PT), _title(labels))
        for plan in plans:
            _Painter(canvas, page_h * _PT, 0, 0, plan).paint()
            canvas.showPage()
    else:
        layout = sheet_layout(sheet)
        plans = [plan_label(label, layout.label, PDF_DPI) for label in labels]
        page_w_pt, page_h_pt = layout.page_in[0] * 72, layout.page_in[1] * 72
        canvas = _canvas(buffer, (page_w_pt, page_h_pt), _title(labels))
        for start in range(0, len(plans), layout.per_page):
            for i, plan in enumerate(plans[start : start + layout.per_page]):
                row, column = divmod(i, layout.columns)
                # Label corners snapped to the dot grid (at most 1/600 in off the template).
                left = round((layout.left_in + column * layout.pitch_x_in) * PDF_DPI)
                top = round((layout.top_in + row * layout.pitch_y_in) * PDF_DPI)
                _Painter(canvas, page_h_pt, left, top, plan).paint()
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()
