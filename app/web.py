"""Per-request plumbing shared by pages and the API: database session, current user, roles, today."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from flask import Request, current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from app import clock
from app.errors import BadInput, Forbidden, NotFound, Unauthorized
from app.models import Role, User
from app.schemas import MAX_ID
from app.services import idempotency
from app.services.idempotency import IdempotencyKey
from app.services.throttle import Policy
from app.services.users import TokenCache

P = ParamSpec("P")
T = TypeVar("T")


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    # Called several times a request: one look-up of the `g` proxy, not two.
    ctx_g = g._get_current_object()
    session: Session | None = ctx_g.get("db")
    if session is None:
        session = ctx_g.db = current_app.extensions["lotwise.sessions"]()
    return session


def close_db(_exc: BaseException | None = None) -> None:
    s = g.pop("db", None)
    if s is not None:
        s.close()


def streamed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A file sent while its rows are read: the request's session is closed at teardown, when the view returns,
    and reading the rows afterwards opens a new transaction on it, which this closes once the last piece is
    out (or the client has gone away and the server closes the response)."""
    session = db()

    def pieces() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    return pieces()


def today() -> date:
    """Today's date in the site's time zone (business dates are local)."""
    return clock.today(current_app.config["TIMEZONE"])


def local(dt: datetime | None) -> str:
    """A timestamp shown in the site's time zone."""
    return clock.local_text(dt, current_app.config["TIMEZONE"])


def gs1_separator() -> str | None:
    """The character this site's wedge scanners send instead of ASCII 29, if any."""
    return current_app.config.get("GS1_SEPARATOR") or None


def printer_timeout() -> float:
    """Seconds to wait for a network label printer."""
    return float(current_app.config["LABEL_PRINTER_TIMEOUT"])


def booking_key(key: str, fingerprint: str, field: str = idempotency.HEADER) -> IdempotencyKey:
    """An idempotency key sent now, remembered for the configured `IDEMPOTENCY_HOURS`."""
    return IdempotencyKey(key=key, fingerprint=fingerprint, at=clock.now(),
                          lifetime=timedelta(hours=current_app.config["IDEMPOTENCY_HOURS"]), field=field)
def now() -> datetime:
    """The current moment (aware UTC), for what the request books or counts."""
    return clock.now()


def throttle_policy() -> Policy:
    """How many failed sign-ins and wrong tokens are allowed before a lockout (`LOTWISE_LOGIN_*`)."""
    return Policy.from_config(current_app.config)


def token_cache() -> TokenCache:
    """This process's cache of valid API tokens (`TOKEN_CACHE_SECONDS`)."""
    return current_app.extensions["lotwise.tokens"]  # type: ignore[no-any-return]


def client_address() -> str | None:
    """The client's address; behind a proxy, the one the proxy saw (with `LOTWISE_PROXY_FIX`)."""
    return request.remote_addr


def current_user() -> User | None:
    if "user" not in g:
        uid = session.get("uid")
        user = db().get(User, uid) if uid else None
        g.user = user if user is not None and user.active else None
    return g.user  # type: ignore[no-any-return]


def login_required(role: Role = Role.VIEWER) -> Callable[[Callable[P, T]], Callable[P, Any]]:
    """Pages: send anonymous visitors to the login page; refuse users below `role`."""

    def deco(fn: Callable[P, T]) -> Callable[P, Any]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not user.has_role(role):
                raise Forbidden(f"this needs the {role.value} role; you are {user.role.value}")
            return fn(*args, **kwargs)

        return wrapper

    return deco


def require_user(role: Role) -> User:
    user = current_user()
    if user is None:
        raise Unauthorized("log in first")
    if not user.has_role(role):
        raise Forbidden(f"this needs the {role.value} role; you are {user.role.value}")
    return user


def _nul_in(value: Any, where: str) -> str | None:
    """The dotted name of the first text in a decoded JSON value that holds a NUL character."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return name
            found = _nul_in(item, name)
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_in(item, f"{where}.{i}" if where else str(i))
            if found:
                return found
    return None


# Werkzeug reads a form (and files) only from these bodies; any other request has neither.
_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
# The environ keys Werkzeug's request.headers are read from.
_CONTENT_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def _json_may_hold_nul(data: bytes) -> bool:
    """Whether a JSON body could decode to text with a NUL in it.

    JSON refuses a raw control character inside a string, so in a UTF-8 body a NUL can only arrive written as the
    escape \\u0000 (whose digits have no case); a body in UTF-16 or UTF-32, which json.loads also reads, holds zero
    bytes and is always walked.
    """
    return b"\x00" in data or b"\\u0000" in data


def _nul_field() -> str | None:
    """Where the request carries a NUL character, if anywhere: PostgreSQL cannot store or even compare one."""
    # Every request passes here: one look-up of the proxy, not one per field, and the raw environ is looked at first,
    # so the parsed (and named) sources are only walked when they could hold a NUL at all.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    if "\x00" in req.path:
        named = [name for name, value in (req.view_args or {}).items() if "\x00" in str(value)]
        return named[0] if named else "path"
    query = environ.get("QUERY_STRING", "")
    is_form = req.mimetype in _FORM_TYPES
    # A query string decodes to a NUL only from a raw NUL or %00 ("0" has no case).
    may_in_args = "\x00" in query or "%00" in query
    sources = ((req.args,) if may_in_args else ()) + ((req.form,) if is_form else ())
    for source in sources:
        for name, value in source.items(multi=True):
            if "\x00" in str(name or "") or "\x00" in str(value or ""):
                return name
    if is_form:
        for name in req.files:
            if "\x00" in str(name or ""):
                return name
    for key, value in environ.items():
        if (key.startswith("HTTP_") or key in _CONTENT_KEYS) and "\x00" in value:
            # Rare: name the header as request.headers spells it.
            for name, header in req.headers.items():
                if "\x00" in header:
                    return name
    if req.is_json:
        try:
            # Parsed here even without a NUL, so a body nested too deeply is a 400 for every route; the view reuses
            # the parsed body (Werkzeug keeps it).
            body = req.get_json(silent=True)
            if body is not None and _json_may_hold_nul(req.get_data(cache=True)):
                return _nul_in(body, "")
        except RecursionError:  # json.loads, and the walk above, give up on thousands of nested brackets
            raise BadInput("the JSON body is nested too deeply", None) from None
    return None


def guard_request() -> None:
    """Refuse hostile input before any view or query sees it, the same way for every page and API route.

    A NUL character anywhere (path, query string, form, JSON body, headers) is a 400 naming the field; an id
    in the path beyond the database's integer range names nothing, so it is a 404 naming the id.
    """
    field = _nul_field()
    if field is not None:
        field = field.replace("\x00", "\\0")  # a field name may be the hostile text itself
        raise BadInput(f"{field} must not contain NUL characters", field)
    view_args = request.view_args
    if view_args:
        for name, value in view_args.items():
            if isinstance(value, int) and not 0 < value <= MAX_ID:
                raise NotFound(f"{name.replace('_', ' ')} {value} does not exist", name)
