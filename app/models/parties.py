"""Master data: products, suppliers and customers (with each customer's shelf-life rule)."""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, Exact
from app.models.common import TimestampMixin, enum_column


class ProductKind(enum.StrEnum):
    MATERIAL = "material"
    PRODUCT = "product"


class Product(TimestampMixin, Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[ProductKind] = mapped_column(enum_column(ProductKind, "product_kind"))
    unit: Mapped[str] = mapped_column(String(10), default="ea")
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    expiry_alert_days: Mapped[int | None] = mapped_column(Integer)
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PackagingLevel(TimestampMixin, Base):
    """A case or pallet of a product: its own GTIN, and how much of the product (in its unit) it holds.

    A GTIN names one thing: it is unique here and across products' own GTINs (checked by the service).
    """

    __tablename__ = "packaging_level"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    content: Mapped[Decimal] = mapped_column(Exact())


class PartyMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    gln: Mapped[str | None] = mapped_column(String(13))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)


class Supplier(TimestampMixin, PartyMixin, Base):
    __tablename__ = "supplier"


class Customer(TimestampMixin, PartyMixin, Base):
    __tablename__ = "customer"
    min_remaining_days: Mapped[int | None] = mapped_column(Integer)
    # Percent (0–100) of the lot's total life that must remain on arrival.
    min_remaining_pct: Mapped[Decimal | None] = mapped_column(Exact())
    transit_days: Mapped[int] = mapped_column(Integer, default=0)
    max_lots_per_line: Mapped[int | None] = mapped_column(Integer)
    no_date_reversal: Mapped[bool] = mapped_column(Boolean, default=False)
