"""Tables: master data, lots, the append-only movement ledger and its documents."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the value strings, checked by a constraint on both databases.
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], native_enum=False,
                create_constraint=True, length=20, validate_strings=True)


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    OPERATOR = "operator"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class ProductKind(enum.StrEnum):
    MATERIAL = "material"
    PRODUCT = "product"


class LocationKind(enum.StrEnum):
    STORAGE = "storage"
    RECEIVING = "receiving"
    PRODUCTION = "production"
    SHIPPING = "shipping"
    QUARANTINE = "quarantine"


PICKABLE_KINDS = (LocationKind.STORAGE, LocationKind.SHIPPING)


class LotOrigin(enum.StrEnum):
    RECEIPT = "receipt"
    PRODUCTION = "production"


class LotStatus(enum.StrEnum):
    RELEASED = "released"
    HOLD = "hold"
    RECALLED = "recalled"


class MovementKind(enum.StrEnum):
    RECEIVE = "receive"
    CONSUME = "consume"
    PRODUCE = "produce"
    PICK = "pick"
    SHIP = "ship"
    TRANSFER = "transfer"
    RETURN = "return"
    WRITE_OFF = "write_off"
    ADJUST = "adjust"


class OrderStatus(enum.StrEnum):
    OPEN = "open"
    PARTIAL = "partial"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- people and access ---------------------------------------------------------------------


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def has_role(self, role: Role) -> bool:
        return self.active and ROLE_RANK[self.role] >= ROLE_RANK[role]


class ApiToken(TimestampMixin, Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user: Mapped[User] = relationship()


class WebSession(TimestampMixin, Base):
    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- master data -----------------------------------------------------------------------------


class Product(TimestampMixin, Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[ProductKind] = mapped_column(_enum(ProductKind, "product_kind"))
    unit: Mapped[str] = mapped_column(String(10), default="ea")
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    expiry_alert_days: Mapped[int | None] = mapped_column(Integer)
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class _Party:
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    gln: Mapped[str | None] = mapped_column(String(13))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)


class Supplier(TimestampMixin, _Party, Base):
    __tablename__ = "supplier"


class Customer(TimestampMixin, _Party, Base):
    __tablename__ = "customer"
    min_remaining_days: Mapped[int | None] = mapped_column(Integer)
    # Percent (0–100) of the lot's total life that must remain on arrival.
    min_remaining_pct: Mapped[Decimal | None] = mapped_column(Exact())
    transit_days: Mapped[int] = mapped_column(Integer, default=0)
    max_lots_per_line: Mapped[int | None] = mapped_column(Integer)
    no_date_reversal: Mapped[bool] = mapped_column(Boolean, default=False)


class Warehouse(TimestampMixin, Base):
    __tablename__ = "warehouse"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)


class Location(TimestampMixin, Base):
    __tablename__ = "location"
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind, "location_kind"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    warehouse: Mapped[Warehouse] = relationship()

    @property
    def pickable(self) -> bool:
        return self.kind in PICKABLE_KINDS


# --- lots and the ledger ---------------------------------------------------------------------


class Lot(TimestampMixin, Base):
    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("product_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    origin: Mapped[LotOrigin] = mapped_column(_enum(LotOrigin, "lot_origin"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"), index=True)
    supplier_lot_code: Mapped[str | None] = mapped_column(String(80), index=True)
    # Received or produced on.
    made_on: Mapped[date] = mapped_column(Date)
    expiry: Mapped[date | None] = mapped_column(Date, index=True)
    unit_cost: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    status: Mapped[LotStatus] = mapped_column(_enum(LotStatus, "lot_status"), default=LotStatus.RELEASED)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier | None] = relationship()


class LotStatusChange(TimestampMixin, Base):
    """Every hold, release and recall of a lot, with who and why."""

    __tablename__ = "lot_status_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    old_status: Mapped[LotStatus] = mapped_column(_enum(LotStatus, "old_status"))
    new_status: Mapped[LotStatus] = mapped_column(_enum(LotStatus, "new_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Movement(Base):
    """One line of the append-only ledger. Never updated or deleted; mistakes are compensated."""

    __tablename__ = "movement"
    __table_args__ = (
        CheckConstraint("quantity <> 0", name="nonzero"),
        Index("ix_movement_lot_location", "lot_id", "location_id"),
        Index("ix_movement_ref", "ref_type", "ref_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind, "movement_kind"))
    ref_type: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The business date the movement belongs to (receipt date, production date, ship date …).
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    request_key: Mapped[str | None] = mapped_column(String(100), index=True)
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class Balance(Base):
    """On hand per lot and location, kept in the same transaction as every movement."""

    __tablename__ = "balance"
    __table_args__ = (CheckConstraint("on_hand >= 0", name="not_negative"),)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True, index=True)
    on_hand: Mapped[Decimal] = mapped_column(Exact())
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class Counter(Base):
    """Named sequences for document numbers and generated lot codes."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class RequestKey(TimestampMixin, Base):
    """Idempotency keys of bookings already made, so a replayed request never books twice."""

    __tablename__ = "request_key"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[int] = mapped_column(Integer)


# --- documents -------------------------------------------------------------------------------


class Receipt(TimestampMixin, Base):
    __tablename__ = "receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    reference: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list[ReceiptLine]] = relationship(back_populates="receipt", order_by="ReceiptLine.id")


class ReceiptLine(Base):
    __tablename__ = "receipt_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact())
    unit_cost: Mapped[Decimal] = mapped_column(Exact())
    receipt: Mapped[Receipt] = relationship(back_populates="lines")
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class ProductionRun(TimestampMixin, Base):
    __tablename__ = "production_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    output_lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), unique=True)
    output_quantity: Mapped[Decimal] = mapped_column(Exact())
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    produced_on: Mapped[date] = mapped_column(Date, index=True)
    extra_cost: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    product: Mapped[Product] = relationship()
    output_lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()
    inputs: Mapped[list[RunInput]] = relationship(back_populates="run", order_by="RunInput.id")


class RunInput(Base):
    __tablename__ = "run_input"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact())
    unit_cost: Mapped[Decimal] = mapped_column(Exact())
    run: Mapped[ProductionRun] = relationship(back_populates="inputs")
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class LotLink(Base):
    """Genealogy edge: `quantity` of the input lot went into the output lot in run `run_id`."""

    __tablename__ = "lot_link"
    __table_args__ = (
        UniqueConstraint("input_lot_id", "output_lot_id", "run_id"),
        Index("ix_lot_link_output", "output_lot_id", "input_lot_id"),
        Index("ix_lot_link_input", "input_lot_id", "output_lot_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    input_lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    output_lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    input_lot: Mapped[Lot] = relationship(foreign_keys=[input_lot_id])
    output_lot: Mapped[Lot] = relationship(foreign_keys=[output_lot_id])


class Order(TimestampMixin, Base):
    __tablename__ = "sales_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    ship_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus, "order_status"), default=OrderStatus.OPEN, index=True
    )
    customer_reference: Mapped[str | None] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customer: Mapped[Customer] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.line_no")


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    shipped_quantity: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.shipped_quantity


class Shipment(TimestampMixin, Base):
    __tablename__ = "shipment"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    shipped_on: Mapped[date] = mapped_column(Date, index=True)
    carrier_reference: Mapped[str | None] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    order: Mapped[Order] = relationship()
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", order_by="ShipmentLine.id")


class ShipmentLine(Base):
    __tablename__ = "shipment_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact())
    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class CustomerReturn(TimestampMixin, Base):
    __tablename__ = "customer_return"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact())
    returned_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    customer: Mapped[Customer] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class Adjustment(TimestampMixin, Base):
    __tablename__ = "adjustment"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    # Signed: positive adds stock (found), negative removes it (count short).
    quantity: Mapped[Decimal] = mapped_column(Exact())
    reason: Mapped[str] = mapped_column(Text)
    adjusted_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()


class Transfer(TimestampMixin, Base):
    __tablename__ = "transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact())
    moved_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lot: Mapped[Lot] = relationship()
    from_location: Mapped[Location] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location] = relationship(foreign_keys=[to_location_id])


class ScanEvent(Base):
    __tablename__ = "scan_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    raw: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    station: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

# Tables of later features live in their own modules and register on the same Base.
import app.models_allocation as _allocation_tables  # noqa: E402,F401  (allocation tables register on Base)
import app.models_recall  # noqa: E402,F401  (recall and drill tables register on Base)
import app.models_waste as _waste_tables  # noqa: E402,F401  (write-off tables register on Base)
from app import models_printing  # noqa: E402,F401
