"""API for stations: where handhelds work and the locations their pages start from."""

from __future__ import annotations

from app.api import endpoint
from app.models import Role, Station, User
from app.queries.documents import get
from app.queries.stations import station_out, stations
from app.schemas import StationIn, StationOut, StationPatch
from app.services import stations as svc
from app.web import db


@endpoint("/stations", summary="List stations with their default locations", tag="locations",
          response=StationOut, many=True)
def list_stations(user: User) -> list[StationOut]:
    return stations(db())


@endpoint("/stations", "POST", summary="Create a station", tag="locations", role=Role.MANAGER,
          body=StationIn, response=StationOut, status=201, errors=(404, 409, 422))
def create_station(user: User, body: StationIn) -> StationOut:
    return station_out(svc.create_station(db(), body))


@endpoint("/stations/<int:station_id>", summary="Get a station", tag="locations", response=StationOut,
          errors=(404,))
def get_station(user: User, station_id: int) -> StationOut:
    return station_out(get(db(), Station, station_id, "station"))


@endpoint("/stations/<int:station_id>", "PATCH", summary="Update a station", tag="locations", role=Role.MANAGER,
          body=StationPatch, response=StationOut, errors=(404, 422))
def update_station(user: User, station_id: int, body: StationPatch) -> StationOut:
    return station_out(svc.update_station(db(), station_id, body))
