"""The pick list as a PDF (A4 or Letter) and its barcodes as SVG: drawn from a `PickListOut`."""

from __future__ import annotations

import io

from barcode.codex import Code128
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.errors import Invalid
from app.formatting import qty
from app.queries.picklists import barcode_data
from app.schemas import (
    PickListOut,
    PickRowOut,
)
from labels.gs1 import LabelDataError
from labels.symbols import LINEAR_QUIET, bar_runs, gs1_128_pattern

PAPERS = {"a4": A4, "letter": LETTER}


def lot_pattern(row: PickRowOut, gtin: str | None = None) -> str | None:
    """Modules of the row's lot barcode ('1' bar, '0' space), as on its label: GS1-128 with a GTIN, plain
    Code 128 of "SKU LOT" without one; None if the lot code cannot be encoded."""
    try:
        return gs1_128_pattern(barcode_data(row.sku, gtin, row.lot_code, row.expiry))
    except LabelDataError:
        return None


def code128_pattern(text: str) -> str:
    """Plain Code 128 modules of `text` (the order number at the top of a pick list)."""
    return "".join(Code128(text).build())


def pattern_svg(pattern: str, *, height: int = 40, module: float = 1.0, label: str = "barcode") -> str:
    """An inline SVG of a linear barcode: whole-module bars with the quiet zone Code 128 needs."""
    quiet = LINEAR_QUIET
    width = (len(pattern) + 2 * quiet) * module
    bars = [f'<rect x="{(quiet + i) * module:g}" y="0" width="{n * module:g}" height="{height}"/>'
            for i, n in bar_runs(pattern)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" aria-label="{_escape(label)}" '
            f'width="{width:g}" height="{height}" viewBox="0 0 {width:g} {height}" shape-rendering="crispEdges">'
            f'<rect width="100%" height="100%" fill="#fff"/><g fill="#000">{"".join(bars)}</g></svg>')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def pick_list_pdf(pick_list: PickListOut, gtin_of: dict[str, str | None], *, paper: str = "a4") -> bytes:
    """The pick list as a printable PDF (A4 or Letter) with the order and lot barcodes."""
    if paper not in PAPERS:
        raise Invalid(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}", "paper")
    width, height = (float(v) for v in PAPERS[paper])
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height))
    canvas.setTitle(pick_list.title)
    margin = 15 * mm
    # 0.3 mm modules (12 mil) read reliably on office laser prints with handheld scanners.
    module = 0.3 * mm

    def bars(pattern: str, x: float, y: float, h: float, module: float) -> None:
        for i, n in bar_runs(pattern):
            canvas.rect(x + (LINEAR_QUIET + i) * module, y, n * module, h, stroke=0, fill=1)

    def header() -> float:
        y = height - margin
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(margin, y - 14, pick_list.title)
        canvas.setFont("Helvetica", 9)
        facts = [f"customer {pick_list.customer_name}" if pick_list.customer_name else "",
                 f"warehouse {pick_list.warehouse}" if pick_list.warehouse else "",
                 f"ship by {pick_list.ship_by}" if pick_list.ship_by else ""]
        canvas.drawString(margin, y - 28, " · ".join(f for f in facts if f))
        if pick_list.order_number:
            pattern = code128_pattern(pick_list.order_number)
            x = width - margin - (len(pattern) + 2 * LINEAR_QUIET) * module
            bars(pattern, x, y - 12 * mm, 12 * mm, module)
            canvas.drawString(x + LINEAR_QUIET * module, y - 12 * mm - 10, pick_list.order_number)
        y -= 22 * mm
        canvas.setFont("Helvetica-Bold", 9)
        for x, text in columns(["Location", "Product", "Lot", "Expiry", "Quantity"]):
            canvas.drawString(x, y, text)
        canvas.line(margin, y - 3, width - margin, y - 3)
        return float(y - 4)

    def columns(texts: list[str]) -> list[tuple[float, str]]:
        xs = [0, 22, 70, 110, 140]
        return [(margin + x * mm, t) for x, t in zip(xs, texts, strict=True)]

    y = header()
    row_h = 30 * mm
    room = width - 2 * margin - 22 * mm
    for row in pick_list.rows:
        if y - row_h < margin:
            canvas.showPage()
            y = header()
        canvas.setFont("Helvetica-Bold", 10)
        texts = [row.location, row.sku, row.lot_code, row.expiry.isoformat() if row.expiry else "—",
                 f"{qty(row.quantity)} {row.unit}"]
        for x, text in columns(texts):
            canvas.drawString(x, y - 5 * mm, text)
        canvas.setFont("Helvetica", 7)
        canvas.drawString(margin + 22 * mm, y - 9.5 * mm, row.product_name[:40])
        if not pick_list.order_number:
            canvas.drawString(margin + 70 * mm, y - 9.5 * mm, "; ".join(row.orders)[:90])
        pattern = lot_pattern(row, gtin_of.get(row.sku))
        if pattern is not None:
            # Whole barcode on the row: narrower modules only for very long lot codes.
            m = min(module, room / (len(pattern) + 2 * LINEAR_QUIET))
            bars(pattern, margin + 22 * mm, y - 24 * mm, 13 * mm, m)
            canvas.drawString(margin + 22 * mm + LINEAR_QUIET * m, y - 27.5 * mm, row.barcode_text)
        canvas.line(margin, y - row_h + 0.5, width - margin, y - row_h + 0.5)
        y -= row_h
    if pick_list.shortages:
        if y - 20 * mm < margin:
            canvas.showPage()
            y = height - margin
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(margin, y - 14, "Not allocated")
        canvas.setFont("Helvetica", 8)
        y -= 26
        for s in pick_list.shortages:
            for reason in [f"{s.order_number}/{s.line_no} {s.sku}: {qty(s.missing)} missing", *s.reasons]:
                if y < margin:
                    canvas.showPage()
                    y = height - margin
                    canvas.setFont("Helvetica", 8)
                canvas.drawString(margin, y, reason[:150])
                y -= 11
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
