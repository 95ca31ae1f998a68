"""Stations: a manager sets up where handhelds work and which locations their pages start from."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import get_or_404
from app.errors import Invalid
from app.models import Location, LocationKind, Station
from app.schemas import StationIn, StationPatch
from app.services.base import transactional
from app.services.lookups import ensure_unique, location_by_code

# Which locations may be a station's default for each purpose, and the words when one may not.
_ROLES: dict[str, tuple[frozenset[LocationKind], str]] = {
    "receiving_location": (frozenset(LocationKind) - {LocationKind.QUARANTINE},
                           "stock is not received straight into quarantine"),
    "production_location": (frozenset(LocationKind) - {LocationKind.QUARANTINE},
                            "a batch is not made straight into quarantine"),
    "shipping_location": (frozenset({LocationKind.STORAGE, LocationKind.SHIPPING}),
                          "picking takes only from storage or shipping locations"),
}


def _location(session: Session, field: str, code: str | None) -> Location | None:
    if code is None:
        return None
    location = location_by_code(session, code, field)
    kinds, why = _ROLES[field]
    if location.kind not in kinds:
        raise Invalid(f"{location.code} is a {location.kind.value} location; {why}", field)
    return location


def _set_locations(session: Session, station: Station, data: dict[str, Any]) -> None:
    for field in _ROLES:
        if field in data:
            location = _location(session, field, data.pop(field))
            setattr(station, f"{field}_id", location.id if location is not None else None)


@transactional
def create_station(session: Session, cmd: StationIn) -> Station:
    ensure_unique(session, Station, "code", cmd.code, None, "station")
    data = cmd.model_dump()
    station = Station(code=data.pop("code"), name=data.pop("name"), kind=data.pop("kind"), active=data.pop("active"))
    _set_locations(session, station, data)
    session.add(station)
    session.flush()
    return station


@transactional
def update_station(session: Session, station_id: int, cmd: StationPatch) -> Station:
    station: Station = get_or_404(session, Station, station_id, "id", "station")
    data = cmd.model_dump(exclude_unset=True)
    _set_locations(session, station, data)
    for key, value in data.items():
        if value is not None:  # name, kind and active are never cleared
            setattr(station, key, value)
    session.flush()
    session.refresh(station)
    return station
