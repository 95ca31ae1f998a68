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
    # The business operating the site and its phone, for regulators' location descriptions (FSMA 204);
    # the business name defaults to the configured company name.
    business_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))


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


class StationKind(enum.StrEnum):
    DOCK = "dock"
    KITCHEN = "kitchen"
    DISPATCH = "dispatch"
    OTHER = "other"


class Station(TimestampMixin, Base):
    """Where a handheld works (the dock, a kitchen line, dispatch): the locations its pages start from."""

    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[StationKind] = mapped_column(enum_column(StationKind, "station_kind"))
    receiving_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    production_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    shipping_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    receiving_location: Mapped[Location | None] = relationship(foreign_keys=[receiving_location_id])
    production_location: Mapped[Location | None] = relationship(foreign_keys=[production_location_id])
    shipping_location: Mapped[Location | None] = relationship(foreign_keys=[shipping_location_id])
