"""Idempotency keys of bookings, as payment APIs keep them.

A key belongs to the user who sent it, so two users never block or see each other's bookings. It
remembers a fingerprint of the request it came with: the same request again gets the first answer
and books nothing; another request with the same key is refused (422) and books nothing. Keys are
forgotten after the configured lifetime (`LOTWISE_IDEMPOTENCY_HOURS`), and forgotten rows are
purged a batch at a time whenever a new key is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Row, Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import (
    Adjustment,
    CustomerReturn,
    LabelPrintJob,
    Order,
    OrderAllocation,
    ProductionRun,
    Receipt,
    RequestKey,
    Shipment,
    Transfer,
    User,
    WriteOff,
    WriteOffBatch,
)
from app.services.base import unit

HEADER = "Idempotency-Key"
FORM_FIELD = "request_key"
# Expired keys deleted per new key: enough to keep up with any booking rate, small enough to be cheap.
PURGE_BATCH = 100

_BOOKED: dict[str, type[Any]] = {
    "receipt": Receipt, "production_run": ProductionRun, "order": Order, "shipment": Shipment,
    "transfer": Transfer, "adjustment": Adjustment, "return": CustomerReturn, "write_off": WriteOff,
    "write_off_batch": WriteOffBatch, "label_print": LabelPrintJob, "pick": OrderAllocation,
}


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one booking, with the fingerprint of the request that carried it."""

    key: str
    fingerprint: str
    at: datetime
    """When the request arrived (aware UTC)."""
    lifetime: timedelta
    """How long a key is remembered; an older one counts as never used."""
    field: str = HEADER
    """Where the key came from: the API's header or a page form's hidden field."""

    @property
    def cutoff(self) -> datetime:
        return self.at - self.lifetime


@dataclass(frozen=True)
class Answer:
    """What the API answered to a booking: given again, unchanged, to every replay."""

    status: int
    document: Any


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the request's canonical form: method, path and the JSON body with sorted keys.

    Re-serialising makes key order and white space irrelevant; any change of a value is a new request.
    """
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def form_fingerprint(method: str, path: str, fields: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of a page form: its submitted fields, in any order, without the key itself."""
    return fingerprint(method, path, sorted([name, value] for name, value in fields if name != FORM_FIELD))


def _lock(session: Session, key: IdempotencyKey, user: User | None) -> None:
    """On PostgreSQL, wait until a booking with the same user and key has ended.

    A replay arriving while the first request is still booking then finds what it booked; SQLite
    already runs one booking at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        scoped = f"{user.id if user else ''}:{key.key}"
        lock_id = int.from_bytes(hashlib.sha256(scoped.encode()).digest()[:8], "big", signed=True)
        session.execute(_LOCK, {"lock_id": lock_id})


KeyRow = Row[*tuple[Any, ...]]
"""A key's row as `_found` reads it: id, fingerprint, kind, ref_id, status, answer, created_at."""


def _found(session: Session, key: IdempotencyKey, user: User | None) -> KeyRow | None:
    """The columns of this user's row for the key, if any: read as plain columns, without loading a RequestKey (most
    keys are new, and every booking asks)."""
    if user is None:  # user_id IS NULL, which a bound parameter cannot say
        return session.execute(_FOUND.where(_KEYS.c.user_id.is_(None), _KEYS.c.key == key.key)).first()
    return session.execute(_FOUND_OF_USER, {"user_id": user.id, "key": key.key}).first()


def _row(session: Session, key: IdempotencyKey, user: User | None) -> RequestKey | None:
    if user is None:  # user_id IS NULL, which a bound parameter cannot say
        return session.scalar(select(RequestKey).where(RequestKey.user_id.is_(None), RequestKey.key == key.key))
    return session.scalar(_ROW, {"user_id": user.id, "key": key.key})


# The statements of every booking with a key, built once.
_KEYS = cast(Table, RequestKey.__table__)
_LOCK = select(func.pg_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)))
_ROW = select(RequestKey).where(RequestKey.user_id == bindparam("user_id"), RequestKey.key == bindparam("key"))
_FOUND = select(_KEYS.c.id, _KEYS.c.fingerprint, _KEYS.c.kind, _KEYS.c.ref_id, _KEYS.c.status, _KEYS.c.answer,
                _KEYS.c.created_at)
_FOUND_OF_USER = _FOUND.where(_KEYS.c.user_id == bindparam("user_id"), _KEYS.c.key == bindparam("key"))
_FORGET = delete(_KEYS).where(_KEYS.c.id == bindparam("id"))
_COLUMNS = ("user_id", "key", "fingerprint", "kind", "ref_id", "status", "answer", "created_at")
_EXPIRED = (select(_KEYS.c.id).where(_KEYS.c.created_at < bindparam("cutoff")).order_by(_KEYS.c.created_at)
            .limit(PURGE_BATCH).with_for_update(skip_locked=True))
_WRITE = insert(_KEYS).values({name: bindparam(name) for name in _COLUMNS})
# On PostgreSQL the purge (as `purge` does it) rides along with the key's INSERT: one round trip for both.
_PURGE_AND_WRITE = _WRITE.add_cte(delete(_KEYS).where(_KEYS.c.id.in_(_EXPIRED)).cte("purged"))


def booked(session: Session, kind: str, ref_id: int) -> str:
    """What a key booked, in words: "receipt R-000001"."""
    thing = session.get(_BOOKED[kind], ref_id) if kind in _BOOKED else None
    if isinstance(thing, OrderAllocation):
        return f"a pick of lot {thing.lot.code} for order {thing.order_line.order.number}"
    number = getattr(thing, "number", None)
    return f"{kind.replace('_', ' ')} {number or ref_id}"


# Set by `answer_once` while its booking runs, for the key it has locked and found unused, so the booking's own check
# (`remembered`) does not lock and look again, and what `remember` would write waits for the answer: the key's row is
# then written once, answer included, instead of inserted and updated.
_CHECKED = "lotwise.idempotency.checked"
_PENDING = "lotwise.idempotency.pending"


def _checked(session: Session, key: IdempotencyKey, user: User | None) -> bool:
    checked = session.info.get(_CHECKED)
    return checked is not None and checked[0] is key and checked[1] == (user.id if user else None)


def _earlier(session: Session, key: IdempotencyKey, user: User | None, kind: str | None) -> KeyRow | None:
    """This user's live row for the key, if any; a 422 when it was used for another request."""
    if _checked(session, key, user):
        return None  # locked and looked up in this transaction already: nobody else can have used it since
    _lock(session, key, user)
    row = _found(session, key, user)
    if row is None:
        return None
    if row.created_at < key.cutoff:
        session.execute(_FORGET, {"id": row.id})
        return None
    if row.fingerprint != key.fingerprint or (kind is not None and row.kind != kind):
        what = booked(session, row.kind, row.ref_id)
        if key.field == HEADER:
            raise Invalid(f"this key was already used for a different request: it booked {what}; "
                          f"send a new key for a new booking", key.field)
        raise Invalid(f"this form was already sent with other values and booked {what}; "
                      f"send it again to book these values as well", key.field)
    return row


def remembered(session: Session, key: IdempotencyKey | None, kind: str, user: User | None) -> int | None:
    """The id of what an earlier request of this user with the same key and body booked, if any."""
    if key is None:
        return None
    row = _earlier(session, key, user, kind)
    return row.ref_id if row is not None else None


def remember(session: Session, key: IdempotencyKey | None, kind: str, ref_id: int, user: User | None) -> None:
    """Record that this user's key booked `ref_id`, in the booking's own transaction."""
    if key is None:
        return
    if _checked(session, key, user) and _PENDING not in session.info:
        # `answer_once` writes the row with the answer when the booking returns, in the same transaction.
        session.info[_PENDING] = {"user_id": user.id if user else None, "key": key.key,
                                  "fingerprint": key.fingerprint, "kind": kind, "ref_id": ref_id, "created_at": key.at}
        return
    purge(session, key.cutoff)
    session.add(RequestKey(user_id=user.id if user else None, key=key.key, fingerprint=key.fingerprint, kind=kind,
                           ref_id=ref_id, created_at=key.at))
    session.flush()


def purge(session: Session, before: datetime, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` keys written before `before`; concurrent purges skip each other's rows.

    The oldest first, in the order of the index on `created_at`: found by that index alone, however many live keys
    there are (in id order PostgreSQL walked every key to find none expired, the table's size on every booking).
    """
    old = (select(RequestKey.id).where(RequestKey.created_at < before).order_by(RequestKey.created_at).limit(limit)
           .with_for_update(skip_locked=True))
    result = session.execute(delete(RequestKey).where(RequestKey.id.in_(old))
                             .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def answer_once(session: Session, key: IdempotencyKey, user: User | None, status: int,
                booking: Callable[[], Any]) -> Answer:
    """Run an API booking at most once per user and key, in one transaction with its answer.

    A replay gets the stored answer without booking again; the first request runs `booking` (a use
    case, which joins this transaction and remembers the key) and its JSON document is stored with
    the key, so the booking and the answer to give again are committed together or not at all.
    """
    with unit(session):
        row = _earlier(session, key, user, None)
        if row is not None and row.status is not None:
            return Answer(row.status, row.answer)
        if row is None:
            # The key is locked until this transaction ends and nobody has used it: the booking need not ask again.
            session.info[_CHECKED] = (key, user.id if user else None)
        try:
            document = booking()
            pending = session.info.pop(_PENDING, None)
        finally:
            session.info.pop(_CHECKED, None)
            session.info.pop(_PENDING, None)
        if pending is not None:
            values = {**pending, "status": status, "answer": document}
            if session.get_bind().dialect.name == "postgresql":
                session.execute(_PURGE_AND_WRITE, {**values, "cutoff": key.cutoff})
            else:
                purge(session, key.cutoff)
                session.execute(_WRITE, values)
            return Answer(status, document)
        kept = _row(session, key, user)
        if kept is None:
            raise RuntimeError(f"the booking did not remember its {key.field}")
        kept.status, kept.answer = status, document
        session.flush()
    return Answer(status, document)
