"""Idempotency keys: each user's own, tied to the request they came with, answered again unchanged, expiring."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Receipt, RequestKey, Role
from tests.helpers.api import TODAY, Api
from tests.helpers.bookings import refused, snapshot
from tests.helpers.databases import statements
from tests.helpers.pages import count, user


def _receipt(site: dict[str, Any], quantity: str = "5", lot_code: str | None = "R1") -> dict[str, Any]:
    """A receipt of one line; without a lot code each booking of it makes a new lot."""
    line = {"sku": "RASP", "quantity": quantity, "location": "COLD-01"}
    return {"supplier_id": site["supplier"], "reference": "DN-1",
            "lines": [{**line, "lot_code": lot_code} if lot_code else line]}


def _on_hand(api: Api, answer: Any) -> Decimal:
    return Decimal(api.get(f"/lots/{answer.json['lines'][0]['lot_id']}").json["on_hand"])


def _age(session: Session, hours: int) -> None:
    """Make every stored key `hours` older, as if it had been sent that long ago."""
    session.commit()
    for row in session.scalars(select(RequestKey)):
        row.created_at -= timedelta(hours=hours)
    session.commit()


def test_the_same_request_again_gets_the_first_answer_and_books_nothing(
        api: Api, site: dict[str, Any], session: Session) -> None:
    key = {"Idempotency-Key": "dock-1"}
    first = api.post("/receipts", _receipt(site), headers=key)
    assert first.status_code == 201, first.json
    after_first = snapshot(session)
    # The same body with its fields in another order is the same request.
    reordered = dict(reversed(list(_receipt(site).items())))
    for _ in range(2):
        again = api.post("/receipts", reordered, headers=key)
        assert (again.status_code, again.json) == (201, first.json)
    assert snapshot(session) == after_first
    assert _on_hand(api, first) == 5


def test_a_booking_with_a_key_locks_and_looks_the_key_up_once(app: Flask, api: Api, site: dict[str, Any]) -> None:
    """The key is checked once for the whole booking (the use case inside does not ask again), and the row it
    writes carries its answer from the start: one SELECT and one INSERT of request_key (and the purge, which on
    PostgreSQL is part of the INSERT's statement)."""
    engine = app.extensions["lotwise.engine"]
    api.post("/scans/parse", {"raw": "SUGAR"})  # the token's last use is noted now, not during the booking
    with statements(engine) as seen:
        first = api.post("/receipts", _receipt(site), headers={"Idempotency-Key": "dock-7"})
    assert first.status_code == 201, first.json
    flat = [" ".join(s.split()) for s in seen]
    keyed = [s.split()[0] for s in flat
             if re.match(r"(SELECT .* FROM|DELETE FROM|INSERT INTO|UPDATE|WITH \w+ AS \(DELETE FROM) request_key ", s)]
    if engine.dialect.name == "postgresql":  # the purge of expired keys rides along with the INSERT
        assert keyed == ["SELECT", "WITH"], keyed
        assert "INSERT INTO request_key" in next(s for s in flat if s.startswith("WITH purged"))
    else:
        assert keyed == ["SELECT", "DELETE", "INSERT"], keyed  # look up; purge expired keys; remember with the answer
    assert sum("pg_advisory_xact_lock" in s for s in flat) == (engine.dialect.name == "postgresql")
    again = api.post("/receipts", _receipt(site), headers={"Idempotency-Key": "dock-7"})
    assert (again.status_code, again.json) == (201, first.json)
    assert _on_hand(api, first) == 5


def test_a_replay_gets_the_answer_as_it_was_given_even_after_the_booking_changed(
        api: Api, site: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "order-1"}
    body = {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
            "lines": [{"sku": "JAM-RASP", "quantity": "3"}]}
    first = api.post("/orders", body, headers=key)
    assert first.status_code == 201 and first.json["status"] == "open", first.json
    assert api.post(f"/orders/{first.json['id']}/cancel").json["status"] == "cancelled"
    again = api.post("/orders", body, headers=key)
    assert (again.status_code, again.json) == (201, first.json)
    assert [o["number"] for o in api.get("/orders").json] == [first.json["number"]]


def test_the_same_key_with_another_body_is_refused_and_books_nothing(
        api: Api, site: dict[str, Any], session: Session) -> None:
    key = {"Idempotency-Key": "dock-2"}
    first = api.post("/receipts", _receipt(site, "5"), headers=key)
    assert first.status_code == 201, first.json
    before = snapshot(session)
    err = refused(api.post("/receipts", _receipt(site, "500"), headers=key), 422, "Idempotency-Key")
    assert err["message"] == ("this key was already used for a different request: it booked receipt R-000001; "
                              "send a new key for a new booking")
    assert snapshot(session) == before
    assert _on_hand(api, first) == 5
    # The first request can still be replayed with its key.
    assert api.post("/receipts", _receipt(site, "5"), headers=key).json == first.json


def test_another_users_request_with_the_same_key_books_on_its_own(
        api: Api, api_as: Any, site: dict[str, Any], session: Session) -> None:
    clerk = api_as(Role.OPERATOR)
    key = {"Idempotency-Key": "shared-key"}
    mine = api.post("/receipts", _receipt(site, "5", "R1"), headers=key)
    theirs = clerk.post("/receipts", _receipt(site, "500", "R2"), headers=key)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.json
    assert (mine.json["number"], theirs.json["number"]) == ("R-000001", "R-000002")
    assert (_on_hand(api, mine), _on_hand(api, theirs)) == (5, 500)
    # Each replay gets its own user's answer.
    assert clerk.post("/receipts", _receipt(site, "500", "R2"), headers=key).json == theirs.json
    assert api.post("/receipts", _receipt(site, "5", "R1"), headers=key).json == mine.json
    assert count(session, Receipt) == 2


def test_an_expired_key_books_anew_and_expired_keys_are_purged(
        api: Api, site: dict[str, Any], session: Session) -> None:
    body = _receipt(site, lot_code=None)
    first = api.post("/receipts", body, headers={"Idempotency-Key": "k-1"})
    assert api.post("/receipts", _receipt(site, lot_code="R2"), headers={"Idempotency-Key": "k-2"}).status_code == 201
    _age(session, 23)
    assert api.post("/receipts", body, headers={"Idempotency-Key": "k-1"}).json == first.json
    _age(session, 2)  # 25 hours: past the default 24
    again = api.post("/receipts", body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201, again.json
    assert again.json["number"] == "R-000003" and again.json["lines"][0]["lot_id"] != first.json["lines"][0]["lot_id"]
    # Writing the new key deleted the other expired one: the table keeps only live keys.
    session.commit()
    assert session.scalars(select(RequestKey.key)).all() == ["k-1"]


def test_how_long_a_key_is_kept_is_configured(app: Flask, api: Api, site: dict[str, Any], session: Session) -> None:
    app.config["IDEMPOTENCY_HOURS"] = 2
    key = {"Idempotency-Key": "k-short"}
    body = _receipt(site, lot_code=None)
    first = api.post("/receipts", body, headers=key)
    _age(session, 1)
    assert api.post("/receipts", body, headers=key).json == first.json
    _age(session, 2)
    assert api.post("/receipts", body, headers=key).json["number"] == "R-000002"


def test_a_page_form_sent_twice_books_once_and_sent_with_other_values_is_refused(
        client: FlaskClient, session: Session, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    page = clerk.get("/receipts/new")
    form = {**page.form_with("supplier_id").fields, "supplier_id": str(site["supplier"]),
            "lines.0.sku": "RASP", "lines.0.quantity": "12", "lines.0.location": "COLD-01"}
    first = clerk.post("/receipts/new", form)
    again = clerk.post("/receipts/new", form)
    assert first.status == again.status == 302
    assert first.location == again.location
    assert count(session, Receipt) == 1
    before = snapshot(session)
    changed = clerk.post("/receipts/new", {**form, "lines.0.quantity": "120"})
    assert changed.status == 422
    assert changed.alerts == ["Nothing was saved. This form was already sent with other values and booked "
                              "receipt R-000001; send it again to book these values as well"]
    assert changed.value("lines.0.quantity") == "120"
    assert snapshot(session) == before
    # The form shown again carries a new key: sending it books what it says, once.
    resent = clerk.submit(changed, {}, key="supplier_id")
    assert resent.flashes and "R-000002" in resent.flashes[0], resent.alerts
    session.commit()
    assert session.scalars(select(Receipt.number).order_by(Receipt.id)).all() == ["R-000001", "R-000002"]
