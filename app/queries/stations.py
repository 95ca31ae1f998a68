"""Stations as the pages and the API show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Station
from app.schemas import StationOut


def station_out(station: Station) -> StationOut:
    def code(location: object) -> str | None:
        return getattr(location, "code", None)

    return StationOut(id=station.id, code=station.code, name=station.name, kind=station.kind,
                      receiving_location=code(station.receiving_location),
                      production_location=code(station.production_location),
                      shipping_location=code(station.shipping_location), active=station.active)


def stations(session: Session, *, active_only: bool = False) -> list[StationOut]:
    q = select(Station).order_by(Station.code)
    if active_only:
        q = q.where(Station.active.is_(True))
    return [station_out(s) for s in session.scalars(q)]
