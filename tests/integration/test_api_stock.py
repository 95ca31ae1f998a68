"""Transfers, adjustments and customer returns through the API: refusals and what they book."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused, snapshot


@pytest.fixture
def shipped(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """Jam lot J1: 100 received into COLD-01, 30 shipped to Corner Deli."""
    j1 = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "30"}]}).json
    r = api.post("/shipments", {"order_id": order["id"], "lines": [
        {"lot_id": j1, "location": "COLD-01", "quantity": "30"}]})
    assert r.status_code == 201, r.json
    return {**site, "J1": j1}


def _transfer(s: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"lot_id": s["J1"], "from_location": "COLD-01", "to_location": "DRY-01", "quantity": "10", **kw}


def _adjust(s: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"lot_id": s["J1"], "location": "COLD-01", "quantity": "-2", "reason": "count short", **kw}


def _return(s: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"customer_id": s["deli"], "lot_id": s["J1"], "quantity": "5", "reason": "dented lids", **kw}


FUTURE = (TODAY + timedelta(days=1)).isoformat()
BAD: list[tuple[str, str, Any, int, str | None, str]] = [
    ("transfer unknown lot", "/transfers", lambda s: _transfer(s, lot_id=999_999), 404, "lot_id", "not_found"),
    ("transfer unknown source", "/transfers", lambda s: _transfer(s, from_location="X"), 404, "from_location",
     "not_found"),
    ("transfer unknown target", "/transfers", lambda s: _transfer(s, to_location="X"), 404, "to_location",
     "not_found"),
    ("transfer to itself", "/transfers", lambda s: _transfer(s, to_location="COLD-01"), 422, "to_location",
     "invalid"),
    ("transfer zero", "/transfers", lambda s: _transfer(s, quantity="0"), 422, "quantity", "invalid"),
    ("transfer negative", "/transfers", lambda s: _transfer(s, quantity="-10"), 422, "quantity", "invalid"),
    ("transfer more than on hand", "/transfers", lambda s: _transfer(s, quantity="70.000001"), 409, "quantity",
     "insufficient_stock"),
    ("transfer from where it is not", "/transfers", lambda s: _transfer(s, from_location="DRY-01",
                                                                         to_location="COLD-01"),
     409, "quantity", "insufficient_stock"),
    ("transfer future date", "/transfers", lambda s: _transfer(s, moved_on=FUTURE), 422, "moved_on", "invalid"),
    ("transfer impossible date", "/transfers", lambda s: _transfer(s, moved_on="2026-02-30"), 422, "moved_on",
     "invalid"),
    ("adjust unknown location", "/adjustments", lambda s: _adjust(s, location="X"), 404, "location", "not_found"),
    ("adjust zero", "/adjustments", lambda s: _adjust(s, quantity="0"), 422, "quantity", "invalid"),
    ("adjust below zero", "/adjustments", lambda s: _adjust(s, quantity="-70.5"), 409, "quantity",
     "insufficient_stock"),
    ("adjust without reason", "/adjustments", lambda s: {k: v for k, v in _adjust(s).items() if k != "reason"},
     422, "reason", "invalid"),
    ("adjust blank reason", "/adjustments", lambda s: _adjust(s, reason="   "), 422, "reason", "invalid"),
    ("adjust future date", "/adjustments", lambda s: _adjust(s, adjusted_on=FUTURE), 422, "adjusted_on",
     "invalid"),
    ("adjust quantity not a number", "/adjustments", lambda s: _adjust(s, quantity="1,5"), 422, "quantity",
     "invalid"),
    ("return unknown customer", "/returns", lambda s: _return(s, customer_id=999_999), 404, "customer_id",
     "not_found"),
    ("return unknown lot", "/returns", lambda s: _return(s, lot_id=999_999), 404, "lot_id", "not_found"),
    ("return more than shipped", "/returns", lambda s: _return(s, quantity="31"), 409, "quantity", "conflict"),
    ("return from a customer who got none", "/returns", lambda s: _return(s, customer_id=s["bigbox"]), 409,
     "quantity", "conflict"),
    ("return zero", "/returns", lambda s: _return(s, quantity="0"), 422, "quantity", "invalid"),
    ("return without reason", "/returns", lambda s: _return(s, reason=""), 422, "reason", "invalid"),
    ("return unknown location", "/returns", lambda s: _return(s, location="X"), 404, "location", "not_found"),
    ("return future date", "/returns", lambda s: _return(s, returned_on=FUTURE), 422, "returned_on", "invalid"),
    ("return lot named by nothing", "/returns", lambda s: {"customer_id": s["deli"], "quantity": "1",
                                                           "reason": "x"}, 422, None, "invalid"),
]


@pytest.mark.parametrize(("path", "body", "status", "field", "code"), [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_a_bad_stock_booking_is_refused_naming_the_field_and_writes_nothing(
        api: Api, shipped: dict[str, Any], session: Session, path: str, body: Any, status: int,
        field: str | None, code: str) -> None:
    before = snapshot(session)
    refused(api.post(path, body(shipped)), status, field, code)
    assert snapshot(session) == before


def test_a_transfer_moves_stock_between_warehouses(api: Api, shipped: dict[str, Any]) -> None:
    assert api.post("/warehouses", {"code": "WEST", "name": "West depot"}).status_code == 201
    assert api.post("/locations", {"code": "W-01", "name": "West 1", "warehouse": "WEST"}).status_code == 201
    r = api.post("/transfers", _transfer(shipped, to_location="W-01", quantity="25"))
    assert r.status_code == 201, r.json
    assert (r.json["number"], r.json["from_location"], r.json["to_location"], r.json["quantity"]) == (
        "T-000001", "COLD-01", "W-01", "25")
    assert api.get(f"/transfers/{r.json['id']}").json == r.json
    lot = api.get(f"/lots/{shipped['J1']}").json
    assert [(s["warehouse"], s["location"], s["on_hand"]) for s in lot["stock"]] == [
        ("MAIN", "COLD-01", "45"), ("WEST", "W-01", "25")]
    assert lot["on_hand"] == "70"


def test_a_whole_lot_can_be_transferred_and_the_empty_location_drops_out(
        api: Api, shipped: dict[str, Any]) -> None:
    assert api.post("/transfers", _transfer(shipped, quantity="70")).status_code == 201
    lot = api.get(f"/lots/{shipped['J1']}").json
    assert [(s["location"], s["on_hand"]) for s in lot["stock"]] == [("DRY-01", "70")]


def test_adjustments_go_both_ways_with_their_reason(api: Api, shipped: dict[str, Any]) -> None:
    down = api.post("/adjustments", _adjust(shipped))
    assert down.status_code == 201, down.json
    assert (down.json["quantity"], down.json["reason"]) == ("-2", "count short")
    up = api.post("/adjustments", _adjust(shipped, quantity="0.5", reason="found behind pallet",
                                          location="DRY-01"))
    assert up.status_code == 201, up.json
    lot = api.get(f"/lots/{shipped['J1']}").json
    assert [(s["location"], s["on_hand"]) for s in lot["stock"]] == [("COLD-01", "68"), ("DRY-01", "0.5")]
    assert [(m["kind"], m["quantity"], m["reason"]) for m in lot["history"] if m["kind"] == "adjust"] == [
        ("adjust", "-2", "count short"), ("adjust", "0.5", "found behind pallet")]
    assert [a["number"] for a in api.get("/adjustments").json] == ["A-000002", "A-000001"]


def test_a_return_goes_to_quarantine_and_counts_against_what_was_shipped(
        api: Api, shipped: dict[str, Any], session: Session) -> None:
    r = api.post("/returns", _return(shipped, quantity="20"))
    assert r.status_code == 201, r.json
    assert (r.json["location"], r.json["customer_name"], r.json["quantity"]) == ("QUAR", "Corner Deli", "20")
    assert api.get(f"/returns/{r.json['id']}").json == r.json
    before = snapshot(session)
    err = refused(api.post("/returns", _return(shipped, quantity="11")), 409, "quantity")
    assert "returned 20" in err["message"]
    assert snapshot(session) == before
    assert api.post("/returns", _return(shipped, quantity="10", location="DRY-01")).status_code == 201
    lot = api.get(f"/lots/{shipped['J1']}").json
    assert [(s["location"], s["location_kind"], s["on_hand"]) for s in lot["stock"]] == [
        ("COLD-01", "storage", "70"), ("DRY-01", "storage", "10"), ("QUAR", "quarantine", "20")]


def test_a_return_without_a_quarantine_location_must_name_one(api: Api, shipped: dict[str, Any],
                                                              session: Session) -> None:
    quar = next(x for x in api.get("/locations?kind=quarantine").json)
    assert api.patch(f"/locations/{quar['id']}", {"active": False}).json["active"] is False
    before = snapshot(session)
    refused(api.post("/returns", _return(shipped)), 422, "location")
    refused(api.post("/returns", _return(shipped, location="QUAR")), 422, "location")
    assert snapshot(session) == before


def test_nothing_happens_to_a_lot_before_it_was_received(api: Api, site: dict[str, Any],
                                                         session: Session) -> None:
    received = TODAY - timedelta(days=5)
    lot = receive(api, site["supplier"], "RASP", "10", lot_code="R1", received_on=received.isoformat())["lot_id"]
    before = snapshot(session)
    earlier = (received - timedelta(days=1)).isoformat()
    err = refused(api.post("/transfers", {"lot_id": lot, "from_location": "COLD-01", "to_location": "DRY-01",
                                          "quantity": "1", "moved_on": earlier}), 422, "moved_on")
    assert received.isoformat() in err["message"]
    refused(api.post("/adjustments", {"lot_id": lot, "location": "COLD-01", "quantity": "-1", "reason": "x",
                                      "adjusted_on": earlier}), 422, "adjusted_on")
    assert snapshot(session) == before
    r = api.post("/transfers", {"lot_id": lot, "from_location": "COLD-01", "to_location": "DRY-01",
                                "quantity": "1", "moved_on": received.isoformat()})
    assert r.status_code == 201, r.json


def test_a_location_holding_stock_cannot_be_deactivated(api: Api, shipped: dict[str, Any],
                                                        session: Session) -> None:
    cold = next(x for x in api.get("/locations").json if x["code"] == "COLD-01")
    before = snapshot(session)
    err = refused(api.patch(f"/locations/{cold['id']}", {"active": False}), 409, "active")
    assert "COLD-01" in err["message"]
    assert snapshot(session) == before
    assert api.post("/transfers", _transfer(shipped, quantity="70")).status_code == 201
    assert api.patch(f"/locations/{cold['id']}", {"active": False}).json["active"] is False
