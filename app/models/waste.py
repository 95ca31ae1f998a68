"""Write-offs of stock (expired, damaged …), singly or in batches."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact
from app.models.common import TimestampMixin, enum_column
from app.models.locations import Location
from app.models.lots import Lot
from app.models.users import User


class WriteOffReason(enum.StrEnum):
    EXPIRED = "expired"
    DAMAGED = "damaged"
    QUALITY = "quality"
    RECALL = "recall"
    SAMPLE = "sample"
    OTHER = "other"


class WriteOffBatch(TimestampMixin, Base):
    """One confirmed "write off all expired stock": the preview it was confirmed from and its write-offs."""

    __tablename__ = "write_off_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    written_off_on: Mapped[date] = mapped_column(Date)
    # Fingerprint of the preview the manager confirmed; kept to show what was agreed to.
    preview_version: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[User | None] = relationship()
    write_offs: Mapped[list[WriteOff]] = relationship(back_populates="batch", order_by="WriteOff.id")


class WriteOff(TimestampMixin, Base):
    """Stock of one lot at one location taken out of the books as waste, valued at the lot's cost then."""

    __tablename__ = "write_off"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive"),
        Index("ix_write_off_date_lot", "written_off_on", "lot_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    reason: Mapped[WriteOffReason] = mapped_column(enum_column(WriteOffReason, "write_off_reason"))
    note: Mapped[str | None] = mapped_column(Text)
    written_off_on: Mapped[date] = mapped_column(Date)
    # The lot's unit cost when it was written off: a later top-up at another price must not
    # change what past waste was worth.
    unit_cost: Mapped[Decimal] = mapped_column(Exact())
    value: Mapped[Decimal] = mapped_column(Exact())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("write_off_batch.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()
    batch: Mapped[WriteOffBatch | None] = relationship(back_populates="write_offs")
    user: Mapped[User | None] = relationship()
