"""Lots with their stock, history, genealogy and shipments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session, aliased

from app.db import get_or_404
from app.models import (
    Balance,
    Customer,
    Location,
    Lot,
    LotLink,
    LotStatus,
    Movement,
    Product,
    ProductionRun,
    Shipment,
    ShipmentLine,
    Supplier,
    User,
    Warehouse,
)
from app.schemas import LinkOut, LotDetailOut, LotOut, MovementOut, ShippedOut, StockOut


def _on_hand_subquery() -> Subquery:
    return select(Balance.lot_id, func.sum(Balance.on_hand).label("on_hand")).group_by(Balance.lot_id).subquery()


def lot_rows(
    session: Session,
    *,
    sku: str | None = None,
    code: str | None = None,
    status: LotStatus | None = None,
    expiring_before: date | None = None,
    in_stock: bool | None = None,
    supplier_lot_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LotOut]:
    """Lots matching the filters, soonest expiry first, each with its total on hand."""
    stock = _on_hand_subquery()
    on_hand = func.coalesce(stock.c.on_hand, 0)
    q = (
        select(Lot, Product, Supplier, on_hand)
        .join(Product, Lot.product_id == Product.id)
        .outerjoin(Supplier, Lot.supplier_id == Supplier.id)
        .outerjoin(stock, stock.c.lot_id == Lot.id)
    )
    if sku:
        q = q.where(Product.sku == sku)
    if code:
        q = q.where(Lot.code == code)
    if status:
        q = q.where(Lot.status == status)
    if expiring_before:
        q = q.where(Lot.expiry < expiring_before)
    if supplier_lot_code:
        q = q.where(Lot.supplier_lot_code == supplier_lot_code)
    if in_stock is True:
        q = q.where(stock.c.on_hand > 0)
    elif in_stock is False:
        q = q.where(func.coalesce(stock.c.on_hand, 0) == 0)
    q = q.order_by(Lot.expiry.is_(None), Lot.expiry, Lot.made_on, Lot.code, Lot.id).limit(limit).offset(offset)
    return [_lot_out(lot, product, supplier, qty) for lot, product, supplier, qty in session.execute(q)]


def _lot_out(lot: Lot, product: Product, supplier: Supplier | None, on_hand: Decimal | int) -> LotOut:
    return LotOut(
        id=lot.id, sku=product.sku, product_name=product.name, code=lot.code, origin=lot.origin,
        supplier_id=lot.supplier_id, supplier_name=supplier.name if supplier else None,
        supplier_lot_code=lot.supplier_lot_code, made_on=lot.made_on, expiry=lot.expiry,
        unit_cost=lot.unit_cost, unit=product.unit, status=lot.status, hold_reason=lot.hold_reason,
        on_hand=Decimal(on_hand),
    )


def stock_of(session: Session, lot_id: int) -> list[StockOut]:
    rows = session.execute(
        select(Location, Warehouse, Balance.on_hand)
        .join(Location, Balance.location_id == Location.id)
        .join(Warehouse, Location.warehouse_id == Warehouse.id)
        .where(Balance.lot_id == lot_id, Balance.on_hand != 0)
        .order_by(Location.code)
    )
    return [StockOut(location=loc.code, location_kind=loc.kind, warehouse=wh.code, on_hand=qty)
            for loc, wh, qty in rows]


def history_of(session: Session, lot_id: int) -> list[MovementOut]:
    rows = session.execute(
        select(Movement, Location.code, User.username)
        .join(Location, Movement.location_id == Location.id)
        .outerjoin(User, Movement.user_id == User.id)
        .where(Movement.lot_id == lot_id)
        .order_by(Movement.booked_on, Movement.id)
    )
    return [
        MovementOut(id=m.id, kind=m.kind.value, quantity=m.quantity, location=code, ref_type=m.ref_type,
                    ref_id=m.ref_id, booked_on=m.booked_on, created_at=m.created_at, user=username,
                    reason=m.reason)
        for m, code, username in rows
    ]


def links_of(session: Session, lot_id: int, direction: str) -> list[LinkOut]:
    """One level of genealogy: the lots that went into (`inputs`) or came out of (`outputs`) a lot."""
    other = aliased(Lot)
    if direction == "inputs":
        join_on, where = LotLink.input_lot_id == other.id, LotLink.output_lot_id == lot_id
    else:
        join_on, where = LotLink.output_lot_id == other.id, LotLink.input_lot_id == lot_id
    rows = session.execute(
        select(LotLink, other, Product.sku, ProductionRun.number)
        .join(other, join_on)
        .join(Product, other.product_id == Product.id)
        .join(ProductionRun, LotLink.run_id == ProductionRun.id)
        .where(where)
        .order_by(ProductionRun.produced_on, LotLink.id)
    )
    return [LinkOut(lot_id=lot.id, sku=sku, lot_code=lot.code, quantity=link.quantity, run_id=link.run_id,
                    run_number=number) for link, lot, sku, number in rows]


def shipments_of(session: Session, lot_id: int) -> list[ShippedOut]:
    rows = session.execute(
        select(Shipment, Customer.name, func.sum(ShipmentLine.quantity))
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .join(Customer, Shipment.customer_id == Customer.id)
        .where(ShipmentLine.lot_id == lot_id)
        .group_by(Shipment.id, Customer.name)
        .order_by(Shipment.shipped_on, Shipment.id)
    )
    return [ShippedOut(shipment_id=s.id, shipment_number=s.number, shipped_on=s.shipped_on,
                       customer_id=s.customer_id, customer_name=name, quantity=qty)
            for s, name, qty in rows]


def genealogy_counts(session: Session, lot_id: int) -> tuple[int, int, int]:
    """How many lots went into this lot, how many were made from it, and how many shipments carried it.

    Counted in one round trip for scan answers, which show the numbers and link to the full lot page.
    """
    inputs = select(func.count(LotLink.id)).where(LotLink.output_lot_id == lot_id).scalar_subquery()
    outputs = select(func.count(LotLink.id)).where(LotLink.input_lot_id == lot_id).scalar_subquery()
    shipments = (select(func.count(func.distinct(ShipmentLine.shipment_id)))
                 .where(ShipmentLine.lot_id == lot_id).scalar_subquery())
    row = session.execute(select(inputs, outputs, shipments)).one()
    return int(row[0]), int(row[1]), int(row[2])


def lot_detail(session: Session, lot_id: int) -> LotDetailOut:
    lot = get_or_404(session, Lot, lot_id, "lot_id", "lot")
    stock = stock_of(session, lot.id)
    base = _lot_out(lot, lot.product, lot.supplier, sum((s.on_hand for s in stock), Decimal(0)))
    return LotDetailOut(
        **base.model_dump(),
        stock=stock,
        history=history_of(session, lot.id),
        inputs=links_of(session, lot.id, "inputs"),
        outputs=links_of(session, lot.id, "outputs"),
        shipments=shipments_of(session, lot.id),
    )
