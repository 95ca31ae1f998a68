"""Read side of allocation: allocations, shortages and pick lists per order and per wave, with barcodes and PDF."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.db import get_or_404
from app.errors import NotFound
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
from labels.gs1 import LabelDataError, LotBarcodeData
from labels.gs1 import barcode_text as label_barcode_text

OPEN_ORDERS = (OrderStatus.OPEN, OrderStatus.PARTIAL)


def allocation_out(a: OrderAllocation) -> AllocationOut:
    """An allocation as the API, the pages and the pick results show it."""
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
                               allocations=[allocation_out(a) for a in allocs],
                               shortages=_shortages(session, Order.id == order.id))


def lot_allocations(session: Session, lot_id: int) -> list[AllocationOut]:
    """Every allocation of a lot, newest first, with why it was released (a hold, a recall …)."""
    get_or_404(session, Lot, lot_id, "lot_id", "lot")
    allocs = _load(session, OrderAllocation.lot_id == lot_id)
    return [allocation_out(a) for a in sorted(allocs, key=lambda a: -a.id)]


def barcode_text(sku: str, gtin: str | None, lot_code: str, expiry: date | None) -> str:
    """The text under the lot's barcode, as on its label: "(01)…(17)…(10)…" with a GTIN, "SKU LOT" without
    one ("" when the lot code cannot be encoded)."""
    try:
        return label_barcode_text(barcode_data(sku, gtin, lot_code, expiry))
    except LabelDataError:
        return ""


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


def gtins(session: Session, skus: Sequence[str]) -> dict[str, str | None]:
    """The GTIN of each sku (None when the product has none), for the lot barcodes."""
    return dict(session.execute(select(Product.sku, Product.gtin).where(Product.sku.in_(skus))).all())


# --- PDF ----------------------------------------------------------------------------------------


def barcode_data(sku: str, gtin: str | None, lot_code: str, expiry: date | None) -> LotBarcodeData:
    return LotBarcodeData(lot=lot_code, gtin=gtin, sku=None if gtin else sku, expiry=expiry)
