"""Lot costing: how a lot's unit cost was built, and stock valued at each lot's own cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import (
    Location,
    Lot,
    LotOrigin,
    Movement,
    Product,
    ProductionRun,
    Receipt,
    ReceiptLine,
    RunInput,
    Warehouse,
)
from app.schemas import CostBreakdown, CostInput, CostReceipt, StockValuation, ValuationLot, ValuationRow

# Unit costs are kept to 6 places, rounded the way the booking services round them.
_PLACES = Decimal("0.000001")


def cost_breakdown(session: Session, lot_id: int) -> CostBreakdown:
    """How the lot's unit cost was built: each input lot × its cost plus extra cost, or its deliveries."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"lot {lot_id} does not exist", "lot_id")
    if lot.origin is LotOrigin.PRODUCTION:
        run = session.scalar(select(ProductionRun).where(ProductionRun.output_lot_id == lot.id))
        if run is not None:
            return _produced(session, lot, run)
    return _bought(session, lot)


def _breakdown(lot: Lot, **parts: object) -> CostBreakdown:
    return CostBreakdown.model_validate({
        "lot_id": lot.id, "sku": lot.product.sku, "product_name": lot.product.name, "lot_code": lot.code,
        "unit": lot.product.unit, "origin": lot.origin, "unit_cost": lot.unit_cost, **parts})


def _produced(session: Session, lot: Lot, run: ProductionRun) -> CostBreakdown:
    # One row per input lot and cost, although the run may have taken it from several locations.
    rows = session.execute(
        select(Lot, Product, RunInput.unit_cost, func.sum(RunInput.quantity))
        .join(Lot, RunInput.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .where(RunInput.run_id == run.id)
        .group_by(Lot.id, Product.id, RunInput.unit_cost)
        .order_by(func.min(RunInput.id))
    ).all()
    inputs = [CostInput(lot_id=i.id, sku=p.sku, product_name=p.name, lot_code=i.code, unit=p.unit,
                        quantity=qty, unit_cost=cost, amount=qty * cost) for i, p, cost, qty in rows]
    inputs_total = sum((i.amount for i in inputs), Decimal(0))
    total = inputs_total + run.extra_cost
    return _breakdown(lot, computed_unit_cost=(total / run.output_quantity).quantize(_PLACES),
                      quantity=run.output_quantity, total=total, run_id=run.id, run_number=run.number,
                      produced_on=run.produced_on, inputs=inputs, inputs_total=inputs_total,
                      extra_cost=run.extra_cost)


def _bought(session: Session, lot: Lot) -> CostBreakdown:
    lines = session.execute(
        select(ReceiptLine, Receipt).join(Receipt, ReceiptLine.receipt_id == Receipt.id)
        .where(ReceiptLine.lot_id == lot.id).order_by(ReceiptLine.id)
    ).all()
    receipts = []
    received = Decimal(0)
    cost: Decimal | None = None
    for line, receipt in lines:
        receipts.append(CostReceipt(receipt_id=receipt.id, number=receipt.number, received_on=receipt.received_on,
                                    supplier_name=receipt.supplier.name, quantity=line.quantity,
                                    unit_cost=line.unit_cost, amount=line.quantity * line.unit_cost))
        # The same running average the receiving service keeps, step by step, so it matches to the last place.
        if cost is None:
            cost = line.unit_cost
        elif line.unit_cost != cost:
            cost = ((received * cost + line.quantity * line.unit_cost) / (received + line.quantity)).quantize(_PLACES)
        received += line.quantity
    return _breakdown(lot, computed_unit_cost=cost if cost is not None else lot.unit_cost, quantity=received,
                      total=sum((r.amount for r in receipts), Decimal(0)), receipts=receipts)


def stock_valuation(session: Session, *, on: date, warehouse: str | None = None) -> StockValuation:
    """Stock at the end of day `on` (from the ledger), per product and lot, valued at each lot's unit cost."""
    q = (
        select(Movement.lot_id, func.sum(Movement.quantity))
        .where(Movement.booked_on <= on)
        .group_by(Movement.lot_id)
        .having(func.sum(Movement.quantity) != 0)
    )
    if warehouse:
        q = (q.join(Location, Movement.location_id == Location.id)
             .join(Warehouse, Location.warehouse_id == Warehouse.id).where(Warehouse.code == warehouse))
    held: dict[int, Decimal] = {lot_id: qty for lot_id, qty in session.execute(q)}
    lots = session.execute(
        select(Lot, Product).join(Product, Lot.product_id == Product.id).where(Lot.id.in_(list(held)))
        .order_by(Product.sku, Lot.expiry.is_(None), Lot.expiry, Lot.code)
    ).all()
    per_product: dict[int, list[ValuationLot]] = defaultdict(list)
    products: dict[int, Product] = {}
    for lot, product in lots:
        qty = held[lot.id]
        products[product.id] = product
        per_product[product.id].append(ValuationLot(lot_id=lot.id, lot_code=lot.code, expiry=lot.expiry,
                                                    quantity=qty, unit_cost=lot.unit_cost,
                                                    value=(qty * lot.unit_cost).quantize(_PLACES)))
    rows = [
        ValuationRow(product_id=pid, sku=products[pid].sku, product_name=products[pid].name,
                     unit=products[pid].unit, quantity=sum((x.quantity for x in items), Decimal(0)),
                     value=sum((x.value for x in items), Decimal(0)), lots=items)
        for pid, items in per_product.items()
    ]
    return StockValuation(on=on, warehouse=warehouse, rows=rows, total_value=sum((r.value for r in rows), Decimal(0)))
