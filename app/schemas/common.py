"""Field types and base classes every command and output model shares."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
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


class _MayHoldSeparator:
    """Marks text that may come from a scan and keep a GS1 separator inside it (see `Scanned`)."""


SCANNED_TEXT = _MayHoldSeparator()

Scanned = Annotated[str, BeforeValidator(fnc1_trimmed), StringConstraints(strip_whitespace=True, max_length=80),
                    SCANNED_TEXT]
"""Free text that may come from a scan, such as a supplier's lot code or a delivery note number."""


LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


# A decimal in a JSON body is a string: at most 12 digits before the point and 6 after (numeric(18, 6)).
DECIMAL_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"

Qty = Annotated[Decimal, Field(max_digits=18, decimal_places=6), WithJsonSchema(
    {"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["12.5"],
     "description": "a decimal written as a string: up to 12 digits, a point and up to 6 decimals"},
    mode="validation")]


Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6), WithJsonSchema(
    {"type": "string", "pattern": MONEY_PATTERN, "examples": ["0.77"],
     "description": "a non-negative decimal written as a string: up to 12 digits, a point and up to 6 decimals"},
    mode="validation")]


# More than zero: a whole part that is not zero, or a fraction below 1 with a digit that is not zero.
POSITIVE_PATTERN = (r"^([1-9][0-9]{0,11}(\.[0-9]{1,6})?|0\.([1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}"
                    r"|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9]))$")

PositiveQty = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6), WithJsonSchema(
    {"type": "string", "pattern": POSITIVE_PATTERN, "examples": ["12.5"],
     "description": "a quantity above 0 written as a string: up to 12 digits, a point and up to 6 decimals"},
    mode="validation")]

NonNegativeQty = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6), WithJsonSchema(
    {"type": "string", "pattern": MONEY_PATTERN, "examples": ["12.5"],
     "description": "a quantity of 0 or more written as a string: up to 12 digits, a point and up to 6 decimals"},
    mode="validation")]


Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=18, decimal_places=6), WithJsonSchema(
    {"type": "string", "pattern": r"^(100(\.0{1,6})?|[0-9]{1,2}(\.[0-9]{1,6})?)$", "examples": ["75"],
     "description": "a percentage from 0 to 100 written as a string, up to 6 decimals"},
    mode="validation")]


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


# Control characters other than tab, line feed and carriage return: no name, note or reason needs them, and the
# XLSX and PDF files that print them back cannot hold them. A scanned barcode keeps its GS1 separator (ASCII 29).
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROLS_BUT_GS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f]")


def plain_text(v: Any, *, scan: bool = False) -> Any:
    """Refuse NUL and control characters in text (and in each text of a list)."""
    if isinstance(v, list):
        return [plain_text(item, scan=scan) for item in v]
    no_nul(v)
    if isinstance(v, str) and (_CONTROLS_BUT_GS if scan else _CONTROLS).search(v):
        raise ValueError("must not contain control characters")
    return v


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("must be a number, not true or false")
    return v


def _date_text(v: Any) -> Any:
    # pydantic would read a number, or digits, as a Unix time (0 → 1970-01-01); a date must be written out.
    if isinstance(v, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v.strip()):
        return v.strip()
    if v is not None and not isinstance(v, date):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return v


# The constraints come before the validator: after it, pydantic would write them into the document as
# unknown keywords ("ge") instead of minimum/maximum.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_not_bool)]


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
"""The business calendar: no lot, order or report of ours starts before or ends after it."""


def _in_calendar(v: date) -> date:
    # Month arithmetic, "previous period" and the databases' own date ranges all break near year 1 or 9999.
    if not FIRST_DAY <= v <= LAST_DAY:
        raise ValueError(f"must be a date from {FIRST_DAY} to {LAST_DAY}")
    return v


DAY_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

Day = Annotated[date, BeforeValidator(_date_text), AfterValidator(_in_calendar), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": DAY_PATTERN,
     "description": "a date written YYYY-MM-DD, from 1900-01-01 to 2200-12-31"}, mode="validation")]


def _moment_in_calendar(v: datetime) -> datetime:
    _in_calendar(v.date())
    return v


Moment = Annotated[datetime, AfterValidator(_moment_in_calendar), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-",
     "description": "a date and time (RFC 3339) from 1900-01-01 to 2200-12-31"}, mode="validation")]
"""A time someone gives (such as when a consignee was told), on a day of the business calendar."""


MAX_PAGE = 1_000_000
"""Far beyond any list's last page, and small enough that page × rows per page stays a 32-bit offset."""


PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(_not_bool)]


Offset = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(_not_bool)]


# What a command does to text, the document says too: no control characters but tab, LF and CR (GS too in a
# scan), and text that must not be empty holds more than whitespace (it is stripped).
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_ALLOWED_IN_SCAN = r"[^\x00-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f]"
_VISIBLE = r"[^\x00-\x20\x7f\x85\s]"


def text_pattern(*, not_blank: bool, scan: bool = False) -> str:
    allowed = _ALLOWED_IN_SCAN if scan else _ALLOWED
    return f"^{allowed}*{_VISIBLE}{allowed}*$" if not_blank else f"^{allowed}*$"


def _text_rules(node: Any, scan: bool) -> None:
    if isinstance(node, list):
        for item in node:
            _text_rules(item, scan)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
        node["pattern"] = text_pattern(not_blank=node.get("minLength", 0) >= 1, scan=scan)
    for key in ("anyOf", "oneOf", "allOf", "items"):
        if key in node:
            _text_rules(node[key], scan)


def _marked(annotation: Any) -> bool:
    if any(m is SCANNED_TEXT for m in getattr(annotation, "__metadata__", ())):
        return True
    return any(_marked(arg) for arg in get_args(annotation))


@functools.cache
def holds_scans(cls: type[BaseModel], name: str) -> bool:
    """Whether the field may hold the GS1 separator: a scanned barcode, or `Scanned` text.

    Asked for every text field of every command validated, so the answer is kept per class and field
    (a model's fields do not change once it is defined).
    """
    if name in getattr(cls, "scan_fields", frozenset()):
        return True
    field = cls.model_fields.get(name)
    return field is not None and (_marked(field.annotation) or any(m is SCANNED_TEXT for m in field.metadata))


def text_rules_in_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Write the command's text rules into its JSON schema (the OpenAPI document shows them)."""
    by_alias = {(f.alias or n): n for n, f in cls.model_fields.items()}
    for name, prop in schema.get("properties", {}).items():
        _text_rules(prop, holds_scans(cls, by_alias.get(name, name)))


def with_rules(*rules: dict[str, Any]) -> Any:
    """A json_schema_extra for a command whose fields depend on each other: the text rules, and `rules` (JSON
    schemas the whole body must also match) as what the document says about those dependencies."""

    def extra(schema: dict[str, Any], cls: type[BaseModel]) -> None:
        text_rules_in_schema(schema, cls)
        schema["allOf"] = list(rules)

    return extra


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=text_rules_in_schema)

    # Fields that hold scanned barcodes, which may carry the GS1 separator (ASCII 29).
    scan_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _plain_text(cls, v: Any, info: ValidationInfo) -> Any:
        return plain_text(v, scan=info.field_name is not None and holds_scans(cls, info.field_name))


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
