"""Write-off use cases: take part or all of a lot out of stock as waste, one lot or all expired stock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocation.usability import is_expired
from app.errors import Conflict, InsufficientStock, Invalid
from app.models import Balance, Location, Lot, MovementKind, User, WriteOff, WriteOffBatch, WriteOffReason
from app.queries.expiry import expired_stock, still_current
from app.rules.gate import Purpose
from app.schemas import ExpiredWriteOffIn, WriteOffIn
from app.services.base import (
    book,
    document_number,
    on_hand_at,
    positive,
    transactional,
)
from app.services.gate import Takings
from app.services.idempotency import IdempotencyKey, remember, remembered
from app.services.lookups import location_by_code, lot_by_ref
from app.services.stock import not_in_future

_PLACES = Decimal("0.000001")


def _where_it_is(session: Session, lot: Lot) -> str:
    codes = session.scalars(
        select(Location.code).join(Balance, Balance.location_id == Location.id)
        .where(Balance.lot_id == lot.id, Balance.on_hand > 0).order_by(Location.code)
    ).all()
    return ", ".join(codes) if codes else "nowhere (none on hand)"


def _record(session: Session, *, lot: Lot, location: Location, quantity: Decimal, reason: WriteOffReason,
            note: str | None, on: date, user: User | None, batch: WriteOffBatch | None,
            request_key: IdempotencyKey | None, field: str) -> WriteOff:
    doc = WriteOff(number=document_number(session, "W"), lot_id=lot.id, location_id=location.id,
                   quantity=quantity, reason=reason, note=note, written_off_on=on, unit_cost=lot.unit_cost,
                   value=(quantity * lot.unit_cost).quantize(_PLACES), batch_id=batch.id if batch else None,
                   user_id=user.id if user else None)
    session.add(doc)
    session.flush()
    book(session, lot=lot, location=location, quantity=-quantity, kind=MovementKind.WRITE_OFF,
         ref_type="write_off", ref_id=doc.id, booked_on=on, user=user,
         reason=f"{reason.value}: {note}" if note else reason.value, request_key=request_key, field=field)
    return doc


@transactional
def write_off(session: Session, cmd: WriteOffIn, *, user: User | None, today: date,
              request_key: IdempotencyKey | None = None) -> WriteOff:
    """Write off part or all of a lot at one location, valued at the lot's unit cost."""
    if (earlier := remembered(session, request_key, "write_off", user)) is not None:
        return session.get_one(WriteOff, earlier)
    lot = lot_by_ref(session, cmd)
    location = location_by_code(session, cmd.location)
    quantity = positive(cmd.quantity, "quantity")
    on = not_in_future(cmd.written_off_on or today, today, "written_off_on")
    on_hand = on_hand_at(session, lot.id, location.id) or Decimal(0)
    unit = lot.product.unit
    if on_hand <= 0:
        raise Conflict(f"lot {lot.code} of {lot.product.sku} has none on hand at {location.code}; "
                       f"it is at {_where_it_is(session, lot)}", "location")
    if quantity > on_hand:
        raise InsufficientStock(f"lot {lot.code} has {on_hand.normalize():f} {unit} at {location.code}; "
                                f"{quantity.normalize():f} {unit} cannot be written off", "quantity")
    if cmd.reason is WriteOffReason.EXPIRED and not is_expired(lot.expiry, on):
        expires = f"expires on {lot.expiry}" if lot.expiry else "has no expiry date"
        raise Invalid(f"lot {lot.code} {expires}; it is not expired on {on} — choose another reason", "reason")
    takings = Takings(session, Purpose.WRITE_OFF, on=on, take_allocated=cmd.take_allocated,
                      label=f"a write-off of lot {lot.code}")
    takings.check(lot, location, quantity)
    doc = _record(session, lot=lot, location=location, quantity=quantity, reason=cmd.reason, note=cmd.note,
                  on=on, user=user, batch=None, request_key=request_key, field="quantity")
    setattr(doc, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "write_off", doc.id, user)
    return doc


@transactional
def write_off_expired(session: Session, cmd: ExpiredWriteOffIn, *, user: User | None, today: date,
                      request_key: IdempotencyKey | None = None) -> WriteOffBatch:
    """Write off the confirmed rows of today's expired-stock preview, if nothing changed since it was shown.

    The preview is worked out again inside this transaction; a different version means stock
    moved, was added or expired in between, and nothing is written off unseen.
    """
    if (earlier := remembered(session, request_key, "write_off_batch", user)) is not None:
        return session.get_one(WriteOffBatch, earlier)
    preview = expired_stock(session, today=today)
    if not still_current(session, cmd.version, preview):
        raise Conflict("the expired stock changed since the preview was shown; nothing was written off — "
                       "look at the new preview and confirm again", "version")
    shown = {(r.lot_id, r.location_id): r for r in preview.rows}
    seen: set[tuple[int, int]] = set()
    for i, row in enumerate(cmd.rows):
        key = (row.lot_id, row.location_id)
        if key in seen:
            raise Invalid(f"lot {row.lot_id} at location {row.location_id} is listed twice", f"rows.{i}")
        seen.add(key)
        current = shown.get(key)
        if current is None:
            raise Invalid(f"lot {row.lot_id} at location {row.location_id} is not in the preview of expired "
                          "stock", f"rows.{i}")
        if row.quantity != current.on_hand:
            raise Conflict(f"lot {current.lot_code} at {current.location} has {current.on_hand.normalize():f} "
                           f"{current.unit}, not {row.quantity.normalize():f}", f"rows.{i}.quantity")
    batch = WriteOffBatch(number=document_number(session, "WB"), written_off_on=today, preview_version=cmd.version,
                          note=cmd.note, user_id=user.id if user else None)
    session.add(batch)
    session.flush()
    takings = Takings(session, Purpose.WRITE_OFF, on=today, take_allocated=cmd.take_allocated,
                      label=f"write-off {batch.number} of expired stock")
    for i, row in enumerate(cmd.rows):
        lot = session.get_one(Lot, row.lot_id)
        location = session.get_one(Location, row.location_id)
        takings.check(lot, location, row.quantity, prefix=f"rows.{i}.")
        _record(session, lot=lot, location=location, quantity=row.quantity, reason=WriteOffReason.EXPIRED,
                note=cmd.note, on=today, user=user, batch=batch, request_key=request_key,
                field=f"rows.{i}.quantity")
    setattr(batch, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "write_off_batch", batch.id, user)
    session.flush()
    return batch
