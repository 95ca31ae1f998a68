"""Users: commands."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    StringConstraints,
)

from app.models import Role
from app.schemas.common import Command


class UserIn(Command):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80,
                                               pattern=r"^[A-Za-z0-9._@-]+$")]
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]
