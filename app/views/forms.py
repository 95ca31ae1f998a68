"""Form plumbing for the pages: request.form into command data, errors back onto the fields."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from flask import flash, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.errors import Invalid, LotwiseError, NotFound, validation_error
from app.formatting import qty as format_qty
from app.schemas import MAX_PAGE, Day, HoldIn, Id, PageNumber
from app.services import stock
from app.services.idempotency import FORM_FIELD, IdempotencyKey, form_fingerprint
from app.web import booking_key, current_user, db

T = TypeVar("T")

_TRUE = {"true", "on", "1", "yes"}
_SCALED = re.compile(r"\b\d+\.\d{6}\b")  # stored quantities (6 places) as people write them: 10.000000 → 10


def _checked(raw: str | None) -> bool:
    return (raw or "").strip().lower() in _TRUE


def _clean(model: type[BaseModel], values: Mapping[str, str], checkboxes: Iterable[str]) -> dict[str, Any]:
    """The model's fields from `values`: blank → None, or left out when the field has a non-None default."""
    boxes = set(checkboxes)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in boxes:
            out[name] = _checked(values.get(name))
            continue
        if name not in values:
            continue
        raw = values[name]
        if raw.strip():
            out[name] = raw
        elif info.is_required() or info.default is None:
            out[name] = None
    return out


@dataclass
class _RowGroup:
    kept: list[int]
    aliases: dict[str, str]
    noun: str
    label: Callable[[int], str]


class Form:
    """What the user typed into a form, and what (if anything) was wrong with it."""

    def __init__(self, values: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})
        self.values.setdefault("request_key", secrets.token_hex(16))
        self.labels = dict(labels or {})
        self.message: str | None = None
        self.errors: dict[str, str] = {}
        self.status = 200
        self._groups: dict[str, _RowGroup] = {}

    @classmethod
    def posted(cls, labels: Mapping[str, str] | None = None) -> Form:
        """The submitted form (without its CSRF token)."""
        return cls({k: v for k, v in request.form.items() if k != "csrf_token"}, labels)

    # --- reading, for the templates ---

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        return _checked(self.values.get(name))

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def row_indices(self, prefix: str, minimum: int) -> range:
        """Row numbers to render: every row the user sent, and at least `minimum`."""
        found = [int(m.group(1)) for k in self.values if (m := re.fullmatch(rf"{re.escape(prefix)}\.(\d+)\.\w+", k))]
        return range(max([minimum, *(i + 1 for i in found)]))

    @property
    def request_key(self) -> str:
        """An idempotency key per rendered form, so a double submit books once."""
        return self.values["request_key"]

    @property
    def idempotency_key(self) -> IdempotencyKey:
        """The posted form's key, fingerprinted with every submitted field but the CSRF token and the key.

        Sending the same form twice books once; sending it again with other values is refused.
        """
        fields = [(name, value) for name, values in request.form.lists() if name != "csrf_token"
                  for value in values]
        return booking_key(self.request_key, form_fingerprint(request.method, request.path, fields), FORM_FIELD)

    # --- building command data ---

    def data(self, model: type[BaseModel], *, checkboxes: Iterable[str] = ()) -> dict[str, Any]:
        return _clean(model, self.values, checkboxes)

    def rows(
        self,
        prefix: str,
        model: type[BaseModel],
        *,
        keys: Iterable[str],
        label: str = "Line",
        checkboxes: Iterable[str] = (),
        aliases: Mapping[str, str] | None = None,
        convert: Callable[[dict[str, str]], dict[str, str]] | None = None,
        labeler: Callable[[int], str] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows named `prefix.N.field`, skipping those whose `keys` are all blank.

        Errors about the n-th row sent to the service are later shown on the row the user filled in.
        """
        keys = tuple(keys)
        out: list[dict[str, Any]] = []
        kept: list[int] = []
        for i in self.row_indices(prefix, 0):
            head = f"{prefix}.{i}."
            raw = {k.removeprefix(head): v for k, v in self.values.items() if k.startswith(head)}
            if not any(raw.get(k, "").strip() for k in keys):
                continue
            if convert is not None:
                raw = convert(raw)
            out.append(_clean(model, raw, checkboxes))
            kept.append(i)
        self._groups[prefix] = _RowGroup(kept, dict(aliases or {}), label.lower(),
                                         labeler or (lambda i: f"{label} {i + 1}"))
        return out

    # --- errors ---

    def _label(self, name: str) -> str:
        return self.labels.get(name, name.replace("_", " "))

    def _locate(self, field: str) -> tuple[str | None, str]:
        """The input's name and a human label for an error's dotted field."""
        parts = field.split(".")
        group = self._groups.get(parts[0])
        if group is not None and len(parts) > 1 and parts[1].isdigit():
            n = int(parts[1])
            row = group.kept[n] if n < len(group.kept) else n
            sub = ".".join(parts[2:])
            target = group.aliases.get(sub, sub)
            label = group.label(row) + (f" {self._label(sub)}" if sub else "")
            return (f"{parts[0]}.{row}.{target}" if target else None), label
        return field, _sentence(self._label(field))

    def fail(self, exc: LotwiseError) -> None:
        """Show `exc` at the top of the form and under the field it names."""
        self.status = exc.status
        message = _SCALED.sub(lambda m: format_qty(m.group(0)), exc.message)
        name: str | None = None
        near = message  # what is said under the field, where the field's name goes without saying
        group = self._groups.get(exc.field or "")
        if group is not None and "at least 1 item" in message:
            message = f"Fill in at least one {group.noun}."
        elif exc.field:
            name, label = self._locate(exc.field)
            if message.startswith(exc.field):
                near = message[len(exc.field):].lstrip(": ")
                message = label + message[len(exc.field):]
        self.message = _sentence(message)
        if name:
            self.errors[name] = _sentence(near)
        if exc.field == FORM_FIELD:
            # The key booked other values: the form shown again books what it says, once.
            self.values[FORM_FIELD] = secrets.token_hex(16)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def require(form: Form, name: str, message: str) -> None:
    """Refuse the form when a choice the schema cannot explain well (a select) was left blank."""
    if not form.value(name).strip():
        raise Invalid(message, name)


def attempt(form: Form, action: Callable[[], T]) -> T | None:
    """Run `action` (build the command, call the service); on a refusal record it on `form`."""
    try:
        return action()
    except ValidationError as exc:
        form.fail(validation_error(exc))
    except LotwiseError as exc:
        db().rollback()
        form.fail(exc)
    return None


_DAY: TypeAdapter[date] = TypeAdapter(Day)
_ID: TypeAdapter[int] = TypeAdapter(Id)
_PAGE: TypeAdapter[int] = TypeAdapter(PageNumber)


def query_date(name: str) -> date | None:
    """The query string's date `name` (blank: none), checked like every date the API takes."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return _DAY.validate_python(raw)
    except ValidationError as exc:
        raise Invalid(f"{name}: {exc.errors(include_url=False)[0]['msg']} (not {raw!r})", name) from None


def query_id(name: str) -> int | None:
    """The query string's id `name` (blank: none); one no row can have is refused, naming it."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return _ID.validate_python(raw)
    except ValidationError:
        raise Invalid(f"{name} {raw!r} is not the id of anything", name) from None


def date_range(column: Any) -> tuple[list[Any], dict[str, str]]:
    """Filters on `column` for the query string's `from` and `to` dates; a bad date is refused, naming it."""
    filters: list[Any] = []
    shown: dict[str, str] = {}
    for key, op in (("from", column.__ge__), ("to", column.__le__)):
        day = query_date(key)
        if day is not None:
            filters.append(op(day))
            shown[key] = day.isoformat()
    return filters, shown


@dataclass(frozen=True)
class Pager:
    """Page N of a list, fetched one row beyond the page to know whether a next page exists."""

    page: int
    size: int = 100

    @classmethod
    def from_request(cls, size: int = 100) -> Pager:
        raw = request.args.get("page", "").strip() or "1"
        try:
            return cls(_PAGE.validate_python(raw), size)
        except ValidationError:
            raise Invalid(f"page {raw!r} is not a page number: 1, 2, 3 … up to {MAX_PAGE}", "page") from None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def fetch(self) -> int:
        return self.size + 1

    def cut(self, rows: list[T]) -> tuple[list[T], bool]:
        """This page's rows, and whether there are more; a page past the last one is not found."""
        if not rows and self.page > 1:
            raise NotFound(f"there is no page {self.page}: the list ends before it", "page")
        return rows[: self.size], len(rows) > self.size

    def url_args(self, page: int) -> dict[str, str]:
        args = request.args.to_dict()
        args["page"] = str(page)
        return args


def hold_posted(lot_id: int) -> tuple[Form, bool]:
    """Put a lot on hold from a posted form (reason), flashing what the hold did to its allocations.

    Returns the form and whether the hold was booked; on a refusal the form carries the error for
    the calling page to show again.
    """
    form = Form.posted()
    held = attempt(form, lambda: stock.hold_lot(db(), lot_id, HoldIn.model_validate(form.data(HoldIn)),
                                                user=current_user()))
    if held is None:
        return form, False
    flash(f"Lot {held.lot.code} is on hold: it cannot be used or shipped until released.", "success")
    for shortage in held.allocations.shortages:
        flash(f"Could not re-allocate: {'; '.join(shortage.reasons)}", "error")
    return form, True
