"""Warehouses and the locations stock sits in."""

from __future__ import annotations

import enum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.common import TimestampMixin, enum_column


class LocationKind(enum.StrEnum):
    STORAGE = "storage"
    RECEIVING = "receiving"
    PRODUCTION = "production"
    SHIPPING = "shipping"
    QUARANTINE = "quarantine"


PICKABLE_KINDS = (LocationKind.STORAGE, LocationKind.SHIPPING)


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
    kind: Mapped[LocationKind] = mapped_column(enum_column(LocationKind, "location_kind"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    warehouse: Mapped[Warehouse] = relationship()

    @property
    def pickable(self) -> bool:
        return self.kind in PICKABLE_KINDS
