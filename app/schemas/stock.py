"""Lots and stock bookings (receipts, production, returns, adjustments, transfers, holds)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.models import LocationKind, LotOrigin, LotStatus
from app.schemas.common import (
    Amount,
    Code,
    Command,
    Day,
    Id,
    LongText,
    Money,
    Out,
    PositiveQty,
    Qty,
    Scanned,
    Text,
    blank_to_none,
    text_rules_in_schema,
)
from app.schemas.recipes import RunPlanOut


def _lot_ref_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    text_rules_in_schema(schema, cls)
    schema["anyOf"] = [
        {"title": "by lot_id", "required": ["lot_id"], "properties": {"lot_id": {"type": "integer"}}},
        {"title": "by sku and lot_code", "required": ["sku", "lot_code"],
         "properties": {"sku": {"type": "string"}, "lot_code": {"type": "string"}}},
    ]


class LotRef(Command):
    """A lot named by lot_id, or by sku and lot_code (what a label carries); given both, they must name the same
    lot (a 422 naming the field that disagrees)."""

    model_config = ConfigDict(json_schema_extra=_lot_ref_schema)

    lot_id: Id | None = None
    sku: Code | None = None
    lot_code: Code | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.lot_id is None and not (self.sku and self.lot_code):
            raise ValueError("name the lot by lot_id, or by sku and lot_code")
        return self


class ReceiptLineIn(Command):
    sku: Code
    quantity: Qty
    location: Code
    lot_code: Code | None = None
    supplier_lot_code: Scanned | None = None
    expiry: Day | None = None
    # Purchase price per unit; left out, a new lot costs 0 and a top-up keeps the lot's cost.
    unit_cost: Money | None = None
    top_up: bool = False

    _blank = field_validator("lot_code", "supplier_lot_code", "expiry", "unit_cost", mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))


class ReceiptIn(Command):
    supplier_id: Id
    received_on: Day | None = None
    reference: Scanned | None = None
    note: LongText | None = None
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=500)]
    # The food's origin as the supplier reports it (FSMA 204 key data elements); each date on or before
    # the receipt date.
    harvested_on: Day | None = Field(None, description="date of harvesting; on or before the receipt date")
    harvest_location: LongText | None = Field(None, description="farm (business name, phone, address) and field "
                                              "or growing area where the food was harvested")
    harvester: LongText | None = Field(None, description="business name and phone of the harvester")
    cooled_on: Day | None = Field(None, description="date of cooling; on or before the receipt date")
    cooling_location: LongText | None = Field(None, description="where the food was cooled (business name, "
                                              "phone, address)")
    packed_on: Day | None = Field(None, description="date of initial packing; on or before the receipt date")
    packing_location: LongText | None = Field(None, description="where the food was initially packed (business "
                                              "name, phone, address)")
    landed_on: Day | None = Field(None, description="date a fishing vessel's catch was landed; on or before the "
                                  "receipt date")

    _blank_origin = field_validator("harvested_on", "harvest_location", "harvester", "cooled_on",
                                    "cooling_location", "packed_on", "packing_location", "landed_on",
                                    mode="before")(classmethod(lambda cls, v: blank_to_none(v)))


class RunInputIn(LotRef):
    quantity: Qty
    location: Code | None = None


class ProductionRunIn(Command):
    sku: Code
    quantity: Qty
    location: Code
    produced_on: Day | None = None
    lot_code: Code | None = None
    expiry: Day | None = None
    extra_cost: Money | None = Field(default=None, description=(
        "the run's extra cost (labour, energy); default: the recipe's run cost scaled to `planned_quantity` "
        "when the batch is planned from the recipe, else 0"))
    planned_quantity: PositiveQty | None = Field(default=None, description=(
        "the output the batch was planned for, when it is made from the product's recipe (which it then "
        "needs): the recipe is scaled to it, each input's planned quantity is recorded, and `quantity` is the "
        "actual output"))
    note: LongText | None = None
    inputs: Annotated[list[RunInputIn], Field(min_length=1, max_length=200)]
    expiry_reason: LongText | None = Field(default=None, description=(
        "required when `expiry` is later than the earliest input lot's expiry; recorded on the run"))
    take_allocated: bool = Field(default=False, description=(
        "consume stock allocated to orders: their allocations are released and re-allocated"))

    _blank = field_validator("lot_code", "expiry", "expiry_reason", "extra_cost", "planned_quantity",
                             mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))


class ReturnIn(LotRef):
    customer_id: Id
    quantity: Qty
    location: Code | None = None
    returned_on: Day | None = None
    reason: Text


class AdjustmentIn(LotRef):
    location: Code
    quantity: Qty
    reason: Text
    adjusted_on: Day | None = None


class TransferIn(LotRef):
    from_location: Code
    to_location: Code
    quantity: Qty
    moved_on: Day | None = None
    take_allocated: bool = Field(default=False, description=(
        "move stock allocated to orders: their allocations are released and re-allocated"))


class HoldIn(Command):
    reason: Text


class LotOut(Out):
    id: int
    sku: str
    product_name: str
    code: str
    origin: LotOrigin
    supplier_id: int | None
    supplier_name: str | None
    supplier_lot_code: str | None
    made_on: date
    expiry: date | None
    unit_cost: Amount
    unit: str
    status: LotStatus
    hold_reason: str | None
    on_hand: Amount


class StockOut(Out):
    location: str
    location_kind: LocationKind
    warehouse: str
    on_hand: Amount


class MovementOut(Out):
    id: int
    kind: str
    quantity: Amount
    location: str
    ref_type: str
    ref_id: int
    booked_on: date
    created_at: datetime
    user: str | None
    reason: str | None


class LinkOut(Out):
    lot_id: int
    sku: str
    lot_code: str
    quantity: Amount
    run_id: int
    run_number: str


class ShippedOut(Out):
    shipment_id: int
    shipment_number: str
    shipped_on: date
    customer_id: int
    customer_name: str
    quantity: Amount
    override_reason: str | None = Field(default=None, description=(
        "a manager's reason for shipping outside the customer's rule"))


class LotDetailOut(LotOut):
    stock: list[StockOut]
    history: list[MovementOut]
    inputs: list[LinkOut]
    outputs: list[LinkOut]
    shipments: list[ShippedOut]


class ReceiptLineOut(Out):
    id: int
    lot_id: int
    sku: str
    lot_code: str
    supplier_lot_code: str | None
    expiry: date | None
    location: str
    quantity: Amount
    unit_cost: Amount


class ReceiptOut(Out):
    id: int
    number: str
    supplier_id: int
    supplier_name: str
    received_on: date
    reference: str | None
    note: str | None
    created_at: datetime
    lines: list[ReceiptLineOut]
    harvested_on: date | None = None
    harvest_location: str | None = None
    harvester: str | None = None
    cooled_on: date | None = None
    cooling_location: str | None = None
    packed_on: date | None = None
    packing_location: str | None = None
    landed_on: date | None = None


class RunInputOut(Out):
    lot_id: int
    sku: str
    lot_code: str
    location: str
    quantity: Amount
    unit_cost: Amount


class ProductionRunOut(Out):
    id: int
    number: str
    sku: str
    output_lot_id: int
    output_lot_code: str
    output_quantity: Amount
    expiry: date | None
    unit_cost: Amount
    extra_cost: Amount
    location: str
    produced_on: date
    note: str | None
    created_at: datetime
    inputs: list[RunInputOut]
    planned_quantity: Amount | None = Field(default=None, description=(
        "the output the batch was planned for (made from the recipe); null without a plan"))
    yield_pct: Amount | None = Field(default=None, description=(
        "actual output as a percentage of the planned output, to two places; null without a plan"))
    plan: list[RunPlanOut] = Field(default_factory=list, description=(
        "per input product: what the recipe planned and what was actually consumed (empty without a plan)"))
    expiry_reason: str | None = Field(default=None, description=(
        "why the lot expires later than its earliest input"))
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "allocated stock this run consumed from orders (take_allocated), and their re-allocation"))


class ReturnOut(Out):
    id: int
    number: str
    customer_id: int
    customer_name: str
    lot_id: int
    sku: str
    lot_code: str
    location: str
    quantity: Amount
    returned_on: date
    reason: str


class AdjustmentOut(Out):
    id: int
    number: str
    lot_id: int
    sku: str
    lot_code: str
    location: str
    quantity: Amount
    reason: str
    adjusted_on: date
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "allocations a count correction left without stock, released and re-allocated"))


class TransferOut(Out):
    id: int
    number: str
    lot_id: int
    sku: str
    lot_code: str
    from_location: str
    to_location: str
    quantity: Amount
    moved_on: date
    taken_from_orders: list[TakenOut] = Field(default_factory=list, description=(
        "allocated stock this transfer took from orders (take_allocated), and their re-allocation"))


class TakenOut(Out):
    """Allocated stock another booking took explicitly: which order lost what, and what it got back."""

    order_id: int
    order_number: str
    order_line_id: int
    line_no: int
    sku: str
    lot_code: str
    location: str
    lost: Amount = Field(description="allocated quantity released from the order")
    reallocated: Amount = Field(description="quantity the line got back from other stock")
    short: Amount = Field(description="what the line is now short")
    message: str
