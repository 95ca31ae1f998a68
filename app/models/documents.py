"""Documents that move stock: receipts, production runs, orders, shipments, returns, adjustments,
transfers; and the counters that number them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact, UTCDateTime
from app.models.common import TimestampMixin, enum_column
from app.models.locations import Location, Warehouse
from app.models.lots import Lot
from app.models.parties import Customer, Product, Supplier
from app.models.users import User

if TYPE_CHECKING:
    from app.models.recipes import RunPlanLine


class OrderStatus(enum.StrEnum):
    OPEN = "open"
    PARTIAL = "partial"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Counter(Base):
    """Named sequences for document numbers and generated lot codes."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Receipt(TimestampMixin, Base):
    __tablename__ = "receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    reference: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the supplier tells us of the food's origin, kept for FSMA 204's harvesting, cooling, initial
    # packing and first land-based receiving key data elements; all optional.
    harvested_on: Mapped[date | None] = mapped_column(Date)
    harvest_location: Mapped[str | None] = mapped_column(Text)
    harvester: Mapped[str | None] = mapped_column(Text)
    cooled_on: Mapped[date | None] = mapped_column(Date)
    cooling_location: Mapped[str | None] = mapped_column(Text)
    packed_on: Mapped[date | None] = mapped_column(Date)
    packing_location: Mapped[str | None] = mapped_column(Text)
    landed_on: Mapped[date | None] = mapped_column(Date)
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
    # Why the output lot was given an expiry later than its earliest input's.
    expiry_reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The output the batch was planned for when made from the product's recipe (None without one).
    planned_quantity: Mapped[Decimal | None] = mapped_column(Exact())
    product: Mapped[Product] = relationship()
    output_lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()
    inputs: Mapped[list[RunInput]] = relationship(back_populates="run", order_by="RunInput.id")
    plan: Mapped[list[RunPlanLine]] = relationship(order_by="RunPlanLine.id")


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


class Order(TimestampMixin, Base):
    __tablename__ = "sales_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    ship_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.OPEN, index=True
    )
    customer_reference: Mapped[str | None] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customer: Mapped[Customer] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.line_no")


# A scanned or typed order number is matched whatever its case (`services.scans`): without this index each such scan
# read every order there is.
Index("ix_sales_order_number_upper", func.upper(Order.number))


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
    # A manager's override of the customer's shelf-life rule: why, the rules overridden, who, when.
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_rules: Mapped[str | None] = mapped_column(Text)
    override_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))
    order: Mapped[Order] = relationship()
    customer: Mapped[Customer] = relationship()
    override_user: Mapped[User | None] = relationship(foreign_keys=[override_user_id])
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
