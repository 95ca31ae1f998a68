"""Booking through the API in a test, and checking that a refused booking named its field and wrote nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app import clock
from app.db import Base
from app.models import LotStatus
from app.services.idempotency import IdempotencyKey
from tests.helpers.api import TODAY, Api

__all__ = ["TODAY", "receive", "refused", "request_key", "set_status", "snapshot"]

# Counters are left out: on PostgreSQL a number drawn by a booking that is then refused is not handed out again
# (see services.base.next_number), so the counter may move while nothing is booked.
_NOT_BOOKINGS = {"user_account", "api_token", "web_session", "sign_in_throttle", "alembic_version", "counter"}


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed row of every business table: lots, documents, movements, balances."""
    with session.get_bind().connect() as conn:
        present = set(inspect(conn).get_table_names())
        tables = [t for t in Base.metadata.sorted_tables if t.name in present - _NOT_BOOKINGS]
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in tables}


def request_key(key: str, fingerprint: str = "one request", hours: int = 24) -> IdempotencyKey:
    """An idempotency key as a page or the API hands it to a service, sent now."""
    return IdempotencyKey(key=key, fingerprint=fingerprint, at=clock.now(), lifetime=timedelta(hours=hours))


def receive(api: Api, supplier_id: int, sku: str, quantity: str, location: str = "COLD-01",
            **line: Any) -> dict[str, Any]:
    """Receive one line (`received_on` dates the receipt) and return the receipt line, with its lot_id."""
    body: dict[str, Any] = {"supplier_id": supplier_id}
    if "received_on" in line:
        body["received_on"] = line.pop("received_on")
    body["lines"] = [{"sku": sku, "quantity": quantity, "location": location, **line}]
    r = api.post("/receipts", body)
    assert r.status_code == 201, r.json
    return r.json["lines"][0]  # type: ignore[no-any-return]


def refused(r: Any, status: int, field: str | None, code: str | None = None) -> dict[str, Any]:
    """Assert an API error with this status and field (and code); return the error."""
    assert r.status_code == status, (r.status_code, r.json)
    err = r.json["error"]
    assert err["field"] == field, err
    assert err["message"]
    if code is not None:
        assert err["code"] == code, err
    return err  # type: ignore[no-any-return]


def set_status(session: Session, lot_id: int, status: LotStatus) -> None:
    """Put a lot in a state directly in the database (as a recall would)."""
    from app.models import Lot

    lot = session.get_one(Lot, lot_id)
    lot.status = status
    lot.hold_reason = "test" if status is LotStatus.HOLD else None
    session.commit()
