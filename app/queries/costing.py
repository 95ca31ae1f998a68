"""Lot costing: how a lot's unit cost was built, and stock valued at each lot's own cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import (
    Balance,
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


def stock_valuation(session: Session, *, on: date, warehouse: str | None = None,
                    lots_per_product: int | None = None) -> StockValuation:
    """Stock at the end of day `on`, per product and lot, valued at each lot's unit cost.

    What a lot held then is its balance now less what moved after that day (the balance is the
    sum of the ledger, `lotwise check` proves it), so only the days since are read from the ledger.
    Each product lists its first `lots_per_product` lots, soonest expiry first (all when None);
    its quantity, value and `lot_count` cover all of them.
    """
    def in_warehouse(q: Any, location: Any) -> Any:
        if not warehouse:
            return q
        return (q.join(Location, location == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
                .where(Warehouse.code == warehouse))

    facts = (Lot.id, Lot.product_id, Lot.code, Lot.expiry, Lot.unit_cost)
    per_lot = in_warehouse(select(Balance.lot_id, func.sum(Balance.on_hand).label("qty"))
                           .where(Balance.on_hand != 0), Balance.location_id).group_by(Balance.lot_id).subquery()
    now = select(*facts, per_lot.c.qty).join(per_lot, per_lot.c.lot_id == Lot.id)
    since = in_warehouse(select(*facts, func.sum(Movement.quantity)).join(Movement, Movement.lot_id == Lot.id)
                         .where(Movement.booked_on > on), Movement.location_id).group_by(*facts)
    held: dict[int, list[Any]] = {}
    for lot_id, product_id, code, expiry, cost, qty in session.execute(now):
        held[lot_id] = [product_id, code, expiry, cost, qty]
    for lot_id, product_id, code, expiry, cost, qty in session.execute(since):
        held.setdefault(lot_id, [product_id, code, expiry, cost, Decimal(0)])[4] -= qty
    per_product: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for lot_id, (product_id, code, expiry, cost, qty) in held.items():
        if qty != 0:
            per_product[product_id].append((expiry is None, expiry, code, lot_id, qty, cost))
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(list(per_product))))}
    rows = []
    for pid in sorted(per_product, key=lambda p: products[p].sku):
        items = sorted(per_product[pid], key=lambda x: x[:3])
        values = [(qty * cost).quantize(_PLACES) for *_k, qty, cost in items]
        shown = items if lots_per_product is None else items[:lots_per_product]
        rows.append(ValuationRow(
            product_id=pid, sku=products[pid].sku, product_name=products[pid].name, unit=products[pid].unit,
            quantity=sum((x[4] for x in items), Decimal(0)), value=sum(values, Decimal(0)), lot_count=len(items),
            lots=[ValuationLot(lot_id=lot_id, lot_code=code, expiry=expiry, quantity=qty, unit_cost=cost, value=v)
                  for (_none, expiry, code, lot_id, qty, cost), v in zip(shown, values, strict=False)]))
    return StockValuation(on=on, warehouse=warehouse, rows=rows, total_value=sum((r.value for r in rows), Decimal(0)))
