"""Receipts, production runs, orders, shipments, returns and adjustments as typed rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.db import get_or_404
from app.models import (
    Adjustment,
    CustomerReturn,
    Lot,
    Order,
    OrderLine,
    ProductionRun,
    Receipt,
    ReceiptLine,
    RunInput,
    Shipment,
    ShipmentLine,
    Transfer,
)
from app.queries.recipes import run_plan
from app.schemas import (
    AdjustmentOut,
    OrderLineOut,
    OrderOut,
    ProductionRunOut,
    ReceiptLineOut,
    ReceiptOut,
    ReturnOut,
    RunInputOut,
    ShipmentLineOut,
    ShipmentOut,
    TransferOut,
)

M = TypeVar("M")


def get(session: Session, model: type[M], ident: int, label: str) -> M:
    return get_or_404(session, model, ident, "id", label)


# What a list of each kind of document shows, loaded with the page in a few queries instead of row by row.
_LOAD: dict[type, tuple[Any, ...]] = {
    Shipment: (joinedload(Shipment.order), joinedload(Shipment.customer),
               selectinload(Shipment.lines).options(joinedload(ShipmentLine.location),
                                                    joinedload(ShipmentLine.lot).joinedload(Lot.product))),
    Receipt: (joinedload(Receipt.supplier),
              selectinload(Receipt.lines).options(joinedload(ReceiptLine.location),
                                                  joinedload(ReceiptLine.lot).joinedload(Lot.product))),
    Order: (joinedload(Order.customer), joinedload(Order.warehouse),
            selectinload(Order.lines).joinedload(OrderLine.product)),
    ProductionRun: (joinedload(ProductionRun.product), joinedload(ProductionRun.output_lot),
                    joinedload(ProductionRun.location),
                    selectinload(ProductionRun.inputs).options(joinedload(RunInput.location),
                                                               joinedload(RunInput.lot).joinedload(Lot.product))),
}


def listing(session: Session, model: type[M], *, filters: list[Any] | None = None, order_by: Any = None,
            limit: int = 100, offset: int = 0) -> list[M]:
    q = select(model).options(*_LOAD.get(model, ()))
    for f in filters or []:
        q = q.where(f)
    q = q.order_by(order_by if order_by is not None else model.id.desc())  # type: ignore[attr-defined]
    return list(session.scalars(q.limit(limit).offset(offset)))


def receipt_out(r: Receipt) -> ReceiptOut:
    return ReceiptOut(
        id=r.id, number=r.number, supplier_id=r.supplier_id, supplier_name=r.supplier.name,
        received_on=r.received_on, reference=r.reference, note=r.note, created_at=r.created_at,
        lines=[ReceiptLineOut(id=x.id, lot_id=x.lot_id, sku=x.lot.product.sku, lot_code=x.lot.code,
                              supplier_lot_code=x.lot.supplier_lot_code, expiry=x.lot.expiry,
                              location=x.location.code, quantity=x.quantity, unit_cost=x.unit_cost)
               for x in r.lines],
        harvested_on=r.harvested_on, harvest_location=r.harvest_location, harvester=r.harvester,
        cooled_on=r.cooled_on, cooling_location=r.cooling_location, packed_on=r.packed_on,
        packing_location=r.packing_location, landed_on=r.landed_on,
    )


def run_out(r: ProductionRun) -> ProductionRunOut:
    plan, yield_pct = run_plan(r)
    return ProductionRunOut(
        id=r.id, number=r.number, sku=r.product.sku, output_lot_id=r.output_lot_id,
        output_lot_code=r.output_lot.code, output_quantity=r.output_quantity, expiry=r.output_lot.expiry,
        unit_cost=r.output_lot.unit_cost, extra_cost=r.extra_cost, location=r.location.code,
        produced_on=r.produced_on, note=r.note, created_at=r.created_at,
        inputs=[RunInputOut(lot_id=x.lot_id, sku=x.lot.product.sku, lot_code=x.lot.code,
                            location=x.location.code, quantity=x.quantity, unit_cost=x.unit_cost)
                for x in r.inputs],
        expiry_reason=r.expiry_reason, taken_from_orders=getattr(r, "taken_from_orders", []),
        planned_quantity=r.planned_quantity, yield_pct=yield_pct, plan=plan,
    )


def order_out(o: Order) -> OrderOut:
    return OrderOut(
        id=o.id, number=o.number, customer_id=o.customer_id, customer_name=o.customer.name,
        warehouse=o.warehouse.code, ship_date=o.ship_date, status=o.status,
        customer_reference=o.customer_reference, priority=o.priority, note=o.note,
        created_at=o.created_at,
        lines=[OrderLineOut(id=x.id, line_no=x.line_no, sku=x.product.sku, product_name=x.product.name,
                            quantity=x.quantity, shipped_quantity=x.shipped_quantity) for x in o.lines],
    )


def shipment_out(s: Shipment) -> ShipmentOut:
    return ShipmentOut(
        id=s.id, number=s.number, order_id=s.order_id, order_number=s.order.number,
        customer_id=s.customer_id, customer_name=s.customer.name, shipped_on=s.shipped_on,
        carrier_reference=s.carrier_reference, created_at=s.created_at,
        lines=[ShipmentLineOut(id=x.id, order_line_id=x.order_line_id, lot_id=x.lot_id,
                               sku=x.lot.product.sku, lot_code=x.lot.code, expiry=x.lot.expiry,
                               location=x.location.code, quantity=x.quantity) for x in s.lines],
        override_reason=s.override_reason, override_rules=s.override_rules,
        override_by=s.override_user.username if s.override_user else None, override_at=s.override_at,
        taken_from_orders=getattr(s, "taken_from_orders", []),
    )


def return_out(r: CustomerReturn) -> ReturnOut:
    return ReturnOut(id=r.id, number=r.number, customer_id=r.customer_id, customer_name=r.customer.name,
                     lot_id=r.lot_id, sku=r.lot.product.sku, lot_code=r.lot.code,
                     location=r.location.code, quantity=r.quantity, returned_on=r.returned_on,
                     reason=r.reason)


def adjustment_out(a: Adjustment) -> AdjustmentOut:
    return AdjustmentOut(id=a.id, number=a.number, lot_id=a.lot_id, sku=a.lot.product.sku,
                         lot_code=a.lot.code, location=a.location.code, quantity=a.quantity,
                         reason=a.reason, adjusted_on=a.adjusted_on,
                         taken_from_orders=getattr(a, "taken_from_orders", []))


def transfer_out(t: Transfer) -> TransferOut:
    return TransferOut(id=t.id, number=t.number, lot_id=t.lot_id, sku=t.lot.product.sku,
                       lot_code=t.lot.code, from_location=t.from_location.code,
                       to_location=t.to_location.code, quantity=t.quantity, moved_on=t.moved_on,
                       taken_from_orders=getattr(t, "taken_from_orders", []))
