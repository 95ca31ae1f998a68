"""Lot cost breakdowns and stock valuation: outputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from app.models import (
    LotOrigin,
)
from app.schemas.common import Amount, Out


class CostInput(Out):
    """One input lot of a production run: quantity consumed × that lot's unit cost at the time."""

    lot_id: int
    sku: str
    product_name: str
    lot_code: str
    unit: str
    quantity: Amount
    unit_cost: Amount
    amount: Amount


class CostReceipt(Out):
    """One delivery into a bought lot: quantity × the price paid."""

    receipt_id: int
    number: str
    received_on: date
    supplier_name: str
    quantity: Amount
    unit_cost: Amount
    amount: Amount


class CostBreakdown(Out):
    """The lot's unit cost and its parts; `computed_unit_cost` rebuilds `unit_cost` from them.

    Produced lot: (Σ input quantity × input unit cost + the run's extra cost) / output quantity.
    Bought lot: the price paid; a lot topped up at another price carries the running weighted
    average, worked out delivery by delivery in the order they were booked.
    """

    lot_id: int
    sku: str
    product_name: str
    lot_code: str
    unit: str
    origin: LotOrigin
    unit_cost: Amount
    computed_unit_cost: Amount
    quantity: Amount
    total: Amount
    run_id: int | None = None
    run_number: str | None = None
    produced_on: date | None = None
    inputs: list[CostInput] = Field(default_factory=list)
    inputs_total: Amount = Decimal(0)
    extra_cost: Amount = Decimal(0)
    receipts: list[CostReceipt] = Field(default_factory=list)


class ValuationLot(Out):
    lot_id: int
    lot_code: str
    expiry: date | None
    quantity: Amount
    unit_cost: Amount
    value: Amount


class ValuationRow(Out):
    product_id: int
    sku: str
    product_name: str
    unit: str
    quantity: Amount
    value: Amount
    lot_count: int
    lots: list[ValuationLot]  # the first lots, soonest expiry first; `lot_count` counts them all


class StockValuation(Out):
    """Stock on hand at the end of day `on`, per product, each lot at its own unit cost.

    `rows` may be one page of the products (SKU order, from `offset`); `total_value`,
    `product_count` and `lot_count` are always those of the whole stock.
    """

    on: date
    warehouse: str | None
    rows: list[ValuationRow]
    total_value: Amount
    product_count: int = 0
    lot_count: int = 0
    offset: int = 0
