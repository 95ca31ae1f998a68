"""Orders and shipments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import (
    ConfigDict,
    Field,
)

from app.models import OrderStatus
from app.schemas.common import Amount, Code, Command, Day, Id, LongText, Out, Qty, Scanned, text_pattern, with_rules
from app.schemas.stock import LotRef, TakenOut


class OrderLineIn(Command):
    sku: Code
    quantity: Qty


class OrderIn(Command):
    customer_id: Id
    warehouse: Code
    ship_date: Day = Field(description="today or later (an earlier day is a 422)")
    customer_reference: Scanned | None = None
    priority: Annotated[int, Field(ge=0, le=9)] = 0
    note: LongText | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]


class ShipLineIn(LotRef):
    quantity: Qty
    location: Code
    order_line_id: Id | None = None


class ShipmentIn(Command):
    """An override (override true) needs a written override_reason."""

    model_config = ConfigDict(json_schema_extra=with_rules({
        "if": {"required": ["override"], "properties": {"override": {"const": True}}},
        "then": {"required": ["override_reason"], "properties": {
            "override_reason": {"type": "string", "pattern": text_pattern(not_blank=True)}}}}))
    order_id: Id
    shipped_on: Day | None = None
    carrier_reference: Scanned | None = None
    lines: Annotated[list[ShipLineIn], Field(min_length=1, max_length=500)]
    take_allocated: bool = Field(default=False, description="take stock allocated to other orders: their allocations "
                                 "are released and re-allocated, and the answer says which orders lost what")
    override: bool = Field(default=False, description="ship outside the customer's shelf-life rule (managers only, "
                           "403 otherwise); hold, recall, quarantine and expiry are never overridden")
    override_reason: LongText | None = Field(default=None, description="why the customer's rule is overridden "
                                             "(required with override, 422 otherwise); recorded on the shipment")


class OrderLineOut(Out):
    id: int
    line_no: int
    sku: str
    product_name: str
    quantity: Amount
    shipped_quantity: Amount


class OrderOut(Out):
    id: int
    number: str
    customer_id: int
    customer_name: str
    warehouse: str
    ship_date: date
    status: OrderStatus
    customer_reference: str | None
    priority: int
    note: str | None
    created_at: datetime
    lines: list[OrderLineOut]


class ShipmentLineOut(Out):
    id: int
    order_line_id: int
    lot_id: int
    sku: str
    lot_code: str
    expiry: date | None
    location: str
    quantity: Amount


class ShipmentOut(Out):
    id: int
    number: str
    order_id: int
    order_number: str
    customer_id: int
    customer_name: str
    shipped_on: date
    carrier_reference: str | None
    created_at: datetime
    lines: list[ShipmentLineOut]
    override_reason: str | None = Field(None, description="why a manager shipped outside the customer's rule")
    override_rules: str | None = Field(None, description="the customer rules overridden, as the refusal named them")
    override_by: str | None = None
    override_at: datetime | None = None
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "allocated stock this shipment took from other orders (take_allocated), and their re-allocation"))
