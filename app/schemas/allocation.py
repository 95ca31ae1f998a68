"""Allocation, picking and pick lists."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import (
    Field,
)

from app.models import AllocationState, OrderStatus
from app.schemas.common import Amount, Code, Command, Day, Out, Qty
from app.schemas.stock import LotDetailOut, LotRef


class WaveIn(Command):
    """Allocate every open order shipping on or before `ship_by`, optionally only one product."""

    ship_by: Day = Field(description="today or later (an earlier day is a 422)")
    sku: Code | None = None


class PickIn(LotRef):
    """One pick scan: the lot (by id, or sku + lot code from its label), where it was taken, how many."""

    location: Code
    quantity: Qty


class AllocationOut(Out):
    id: int
    order_id: int
    order_number: str
    order_line_id: int
    line_no: int
    sku: str
    lot_id: int
    lot_code: str
    expiry: date | None
    location: str
    quantity: Amount
    picked_quantity: Amount
    state: AllocationState
    reason: str | None = None
    released_at: datetime | None = None


class ShortageOut(Out):
    order_id: int
    order_number: str
    order_line_id: int
    line_no: int
    sku: str
    missing: Amount
    reasons: list[str]


class AllocationRunOut(Out):
    """What one allocation call did: the allocations it made and what it could not fill, with why."""

    orders: int = Field(description="orders with lines considered")
    lines: int = Field(description="lines that still needed stock")
    allocated: Amount = Field(description="total quantity allocated by this call")
    allocations: list[AllocationOut]
    shortages: list[ShortageOut]


class ReleaseOut(Out):
    """Allocations given back, the re-allocation of their lines, and what could not be re-allocated."""

    released: list[AllocationOut]
    reallocated: list[AllocationOut]
    shortages: list[ShortageOut]


class OrderAllocationsOut(Out):
    order_id: int
    order_number: str
    status: OrderStatus
    allocations: list[AllocationOut]
    shortages: list[ShortageOut]


class PickResultOut(Out):
    order_id: int
    order_number: str
    allocation: AllocationOut
    substituted: bool
    message: str
    left_to_pick: Amount = Field(description="quantity still to pick on the whole order")


class PickRowOut(Out):
    location: str
    sku: str
    product_name: str
    unit: str
    lot_id: int
    lot_code: str
    expiry: date | None
    quantity: Amount
    picked_quantity: Amount
    orders: list[str] = Field(description="order number and line of each allocation in the row")
    barcode_text: str = Field(description="what the lot's label barcode says in words: the GS1 text "
                              "(01)…(17)…(10)… with a GTIN, \"SKU LOT\" (plain Code 128) without one")


class PickListOut(Out):
    title: str
    order_id: int | None = None
    order_number: str | None = None
    customer_name: str | None = None
    ship_by: date | None = None
    sku: str | None = None
    warehouse: str | None = None
    rows: list[PickRowOut]
    shortages: list[ShortageOut]


class HeldLotOut(LotDetailOut):
    """The held lot, plus its allocations released, re-allocated, and what could not be re-allocated."""

    allocations: ReleaseOut
