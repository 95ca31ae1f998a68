"""Helpers every table module shares: enum columns and the created-at mixin."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Enum,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the value strings, checked by a constraint on both databases.
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], native_enum=False,
                create_constraint=True, length=20, validate_strings=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
