"""Field types and base classes every command and output model shares."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)

from app.formatting import qty


def fnc1_trimmed(v: Any) -> Any:
    """Drop GS1 separators (ASCII 29) at either end of text a wedge scanner may have typed.

    At the start of a field a separator is FNC1, the GS1 start marker; at the end it only terminates a
    variable-length field. Neither is part of the value, so both go with the surrounding whitespace —
    Python's `str.strip` counts ASCII 28-31 as whitespace, as `scanning.parse` relies on too. A separator
    inside the value is what the supplier's label says, and is kept.
    """
    return v.strip() if isinstance(v, str) else v


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


Code = Annotated[str, BeforeValidator(fnc1_trimmed), StringConstraints(strip_whitespace=True, min_length=1,
                                                                        max_length=40)]


Scanned = Annotated[str, BeforeValidator(fnc1_trimmed), StringConstraints(strip_whitespace=True, max_length=80)]
"""Free text that may come from a scan, such as a supplier's lot code or a delivery note number."""


LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


Qty = Annotated[Decimal, Field(max_digits=18, decimal_places=6)]


Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


def _plain(value: Decimal) -> str:
    """400.000000 → "400", 0.770000 → "0.77": a number reads the same in every response."""
    return qty(value)


# Quantities and money in responses: decimal strings without trailing zeros.
Amount = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]


MAX_ID = 2**31 - 1


"""Ids are 32-bit integers in the database; a larger one names nothing and must not reach a query."""


def no_nul(v: Any) -> Any:
    """Refuse text with NUL characters, which PostgreSQL cannot store (SQLite would, silently)."""
    if isinstance(v, str) and "\x00" in v:
        raise ValueError("must not contain NUL characters")
    return v


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("must be a number, not true or false")
    return v


def _date_text(v: Any) -> Any:
    # pydantic would read a number as a Unix time (0 → 1970-01-01); a date must be written out.
    if v is not None and not isinstance(v, str | date):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return v


Id = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_ID)]


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
"""The business calendar: no lot, order or report of ours starts before or ends after it."""


def _in_calendar(v: date) -> date:
    # Month arithmetic, "previous period" and the databases' own date ranges all break near year 1 or 9999.
    if not FIRST_DAY <= v <= LAST_DAY:
        raise ValueError(f"must be a date from {FIRST_DAY} to {LAST_DAY}")
    return v


Day = Annotated[date, BeforeValidator(_date_text), AfterValidator(_in_calendar)]


def _moment_in_calendar(v: datetime) -> datetime:
    _in_calendar(v.date())
    return v


Moment = Annotated[datetime, AfterValidator(_moment_in_calendar)]
"""A time someone gives (such as when a consignee was told), on a day of the business calendar."""


MAX_PAGE = 1_000_000
"""Far beyond any list's last page, and small enough that page × rows per page stays a 32-bit offset."""


PageNumber = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_PAGE)]


Offset = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=MAX_ID)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    _no_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: no_nul(v)))


def gtin_value(v: str) -> str:
    """A GTIN as stored (14 digits), or the reason it is not one."""
    v = v.strip()
    if not v.isdigit() or len(v) not in (8, 12, 13, 14):
        raise ValueError("GTIN must be 8, 12, 13 or 14 digits")
    if not gtin_ok(v):
        raise ValueError(f"GTIN {v} has a wrong check digit")
    return v.zfill(14)


def gtin_ok(value: str) -> bool:
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)
