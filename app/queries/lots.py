"""Lots with their stock, history, genealogy and shipments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from app.db import Prepared, get_or_404
from app.formatting import qty_unit
from app.models import (
    Balance,
    Customer,
    Location,
    LocationKind,
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
from app.schemas import LinkOut, LotCandidateOut, LotDetailOut, LotOut, MovementOut, ShippedOut, StockOut


def on_hand_by_product(session: Session) -> list[tuple[str, str, str, Decimal]]:
    """(sku, name, unit, on hand) of every product with stock, by sku: one pass over the balances."""
    product = Lot.product_id
    if session.get_bind().dialect.name == "sqlite":
        product = product + 0  # type: ignore[assignment]  # sum balance by balance, not product by product
    totals: dict[int, Decimal] = {pid: qty for pid, qty in session.execute(
        select(product, func.sum(Balance.on_hand)).join(Lot, Lot.id == Balance.lot_id)
        .where(Balance.on_hand != 0).group_by(product))}
    products = session.execute(select(Product.id, Product.sku, Product.name, Product.unit)
                               .where(Product.id.in_([p for p, qty in totals.items() if qty > 0]))
                               .order_by(Product.sku))
    return [(sku, name, unit, totals[pid]) for pid, sku, name, unit in products]


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
    """Lots matching the filters, soonest expiry first (lots without an expiry last), each with its total on hand.

    Dated lots are read in the order of the expiry index and undated ones after them, so a page
    stops once it is full; each lot's stock is summed for the lots on the page only.
    """
    on_hand = (select(func.coalesce(func.sum(Balance.on_hand), 0)).where(Balance.lot_id == Lot.id)
               .correlate(Lot).scalar_subquery())
    product_of_lot = Lot.product_id
    if not sku and session.get_bind().dialect.name == "sqlite":
        # Walk the lots in expiry-index order and stop when the page is full. With statistics on
        # the small product table, SQLite would otherwise loop over products and sort every lot.
        product_of_lot = product_of_lot + 0  # type: ignore[assignment]
    q = (
        select(Lot, Product, Supplier, on_hand)
        .join(Product, product_of_lot == Product.id)
        .outerjoin(Supplier, Lot.supplier_id == Supplier.id)
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
        q = q.where(on_hand > 0)
    elif in_stock is False:
        q = q.where(on_hand == 0)
    order = (Lot.made_on, Lot.code, Lot.id)
    dated = session.execute(q.where(Lot.expiry.is_not(None)).order_by(Lot.expiry, *order)
                            .limit(limit).offset(offset)).all()
    rows = list(dated)
    if len(rows) < limit and not expiring_before:
        # Past the dated lots: how many of them came before tells where the undated ones start.
        skip = 0
        if not rows:
            skip = max(0, offset - (session.scalar(select(func.count()).select_from(
                q.where(Lot.expiry.is_not(None)).subquery())) or 0))
        rows += session.execute(q.where(Lot.expiry.is_(None)).order_by(*order)
                                .limit(limit - len(rows)).offset(skip)).all()
    return [_lot_out(lot, product, supplier, qty) for lot, product, supplier, qty in rows]


def _lot_out(lot: Lot, product: Product, supplier: Supplier | None, on_hand: Decimal | int) -> LotOut:
    return LotOut(
        id=lot.id, sku=product.sku, product_name=product.name, code=lot.code, origin=lot.origin,
        supplier_id=lot.supplier_id, supplier_name=supplier.name if supplier else None,
        supplier_lot_code=lot.supplier_lot_code, made_on=lot.made_on, expiry=lot.expiry,
        unit_cost=lot.unit_cost, unit=product.unit, status=lot.status, hold_reason=lot.hold_reason,
        on_hand=Decimal(on_hand),
    )


# Where each lot is on hand: the places a lot's stock is listed from, alone (`stock_of`) or joined to the lot in the
# query that finds it (a scan of a lot label).
STOCK_PLACES = (select(Balance.lot_id, Location.code.label("location"), Location.kind.label("location_kind"),
                       Warehouse.code.label("warehouse"), Balance.on_hand)
                .select_from(Balance)
                .join(Location, Balance.location_id == Location.id)
                .join(Warehouse, Location.warehouse_id == Warehouse.id)
                .where(Balance.on_hand != 0)
                .subquery("stock_place"))
# What a lot's stock shows of each place, in `stock_out`'s order.
STOCK_PLACE_COLUMNS = (STOCK_PLACES.c.location, STOCK_PLACES.c.location_kind, STOCK_PLACES.c.warehouse,
                       STOCK_PLACES.c.on_hand)
# Every scan of a lot asks for its stock: the statement is built once, reads only the four columns shown, and runs
# straight through the driver.
_STOCK_OF = Prepared(select(*STOCK_PLACE_COLUMNS).where(STOCK_PLACES.c.lot_id == bindparam("lot_id"))
                     .order_by(STOCK_PLACES.c.location))


def stock_out(location: str, location_kind: LocationKind, warehouse: str, on_hand: Decimal) -> StockOut:
    return StockOut(location=location, location_kind=location_kind, warehouse=warehouse, on_hand=on_hand)


def stock_of(session: Session, lot_id: int) -> list[StockOut]:
    return [stock_out(*row) for row in _STOCK_OF.rows(session, {"lot_id": lot_id})]


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
                       customer_id=s.customer_id, customer_name=name, quantity=qty,
                       override_reason=s.override_reason)
            for s, name, qty in rows]


def genealogy_columns(lot_id: ColumnElement[Any] | InstrumentedAttribute[int],
                      ) -> tuple[ScalarSelect[int], ScalarSelect[int], ScalarSelect[int]]:
    """How many lots went into the lot `lot_id`, how many were made from it, and how many shipments carried it,
    as three columns: alone, or beside the lot in the query that finds it (`lot_id` is then `Lot.id`)."""
    inputs = select(func.count(LotLink.id)).where(LotLink.output_lot_id == lot_id).scalar_subquery()
    outputs = select(func.count(LotLink.id)).where(LotLink.input_lot_id == lot_id).scalar_subquery()
    shipments = (select(func.count(func.distinct(ShipmentLine.shipment_id)))
                 .where(ShipmentLine.lot_id == lot_id).scalar_subquery())
    return inputs, outputs, shipments


_GENEALOGY_COUNTS = Prepared(select(*genealogy_columns(bindparam("lot_id"))))


def genealogy_counts(session: Session, lot_id: int) -> tuple[int, int, int]:
    """How many lots went into this lot, how many were made from it, and how many shipments carried it.

    Counted in one round trip for scan answers, which show the numbers and link to the full lot page.
    """
    [(inputs, outputs, shipments)] = _GENEALOGY_COUNTS.rows(session, {"lot_id": lot_id})
    return int(inputs), int(outputs), int(shipments)


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


def lot_candidates(session: Session, lot_ids: list[int]) -> list[LotCandidateOut]:
    """The lots an ambiguous code may mean, by product: what a person needs to choose one."""
    if not lot_ids:
        return []
    held = (select(Balance.lot_id, func.sum(Balance.on_hand).label("on_hand"))
            .where(Balance.lot_id.in_(lot_ids)).group_by(Balance.lot_id).subquery())
    rows = session.execute(
        select(Lot, Product, held.c.on_hand).join(Product, Lot.product_id == Product.id)
        .outerjoin(held, held.c.lot_id == Lot.id).where(Lot.id.in_(lot_ids)).order_by(Product.sku, Lot.id))
    return [LotCandidateOut(lot_id=lot.id, sku=product.sku, product_name=product.name, code=lot.code,
                            expiry=lot.expiry, on_hand=on_hand or Decimal(0), unit=product.unit,
                            status=lot.status.value)
            for lot, product, on_hand in rows]


def candidates_text(candidates: list[LotCandidateOut]) -> str:
    """The candidates in words, for a message: 'JAM-RASP (expiry 2027-01-10, 12 kg on hand), …'."""
    return ", ".join(f"{c.sku} ({'expiry ' + str(c.expiry) if c.expiry else 'no expiry'}, "
                     f"{qty_unit(c.on_hand, c.unit)} on hand)" for c in candidates)
