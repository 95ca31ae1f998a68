"""Lots, their status history, the append-only movement ledger, balances and genealogy links."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact, UTCDateTime, utcnow
from app.models.common import TimestampMixin, enum_column
from app.models.locations import Location
from app.models.parties import Product, Supplier


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


class Lot(TimestampMixin, Base):
    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("product_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    origin: Mapped[LotOrigin] = mapped_column(enum_column(LotOrigin, "lot_origin"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"), index=True)
    supplier_lot_code: Mapped[str | None] = mapped_column(String(80), index=True)
    # Received or produced on.
    made_on: Mapped[date] = mapped_column(Date)
    expiry: Mapped[date | None] = mapped_column(Date, index=True)
    unit_cost: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "lot_status"), default=LotStatus.RELEASED)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier | None] = relationship()


class LotStatusChange(TimestampMixin, Base):
    """Every hold, release and recall of a lot, with who and why."""

    __tablename__ = "lot_status_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    old_status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "old_status"))
    new_status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "new_status"))
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
    kind: Mapped[MovementKind] = mapped_column(enum_column(MovementKind, "movement_kind"))
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
