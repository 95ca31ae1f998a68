"""Domain errors: each maps to one 4xx status and names the field at fault."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class LotwiseError(Exception):
    """A request Lotwise refuses; nothing has been written."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, *, title: str | None = None,
                 candidates: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # A few words a handheld shows in bold above the message ("Lot on hold").
        self.title = title
        # The lots an ambiguous lot code could mean, for the caller to choose from.
        self.candidates = candidates

    def to_dict(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message, "field": self.field}
        if self.title is not None:
            error["title"] = self.title
        if self.candidates is not None:
            error["candidates"] = self.candidates
        return {"error": error}

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the error body."""
        return {}


class BadInput(LotwiseError):
    """The request itself is malformed (such as text with a NUL character), whatever it asks for."""

    status = 400
    code = "bad_request"


class Invalid(LotwiseError):
    status = 422
    code = "invalid"


class NotFound(LotwiseError):
    status = 404
    code = "not_found"


class Conflict(LotwiseError):
    """The request is well-formed but the current state forbids it (stock, status, duplicates)."""

    status = 409
    code = "conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class LotBlocked(Conflict):
    code = "lot_blocked"


class Unauthorized(LotwiseError):
    status = 401
    code = "unauthorized"


class Forbidden(LotwiseError):
    status = 403
    code = "forbidden"


class TooManyAttempts(LotwiseError):
    """Too many failed sign-ins or wrong tokens: refused unchecked until `retry_after` seconds pass."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UriTooLong(LotwiseError):
    status = 414
    code = "uri_too_long"


def _field(loc: tuple[Any, ...]) -> str | None:
    return ".".join(str(x) for x in loc) or None


def validation_error(exc: ValidationError, prefix: str = "") -> Invalid:
    """A pydantic error as the 422 the API and the pages give: the first problem, naming its field."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(x for x in first["loc"] if not str(x).startswith("function-"))
    name = _field(loc)
    msg = first["msg"].removeprefix("Value error, ")
    return Invalid(f"{name}: {msg}" if name else msg, (prefix + name) if name else None)
