"""Lot costing: how a lot's unit cost was built, and stock valued at each lot's own cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db import Exact
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


def _lot_value(session: Session, qty: Any, cost: Any) -> ColumnElement[Decimal]:
    """qty × unit cost rounded to 6 places half to even, as `Decimal.quantize` rounds a lot's value, in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        # Both are integers scaled by 10^6 (costs never negative): split the cost so that no product
        # leaves 64 bits, and round the remainder half to even on the magnitude, then put the sign back.
        mag = f"abs({qty})"
        whole = f"({mag} * ({cost} / 1000000) + {mag} * ({cost} % 1000000) / 1000000)"
        rest = f"({mag} * ({cost} % 1000000) % 1000000)"
        rounded = f"({whole} + (CASE WHEN {rest} > 500000 OR ({rest} = 500000 AND {whole} % 2 = 1) THEN 1 ELSE 0 END))"
        return literal_column(f"(CASE WHEN {qty} < 0 THEN -{rounded} ELSE {rounded} END)", Exact())
    # round() takes a tie (exactly half a millionth past the truncated value) away from zero; step back
    # to the truncated value when that is the even one. Subtraction, not mod(): a third cheaper here.
    exact = f"({qty} * {cost})"
    tie = f"abs({exact} - trunc({exact}, 6)) = 0.0000005 AND mod(trunc({exact}, 6) * 1000000, 2) = 0"
    return literal_column(f"(round({exact}, 6) - CASE WHEN {tie} THEN sign({exact}) * 0.000001 ELSE 0 END)",
                          Exact())


def _held(session: Session, on: date, warehouse: str | None, product_ids: list[int] | None) -> Any:
    """Each lot held at the end of day `on` (id, product, expiry, code, unit cost, quantity), as a subquery.

    What a lot held then is its balance now less what moved after that day (the balance is the sum
    of the ledger, `lotwise check` proves it). When nothing was booked after `on` (the report for
    today) the balances alone answer, and the ledger is not read at all.
    """
    def in_warehouse(q: Any, location: Any) -> Any:
        if not warehouse:
            return q
        return (q.join(Location, location == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
                .where(Warehouse.code == warehouse))

    sqlite = session.get_bind().dialect.name == "sqlite"
    of_products: Any = None
    if product_ids is not None:
        of_products = select(Lot.id).where(Lot.product_id.in_(product_ids))

    def only_listed(q: Any, lot: Any) -> Any:
        return q if of_products is None else q.where(lot.in_(of_products))

    moves: Any = only_listed(in_warehouse(select(Balance.lot_id.label("lot_id"), Balance.on_hand.label("qty"))
                                          .where(Balance.on_hand != 0), Balance.location_id), Balance.lot_id)
    if session.scalar(select(Movement.id).where(Movement.booked_on > on).limit(1)) is not None:
        since = in_warehouse(select(Movement.lot_id.label("lot_id"), (-Movement.quantity).label("qty"))
                             .where(Movement.booked_on > on), Movement.location_id)
        moves = union_all(moves, only_listed(since, Movement.lot_id))
    moves = moves.subquery("moves")
    facts = (Lot.id, Lot.product_id, Lot.expiry, Lot.code, Lot.unit_cost)
    if sqlite:
        # Measured at five-year scale: SQLite sums the balances in their key's order, then looks each lot up.
        per_lot = (select(moves.c.lot_id, func.sum(moves.c.qty, type_=Exact()).label("qty"))
                   .group_by(moves.c.lot_id).having(func.sum(moves.c.qty) != 0).subquery("per_lot"))
        return select(*facts, per_lot.c.qty).join(per_lot, per_lot.c.lot_id == Lot.id).subquery("held")
    # PostgreSQL merge-joins lots and balances on the lot id and sums per lot as it goes (a third faster).
    held = (select(*facts, func.sum(moves.c.qty, type_=Exact()).label("qty"))
            .join(moves, moves.c.lot_id == Lot.id).group_by(Lot.id)  # the rest depend on it
            .having(func.sum(moves.c.qty) != 0))
    if product_ids is not None:
        held = held.where(Lot.product_id.in_(product_ids))
    return held.subquery("held")


def stock_valuation(session: Session, *, on: date, warehouse: str | None = None,
                    lots_per_product: int | None = None, limit: int | None = None,
                    offset: int = 0) -> StockValuation:
    """Stock at the end of day `on`, per product and lot, valued at each lot's unit cost.

    `rows` are the products with stock in SKU order, `limit` of them from `offset` (all when
    None); `total_value`, `product_count` and `lot_count` always cover the whole stock. Each row
    lists its first `lots_per_product` lots, soonest expiry first (all when None); its quantity,
    value and `lot_count` cover all of them. All products: one query, each lot's holding worked out
    once, the lots listed ranked out and each product's totals taken by window functions. One page
    of them: first one aggregate of every product's totals, then that query for the page's products.
    """
    per_product: dict[int, tuple[int, Decimal, Decimal]] = {}
    paged = limit is not None or offset > 0
    if paged:
        held = _held(session, on, warehouse, None)
        per_product = {product_id: (count, qty, value) for product_id, count, qty, value in session.execute(
            select(held.c.product_id, func.count(), func.sum(held.c.qty, type_=Exact()),
                   func.sum(_lot_value(session, "held.qty", "held.unit_cost"), type_=Exact()))
            .group_by(held.c.product_id))}
        ids = list(session.scalars(select(Product.id).where(Product.id.in_(list(per_product))).order_by(Product.sku)))
        shown: list[int] | None = ids[offset:offset + limit] if limit is not None else ids[offset:]
    else:
        shown = None
    listed_lots: dict[int, list[ValuationLot]] = {}
    if shown is None or shown:
        found = _listed(session, _held(session, on, warehouse, shown), lots_per_product)
        for product_id, totals, lots in found:
            listed_lots[product_id] = lots
            if not paged:
                per_product[product_id] = totals
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(list(listed_lots))))}
    rows = sorted((ValuationRow(product_id=p.id, sku=p.sku, product_name=p.name, unit=p.unit,
                                quantity=per_product[p.id][1], value=per_product[p.id][2],
                                lot_count=per_product[p.id][0], lots=listed_lots[p.id]) for p in products.values()),
                  key=lambda r: r.sku)
    return StockValuation(on=on, warehouse=warehouse, rows=rows,
                          total_value=sum((v for _n, _q, v in per_product.values()), Decimal(0)),
                          product_count=len(per_product), lot_count=sum(n for n, _q, _v in per_product.values()),
                          offset=offset)


def _listed(session: Session, held: Any, lots_per_product: int | None
            ) -> list[tuple[int, tuple[int, Decimal, Decimal], list[ValuationLot]]]:
    """Per product of `held`: its totals (lots, quantity, value) and its first lots, soonest expiry first."""
    code: Any = held.c.code if session.get_bind().dialect.name == "sqlite" else held.c.code.collate("C")  # as Python
    by_product = {"partition_by": held.c.product_id}
    value = _lot_value(session, "held.qty", "held.unit_cost")
    ranked = select(
        held, value.label("value"),
        func.row_number().over(**by_product, order_by=(held.c.expiry.is_(None), held.c.expiry, code, held.c.id))
        .label("n"),
        func.count().over(**by_product).label("lots"), func.sum(held.c.qty, type_=Exact()).over(**by_product)
        .label("total_qty"), func.sum(value, type_=Exact()).over(**by_product).label("total_value"),
    ).subquery("ranked")
    q = select(ranked.c.product_id, ranked.c.lots, ranked.c.total_qty, ranked.c.total_value, ranked.c.n,
               ranked.c.id, ranked.c.code, ranked.c.expiry, ranked.c.qty, ranked.c.unit_cost, ranked.c.value)
    if lots_per_product is not None:
        q = q.where(ranked.c.n <= max(lots_per_product, 1))  # the first lot carries its product's totals
    out: dict[int, tuple[tuple[int, Decimal, Decimal], list[ValuationLot]]] = {}
    for product_id, lots, total_qty, total_value, n, lot_id, lot_code, expiry, qty, cost, lot_value in \
            session.execute(q.order_by(ranked.c.product_id, ranked.c.n)):
        listed = out.setdefault(product_id, ((lots, total_qty, total_value), []))[1]
        if lots_per_product is None or n <= lots_per_product:
            listed.append(ValuationLot(lot_id=lot_id, lot_code=lot_code, expiry=expiry, quantity=qty,
                                       unit_cost=cost, value=lot_value))
    return [(product_id, totals, lots) for product_id, (totals, lots) in out.items()]
