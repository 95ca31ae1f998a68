"""Write-offs and the waste report: commands and outputs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from app.models import (
    WriteOffReason,
)
from app.schemas.common import Amount, Code, Command, Id, LongText, Out, Qty
from app.schemas.stock import LotRef, TakenOut


class WriteOffOut(Out):
    id: int
    number: str
    lot_id: int
    sku: str
    product_name: str
    lot_code: str
    expiry: date | None
    location: str
    quantity: Amount
    unit: str
    reason: WriteOffReason
    note: str | None
    written_off_on: date
    unit_cost: Amount
    value: Amount
    batch_number: str | None
    user: str | None
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "allocated stock this write-off took from orders (take_allocated), and their re-allocation"))


class WriteOffBatchOut(Out):
    id: int
    number: str
    written_off_on: date
    note: str | None
    total_value: Amount
    write_offs: list[WriteOffOut]
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "expired stock this write-off took from orders (take_allocated), and their re-allocation"))


class Change(Out):
    """A figure, the same figure over the previous period, and the change between them."""

    current: Amount
    previous: Amount
    change: Amount
    change_pct: Amount | None


class MonthProductRow(Out):
    month: str
    sku: str
    product_name: str
    unit: str
    quantity: Amount
    value: Amount


class MonthRow(Out):
    month: str
    value: Amount
    intake_value: Amount
    share_pct: Amount | None


class ProductRow(Out):
    sku: str
    product_name: str
    unit: str
    quantity: Amount
    value: Amount
    intake_quantity: Amount
    share_pct: Amount | None
    previous_quantity: Amount
    value_change: Change


class ReasonRow(Out):
    reason: WriteOffReason
    write_offs: int
    value: Amount
    value_change: Change


class LocationRow(Out):
    location: str
    warehouse: str
    write_offs: int
    value: Amount
    value_change: Change


class WasteReport(Out):
    """Waste between two dates (both included) next to the period just before, of the same length.

    `intake` is what was received or produced in the period, valued at the lots' unit cost;
    waste's share of it is given by value per month and overall, and by quantity per product.
    """

    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    months: list[str]
    by_month_product: list[MonthProductRow]
    by_month: list[MonthRow]
    by_product: list[ProductRow]
    by_reason: list[ReasonRow]
    by_location: list[LocationRow]
    write_offs: int
    total: Change
    intake_value: Amount
    share_pct: Amount | None


class WriteOffIn(LotRef):
    location: Code
    quantity: Qty
    reason: WriteOffReason
    note: LongText | None = None
    written_off_on: date | None = None
    take_allocated: bool = Field(default=False, description=(
        "write off stock allocated to orders: their allocations are released and re-allocated"))


class ExpiredRowIn(Command):
    """One row of the preview being confirmed, exactly as the preview showed it."""

    lot_id: Id
    location_id: Id
    quantity: Qty


class ExpiredWriteOffIn(Command):
    version: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="the preview's version; a stale one is refused with 409")
    rows: Annotated[list[ExpiredRowIn], Field(min_length=1, max_length=5000)]
    note: LongText | None = None
    take_allocated: bool = Field(default=False, description=(
        "write off expired stock still allocated to orders: those orders are re-allocated"))
