"""Allocations of lots to order lines, and what could not be allocated."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact, UTCDateTime, utcnow
from app.models.common import TimestampMixin, enum_column
from app.models.documents import OrderLine
from app.models.locations import Location
from app.models.lots import Lot


class AllocationState(enum.StrEnum):
    OPEN = "open"
    PICKED = "picked"
    SHIPPED = "shipped"
    RELEASED = "released"


# Allocations in these states still hold stock on the shelf (nothing moves until the shipment).
RESERVING = (AllocationState.OPEN, AllocationState.PICKED)


class OrderAllocation(TimestampMixin, Base):
    """A quantity of one lot at one location set aside for one order line.

    Open until fully picked, then picked, then shipped; released (with the reason) when it is given
    back by a deallocation, a hold or a recall. A released or shipped row is kept as history.
    """

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive"),
        CheckConstraint("picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within"),
        Index("ix_allocation_lot_state", "lot_id", "state"),
        Index("ix_allocation_line_state", "order_line_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    picked_quantity: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    state: Mapped[AllocationState] = mapped_column(enum_column(AllocationState, "allocation_state"),
                                                  default=AllocationState.OPEN)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    order_line: Mapped[OrderLine] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()

    @property
    def unpicked(self) -> Decimal:
        return self.quantity - self.picked_quantity


class LineShortage(Base):
    """What the last allocation of an order line could not fill, and why; gone once the line is filled."""

    __tablename__ = "allocation_shortage"
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), primary_key=True)
    missing: Mapped[Decimal] = mapped_column(Exact())
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    order_line: Mapped[OrderLine] = relationship()
