"""Input commands and output shapes shared by the API, the pages and the services (pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.models import LocationKind, LotOrigin, LotStatus, OrderStatus, ProductKind, Role

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Qty = Annotated[Decimal, Field(max_digits=18, decimal_places=6)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


def _plain(value: Decimal) -> str:
    """400.000000 → "400", 0.770000 → "0.77": a number reads the same in every response."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Quantities and money in responses: decimal strings without trailing zeros.
Amount = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]


MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in the database; a larger one names nothing and must not reach a query."""


def no_nul(v: Any) -> Any:
    """Refuse text with NUL characters, which PostgreSQL cannot store (SQLite would, silently)."""
    if isinstance(v, str) and "\x00" in v:
        raise ValueError("must not contain NUL characters")
    return v


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("must be a number, not true or false")
    return v


def _date_text(v: Any) -> Any:
    # pydantic would read a number as a Unix time (0 → 1970-01-01); a date must be written out.
    if v is not None and not isinstance(v, str | date):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return v


Id = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_ID)]
Day = Annotated[date, BeforeValidator(_date_text)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    _no_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: no_nul(v)))


def _gtin_ok(value: str) -> bool:
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


# --- master data ------------------------------------------------------------------------------


class ProductIn(Command):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                          pattern=r"^[A-Za-z0-9._/-]+$")]
    name: Text
    gtin: str | None = None
    kind: ProductKind = ProductKind.PRODUCT
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] = "ea"
    shelf_life_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    expiry_alert_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    lot_tracked: bool = True
    active: bool = True

    _blank = field_validator("gtin", "shelf_life_days", "expiry_alert_days", mode="before")(
        classmethod(lambda cls, v: _blank_to_none(v)))

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if not v.isdigit() or len(v) not in (8, 12, 13, 14):
            raise ValueError("GTIN must be 8, 12, 13 or 14 digits")
        if not _gtin_ok(v):
            raise ValueError(f"GTIN {v} has a wrong check digit")
        return v.zfill(14)


class ProductPatch(ProductIn):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                          pattern=r"^[A-Za-z0-9._/-]+$")] | None = None  # type: ignore[assignment]
    name: Text | None = None  # type: ignore[assignment]
    kind: ProductKind | None = None  # type: ignore[assignment]
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] | None = None  # type: ignore[assignment]
    lot_tracked: bool | None = None  # type: ignore[assignment]
    active: bool | None = None  # type: ignore[assignment]


class PartyIn(Command):
    name: Text
    gln: Annotated[str, StringConstraints(pattern=r"^\d{13}$")] | None = None
    contact_name: Text | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    address: LongText | None = None

    _blank = field_validator("gln", "contact_name", "phone", "email", "address", mode="before")(
        classmethod(lambda cls, v: _blank_to_none(v)))

    @field_validator("gln")
    @classmethod
    def _gln(cls, v: str | None) -> str | None:
        if v is not None and not _gtin_ok(v):
            raise ValueError(f"GLN {v} has a wrong check digit")
        return v


class SupplierIn(PartyIn):
    pass


class SupplierPatch(SupplierIn):
    name: Text | None = None  # type: ignore[assignment]


class CustomerIn(PartyIn):
    min_remaining_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    min_remaining_pct: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    transit_days: Annotated[int, Field(ge=0, le=365)] = 0
    max_lots_per_line: Annotated[int, Field(ge=1, le=100)] | None = None
    no_date_reversal: bool = False

    _blank2 = field_validator("min_remaining_days", "min_remaining_pct", "max_lots_per_line",
                              mode="before")(classmethod(lambda cls, v: _blank_to_none(v)))


class CustomerPatch(CustomerIn):
    name: Text | None = None  # type: ignore[assignment]
    transit_days: Annotated[int, Field(ge=0, le=365)] | None = None  # type: ignore[assignment]
    no_date_reversal: bool | None = None  # type: ignore[assignment]


class WarehouseIn(Command):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    name: Text
    address: LongText | None = None


class LocationIn(Command):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                           pattern=r"^[A-Za-z0-9._/-]+$")]
    name: Text
    kind: LocationKind = LocationKind.STORAGE
    warehouse: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    active: bool = True


class LocationPatch(Command):
    name: Text | None = None
    kind: LocationKind | None = None
    active: bool | None = None


# --- references to lots ---------------------------------------------------------------------


class LotRef(Command):
    """A lot named by id, or by product sku and lot code (what a label carries)."""

    lot_id: Id | None = None
    sku: Code | None = None
    lot_code: Code | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.lot_id is None and not (self.sku and self.lot_code):
            raise ValueError("name the lot by lot_id, or by sku and lot_code")
        return self


# --- bookings -----------------------------------------------------------------------------


class ReceiptLineIn(Command):
    sku: Code
    quantity: Qty
    location: Code
    lot_code: Code | None = None
    supplier_lot_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    expiry: Day | None = None
    # Purchase price per unit; left out, a new lot costs 0 and a top-up keeps the lot's cost.
    unit_cost: Money | None = None
    top_up: bool = False

    _blank = field_validator("lot_code", "supplier_lot_code", "expiry", "unit_cost", mode="before")(
        classmethod(lambda cls, v: _blank_to_none(v)))


class ReceiptIn(Command):
    supplier_id: Id
    received_on: Day | None = None
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    note: LongText | None = None
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=500)]


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
    extra_cost: Money = Decimal(0)
    note: LongText | None = None
    inputs: Annotated[list[RunInputIn], Field(min_length=1, max_length=200)]

    _blank = field_validator("lot_code", "expiry", mode="before")(
        classmethod(lambda cls, v: _blank_to_none(v)))


class OrderLineIn(Command):
    sku: Code
    quantity: Qty


class OrderIn(Command):
    customer_id: Id
    warehouse: Code
    ship_date: Day
    customer_reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    priority: Annotated[int, Field(ge=0, le=9)] = 0
    note: LongText | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]


class ShipLineIn(LotRef):
    quantity: Qty
    location: Code
    order_line_id: Id | None = None


class ShipmentIn(Command):
    order_id: Id
    shipped_on: Day | None = None
    carrier_reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None
    lines: Annotated[list[ShipLineIn], Field(min_length=1, max_length=500)]


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


class HoldIn(Command):
    reason: Text


class UserIn(Command):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80,
                                               pattern=r"^[A-Za-z0-9._@-]+$")]
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


# --- outputs ------------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProductOut(Out):
    id: int
    sku: str
    name: str
    gtin: str | None
    kind: ProductKind
    unit: str
    shelf_life_days: int | None
    expiry_alert_days: int | None
    lot_tracked: bool
    active: bool


class SupplierOut(Out):
    id: int
    name: str
    gln: str | None
    contact_name: str | None
    phone: str | None
    email: str | None
    address: str | None


class CustomerOut(SupplierOut):
    min_remaining_days: int | None
    min_remaining_pct: Amount | None
    transit_days: int
    max_lots_per_line: int | None
    no_date_reversal: bool


class WarehouseOut(Out):
    id: int
    code: str
    name: str
    address: str | None


class LocationOut(Out):
    id: int
    code: str
    name: str
    kind: LocationKind
    active: bool
    warehouse: str
    pickable: bool


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
