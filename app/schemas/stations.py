"""Stations: where a handheld works and the locations its pages start from."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from app.models import StationKind
from app.schemas.common import Command, Out, Text, blank_to_none

StationCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                               pattern=r"^[A-Za-z0-9._/-]+$")]
# A location named by its code; blank means none.
LocationCode = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)] | None,
                         BeforeValidator(blank_to_none)]


class StationIn(Command):
    code: StationCode
    name: Text
    kind: StationKind = StationKind.OTHER
    receiving_location: LocationCode = Field(None, description="where Receive puts stock by default: an active "
                                                               "location that is not quarantine")
    production_location: LocationCode = Field(None, description="where Produce puts the batch by default: an "
                                                                "active location that is not quarantine")
    shipping_location: LocationCode = Field(None, description="where Pick and ship take from by default: an "
                                                              "active storage or shipping location")
    active: bool = True


class StationPatch(Command):
    """Only the fields sent change; a location sent as null (or blank) is cleared."""

    name: Text | None = None
    kind: StationKind | None = None
    receiving_location: LocationCode = None
    production_location: LocationCode = None
    shipping_location: LocationCode = None
    active: bool | None = None


class StationOut(Out):
    id: int
    code: str
    name: str
    kind: StationKind
    receiving_location: str | None
    production_location: str | None
    shipping_location: str | None
    active: bool
