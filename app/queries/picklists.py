"""Read side of allocation: allocations, shortages and pick lists per order and per wave, with barcodes and PDF."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from barcode.codex import Code128
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.db import get_or_404
from app.errors import Invalid, NotFound
from app.formatting import qty
from app.models import (
    RESERVING,
    AllocationState,
    LineShortage,
    Lot,
    Order,
    OrderAllocation,
    OrderLine,
    OrderStatus,
    Product,
)
from app.schemas import (
    AllocationOut,
    OrderAllocationsOut,
    PickListOut,
    PickRowOut,
    ShortageOut,
)
from labels.gs1 import LabelDataError, LotBarcodeData, human_readable
from labels.symbols import LINEAR_QUIET, gs1_128_pattern

PAPERS = {"a4": A4, "letter": LETTER}
OPEN_ORDERS = (OrderStatus.OPEN, OrderStatus.PARTIAL)


def _allocation_out(a: OrderAllocation) -> AllocationOut:
    line = a.order_line
    return AllocationOut(id=a.id, order_id=line.order_id, order_number=line.order.number, order_line_id=line.id,
                         line_no=line.line_no, sku=a.lot.product.sku, lot_id=a.lot_id, lot_code=a.lot.code,
                         expiry=a.lot.expiry, location=a.location.code, quantity=a.quantity,
                         picked_quantity=a.picked_quantity, state=a.state, reason=a.reason,
                         released_at=a.released_at)


def _load(session: Session, *where: Any) -> list[OrderAllocation]:
    return list(session.scalars(
        select(OrderAllocation)
        .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*where)
        .options(joinedload(OrderAllocation.order_line).joinedload(OrderLine.order),
                 joinedload(OrderAllocation.lot).joinedload(Lot.product),
                 joinedload(OrderAllocation.location))
        .order_by(OrderLine.line_no, OrderAllocation.id)
    ).unique())


def _shortages(session: Session, *where: Any) -> list[ShortageOut]:
    rows = session.execute(
        select(LineShortage, OrderLine, Order, Product)
        .join(OrderLine, OrderLine.id == LineShortage.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(Order.status.in_(OPEN_ORDERS), *where)
        .order_by(Order.id, OrderLine.line_no)
    )
    return [ShortageOut(order_id=o.id, order_number=o.number, order_line_id=line.id, line_no=line.line_no,
                        sku=p.sku, missing=s.missing, reasons=list(s.reasons)) for s, line, o, p in rows]


def _order(session: Session, order_id: int) -> Order:
    order = get_or_404(session, Order, order_id, "order_id", "order")
    return order


def order_allocations(session: Session, order_id: int, *, history: bool = True) -> OrderAllocationsOut:
    """The order's allocations (with released and shipped ones as history) and its open shortages."""
    order = _order(session, order_id)
    states = list(AllocationState) if history else list(RESERVING)
    allocs = _load(session, Order.id == order.id, OrderAllocation.state.in_(states))
    return OrderAllocationsOut(order_id=order.id, order_number=order.number, status=order.status,
                               allocations=[_allocation_out(a) for a in allocs],
                               shortages=_shortages(session, Order.id == order.id))


def lot_allocations(session: Session, lot_id: int) -> list[AllocationOut]:
    """Every allocation of a lot, newest first, with why it was released (a hold, a recall …)."""
    get_or_404(session, Lot, lot_id, "lot_id", "lot")
    allocs = _load(session, OrderAllocation.lot_id == lot_id)
    return [_allocation_out(a) for a in sorted(allocs, key=lambda a: -a.id)]


def barcode_text(sku: str, gtin: str | None, lot_code: str, expiry: date | None) -> str:
    """The text under the lot's GS1-128 barcode, "(01)…(17)…(10)…" ("" when the lot code cannot be encoded)."""
    try:
        return human_readable(_barcode_data(sku, gtin, lot_code, expiry))
    except LabelDataError:
        return ""


def _barcode_data(sku: str, gtin: str | None, lot_code: str, expiry: date | None) -> LotBarcodeData:
    return LotBarcodeData(lot=lot_code, gtin=gtin, sku=None if gtin else sku, expiry=expiry)


def _rows(allocs: Sequence[OrderAllocation]) -> list[PickRowOut]:
    """One row per lot and location, in walk order (location code), with each order line it serves."""
    groups: dict[tuple[int, int], list[OrderAllocation]] = defaultdict(list)
    for a in allocs:
        groups[(a.location_id, a.lot_id)].append(a)
    rows = []
    for group in groups.values():
        a = group[0]
        product = a.lot.product
        rows.append(PickRowOut(
            location=a.location.code, sku=product.sku, product_name=product.name, unit=product.unit,
            lot_id=a.lot_id, lot_code=a.lot.code, expiry=a.lot.expiry,
            quantity=sum((x.quantity for x in group), Decimal(0)),
            picked_quantity=sum((x.picked_quantity for x in group), Decimal(0)),
            orders=[f"{x.order_line.order.number}/{x.order_line.line_no} × {qty(x.quantity)}" for x in group],
            barcode_text=barcode_text(product.sku, product.gtin, a.lot.code, a.lot.expiry)))
    rows.sort(key=lambda r: (r.location, r.sku, r.expiry or date.max, r.lot_code))
    return rows


def order_pick_list(session: Session, order_id: int) -> PickListOut:
    """What to pick for one order, by location, with what could not be allocated."""
    order = _order(session, order_id)
    allocs = _load(session, Order.id == order.id, OrderAllocation.state.in_(RESERVING))
    return PickListOut(title=f"Pick list · order {order.number}", order_id=order.id, order_number=order.number,
                       customer_name=order.customer.name, ship_by=order.ship_date, warehouse=order.warehouse.code,
                       rows=_rows(allocs), shortages=_shortages(session, Order.id == order.id))


def wave_pick_list(session: Session, ship_by: date, sku: str | None = None) -> PickListOut:
    """What to pick for every open order shipping on or before `ship_by`, merged per lot and location."""
    where: list[Any] = [Order.status.in_(OPEN_ORDERS), Order.ship_date <= ship_by]
    if sku is not None:
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise NotFound(f"no product with sku {sku!r}", "sku")
        where.append(OrderLine.product_id == product.id)
    allocs = _load(session, OrderAllocation.state.in_(RESERVING), *where)
    what = f" · {sku}" if sku else ""
    return PickListOut(title=f"Wave pick list · ship by {ship_by.isoformat()}{what}", ship_by=ship_by, sku=sku,
                       rows=_rows(allocs), shortages=_shortages(session, *where))


# --- barcodes -----------------------------------------------------------------------------------


def lot_pattern(row: PickRowOut, gtin: str | None = None) -> str | None:
    """GS1-128 modules of the row's lot ('1' bar, '0' space), or None if the lot code cannot be encoded."""
    try:
        return gs1_128_pattern(_barcode_data(row.sku, gtin, row.lot_code, row.expiry))
    except LabelDataError:
        return None


def code128_pattern(text: str) -> str:
    """Plain Code 128 modules of `text` (the order number at the top of a pick list)."""
    return "".join(Code128(text).build())


def pattern_svg(pattern: str, *, height: int = 40, module: float = 1.0, label: str = "barcode") -> str:
    """An inline SVG of a linear barcode: whole-module bars with the quiet zone Code 128 needs."""
    quiet = LINEAR_QUIET
    width = (len(pattern) + 2 * quiet) * module
    bars = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "1":
            j = i
            while j < len(pattern) and pattern[j] == "1":
                j += 1
            bars.append(f'<rect x="{(quiet + i) * module:g}" y="0" width="{(j - i) * module:g}" height="{height}"/>')
            i = j
        else:
            i += 1
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" aria-label="{_escape(label)}" '
            f'width="{width:g}" height="{height}" viewBox="0 0 {width:g} {height}" shape-rendering="crispEdges">'
            f'<rect width="100%" height="100%" fill="#fff"/><g fill="#000">{"".join(bars)}</g></svg>')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def gtins(session: Session, skus: Sequence[str]) -> dict[str, str | None]:
    """The GTIN of each sku (None when the product has none), for the lot barcodes."""
    return dict(session.execute(select(Product.sku, Product.gtin).where(Product.sku.in_(skus))).all())


# --- PDF ----------------------------------------------------------------------------------------


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
        i = 0
        while i < len(pattern):
            if pattern[i] == "1":
                j = i
                while j < len(pattern) and pattern[j] == "1":
                    j += 1
                canvas.rect(x + (LINEAR_QUIET + i) * module, y, (j - i) * module, h, stroke=0, fill=1)
                i = j
            else:
                i += 1

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

