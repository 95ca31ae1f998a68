"""Receiving through the API: every refusal names its field and writes nothing; top-ups; replays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models import Role
from app.queries.check import check_ledger
from tests.helpers.api import TODAY, Api, make_token
from tests.helpers.bookings import receive, refused, snapshot


def _line(**kw: Any) -> dict[str, Any]:
    return {"sku": "RASP", "quantity": "10", "location": "COLD-01", **kw}


def _body(site: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"supplier_id": site["supplier"], "lines": [_line()], **kw}


BAD_RECEIPTS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("unknown sku", {"lines": [_line(sku="NOPE")]}, 404, "lines.0.sku"),
    ("unknown location", {"lines": [_line(location="NOWHERE")]}, 404, "lines.0.location"),
    ("unknown supplier", {"supplier_id": 999_999}, 404, "supplier_id"),
    ("impossible date", {"received_on": "2026-02-30"}, 422, "received_on"),
    ("date in words", {"received_on": "yesterday"}, 422, "received_on"),
    ("future date", {"received_on": (TODAY + timedelta(days=1)).isoformat()}, 422, "received_on"),
    ("impossible expiry", {"lines": [_line(expiry="2027-13-01")]}, 422, "lines.0.expiry"),
    ("expiry before receipt", {"lines": [_line(expiry=(TODAY - timedelta(days=1)).isoformat())]}, 422,
     "lines.0.expiry"),
    ("zero quantity", {"lines": [_line(quantity="0")]}, 422, "lines.0.quantity"),
    ("negative quantity", {"lines": [_line(quantity="-5")]}, 422, "lines.0.quantity"),
    ("quantity not a number", {"lines": [_line(quantity="abc")]}, 422, "lines.0.quantity"),
    ("quantity NaN", {"lines": [_line(quantity="NaN")]}, 422, "lines.0.quantity"),
    ("quantity infinite", {"lines": [_line(quantity="Infinity")]}, 422, "lines.0.quantity"),
    ("too many decimals", {"lines": [_line(quantity="1.0000001")]}, 422, "lines.0.quantity"),
    ("negative unit cost", {"lines": [_line(unit_cost="-1")]}, 422, "lines.0.unit_cost"),
    ("no lines", {"lines": []}, 422, "lines"),
    ("unknown field", {"colour": "red"}, 422, "colour"),
    ("unknown line field", {"lines": [_line(colour="red")]}, 422, "lines.0.colour"),
    ("top up of a lot that does not exist", {"lines": [_line(lot_code="GHOST", top_up=True)]}, 404,
     "lines.0.lot_code"),
    ("top up without a lot code", {"lines": [_line(top_up=True)]}, 422, "lines.0.lot_code"),
    ("supplier id not a number", {"supplier_id": "berry"}, 422, "supplier_id"),
    ("supplier id true", {"supplier_id": True}, 422, "supplier_id"),
    ("supplier id beyond any id", {"supplier_id": 10**20}, 422, "supplier_id"),
    ("date as a number", {"received_on": 0}, 422, "received_on"),
    ("expiry as a number", {"lines": [_line(expiry=20270101)]}, 422, "lines.0.expiry"),
    ("date with a time", {"received_on": f"{TODAY.isoformat()}T10:30:00"}, 422, "received_on"),
    ("NUL in a reference", {"reference": "DN\u0000-1"}, 400, "reference"),
    ("NUL in a lot code", {"lines": [_line(lot_code="R\u00001")]}, 400, "lines.0.lot_code"),
]


@pytest.mark.parametrize(("change", "status", "field"), [c[1:] for c in BAD_RECEIPTS],
                         ids=[c[0] for c in BAD_RECEIPTS])
def test_a_bad_receipt_is_refused_naming_the_field_and_writes_nothing(
        api: Api, site: dict[str, Any], session: Session, change: dict[str, Any], status: int,
        field: str) -> None:
    before = snapshot(session)
    refused(api.post("/receipts", _body(site, **change)), status, field)
    assert snapshot(session) == before


def test_a_body_that_is_not_json_is_refused(api: Api, site: dict[str, Any], session: Session) -> None:
    before = snapshot(session)
    for data, content_type in [("supplier_id=1", "application/x-www-form-urlencoded"),
                               ("{not json", "application/json"), ("[1, 2]", "application/json"),
                               ("", "application/json")]:
        r = api.client.post("/api/v1/receipts", data=data, content_type=content_type, headers=api.headers)
        refused(r, 422, None, "invalid")
    assert snapshot(session) == before


def test_an_existing_lot_code_needs_top_up(api: Api, site: dict[str, Any], session: Session) -> None:
    receive(api, site["supplier"], "RASP", "10", lot_code="R1")
    before = snapshot(session)
    err = refused(api.post("/receipts", _body(site, lines=[_line(lot_code="R1")])), 409, "lines.0.lot_code")
    assert "top up" in err["message"]
    assert snapshot(session) == before


def test_top_up_adds_to_the_lot_and_averages_its_cost(api: Api, site: dict[str, Any]) -> None:
    first = receive(api, site["supplier"], "RASP", "100", lot_code="R1", unit_cost="4.00",
                    supplier_lot_code="RB-1", expiry=(TODAY + timedelta(days=60)).isoformat())
    again = receive(api, site["supplier"], "RASP", "50", location="DRY-01", lot_code="R1", top_up=True,
                    unit_cost="5.50")
    assert again["lot_id"] == first["lot_id"]
    lot = api.get(f"/lots/{first['lot_id']}").json
    assert Decimal(lot["on_hand"]) == 150
    assert {s["location"]: Decimal(s["on_hand"]) for s in lot["stock"]} == {"COLD-01": 100, "DRY-01": 50}
    # (100 × 4.00 + 50 × 5.50) / 150 = 675 / 150 = 4.50
    assert Decimal(lot["unit_cost"]) == Decimal("4.5")
    assert lot["supplier_lot_code"] == "RB-1"
    assert [m["kind"] for m in lot["history"]] == ["receive", "receive"]
    assert len(api.get("/lots?sku=RASP").json) == 1


def test_top_up_without_a_price_keeps_the_lot_cost(api: Api, site: dict[str, Any]) -> None:
    first = receive(api, site["supplier"], "RASP", "100", lot_code="R1", unit_cost="4.00")
    receive(api, site["supplier"], "RASP", "100", lot_code="R1", top_up=True)
    assert Decimal(api.get(f"/lots/{first['lot_id']}").json["unit_cost"]) == Decimal("4")


def test_top_up_refuses_a_lot_that_disagrees(api: Api, site: dict[str, Any], session: Session) -> None:
    expiry = (TODAY + timedelta(days=60)).isoformat()
    receive(api, site["supplier"], "RASP", "10", lot_code="R1", supplier_lot_code="RB-1", expiry=expiry)
    before = snapshot(session)
    other_supplier = {"supplier_id": site["sugar_supplier"], "lines": [_line(lot_code="R1", top_up=True)]}
    refused(api.post("/receipts", other_supplier), 409, "lines.0.lot_code")
    other_expiry = _body(site, lines=[_line(lot_code="R1", top_up=True,
                                            expiry=(TODAY + timedelta(days=61)).isoformat())])
    refused(api.post("/receipts", other_expiry), 409, "lines.0.expiry")
    other_supplier_lot = _body(site, lines=[_line(lot_code="R1", top_up=True, supplier_lot_code="RB-2")])
    refused(api.post("/receipts", other_supplier_lot), 409, "lines.0.supplier_lot_code")
    assert snapshot(session) == before


def test_the_same_new_lot_on_two_lines_of_one_receipt_is_one_lot(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/receipts", _body(site, lines=[_line(lot_code="R9", quantity="10"),
                                                 _line(lot_code="R9", quantity="5", location="DRY-01")]))
    assert r.status_code == 201, r.json
    assert r.json["lines"][0]["lot_id"] == r.json["lines"][1]["lot_id"]
    assert Decimal(api.get(f"/lots/{r.json['lines'][0]['lot_id']}").json["on_hand"]) == 15


def test_a_receipt_with_a_bad_third_line_writes_nothing(
        api: Api, site: dict[str, Any], session: Session) -> None:
    first = api.post("/receipts", _body(site))
    assert first.json["number"] == "R-000001"
    before = snapshot(session)
    lines = [_line(lot_code="A1"), _line(sku="SUGAR", lot_code="A2", location="DRY-01"),
             _line(lot_code="A3", quantity="0")]
    refused(api.post("/receipts", _body(site, lines=lines)), 422, "lines.2.quantity")
    lines[2] = _line(lot_code="A3", location="NOWHERE")
    refused(api.post("/receipts", _body(site, lines=lines)), 404, "lines.2.location")
    assert snapshot(session) == before
    assert api.get("/lots?code=A1").json == []
    assert [r["number"] for r in api.get("/receipts").json] == ["R-000001"]
    lines[2] = _line(lot_code="A3")
    r = api.post("/receipts", _body(site, lines=lines))
    assert r.status_code == 201, r.json
    # SQLite skips no number; PostgreSQL draws numbers outside the booking, so refused ones leave gaps.
    gapless = session.get_bind().dialect.name != "postgresql"
    assert r.json["number"] == "R-000002" if gapless else r.json["number"] > "R-000001"


def test_receipt_defaults_lot_code_expiry_and_date(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/receipts", _body(site, lines=[_line(), _line()]))
    assert r.status_code == 201, r.json
    receipt = r.json
    assert receipt["received_on"] == TODAY.isoformat()
    codes = [x["lot_code"] for x in receipt["lines"]]
    assert codes == [f"{TODAY:%y%m%d}-A", f"{TODAY:%y%m%d}-B"]
    # RASP keeps 180 days.
    assert {x["expiry"] for x in receipt["lines"]} == {(TODAY + timedelta(days=180)).isoformat()}
    assert api.get(f"/receipts/{receipt['id']}").json == receipt


def test_a_generated_lot_code_already_typed_by_hand_is_passed_over(
        api: Api, site: dict[str, Any], session: Session) -> None:
    typed = receive(api, site["supplier"], "RASP", "4", lot_code=f"{TODAY:%y%m%d}-A")
    made = receive(api, site["supplier"], "RASP", "6")
    assert made["lot_code"] == f"{TODAY:%y%m%d}-B" and made["lot_id"] != typed["lot_id"]
    assert [Decimal(api.get(f"/lots/{x['lot_id']}").json["on_hand"]) for x in (typed, made)] == [4, 6]
    assert check_ledger(session) == []


def test_a_receipt_books_each_line_in_the_ledger_and_the_balance(
        api: Api, site: dict[str, Any], session: Session) -> None:
    r = api.post("/receipts", _body(site, lines=[_line(quantity="7.5"), _line(quantity="2", location="DRY-01")]))
    assert r.status_code == 201, r.json
    for line in r.json["lines"]:
        lot = api.get(f"/lots/{line['lot_id']}").json
        assert [(m["kind"], Decimal(m["quantity"])) for m in lot["history"]] == [("receive", Decimal(line["quantity"]))]
        assert Decimal(lot["on_hand"]) == Decimal(line["quantity"])
    assert check_ledger(session) == []


def test_a_receipt_in_the_past_dates_its_lots_and_movements(api: Api, site: dict[str, Any]) -> None:
    day = TODAY - timedelta(days=3)
    line = receive(api, site["supplier"], "RASP", "10", received_on=day.isoformat())
    lot = api.get(f"/lots/{line['lot_id']}").json
    assert lot["made_on"] == day.isoformat()
    assert [m["booked_on"] for m in lot["history"]] == [day.isoformat()]


def test_replaying_a_receipt_with_the_same_key_books_it_once(
        api: Api, site: dict[str, Any], session: Session) -> None:
    key = {"Idempotency-Key": "scan-7f3a"}
    first = api.post("/receipts", _body(site, lines=[_line(lot_code="R1")]), headers=key)
    assert first.status_code == 201, first.json
    after_first = snapshot(session)
    replay = api.post("/receipts", _body(site, lines=[_line(lot_code="R1")]), headers=key)
    assert replay.status_code == 201, replay.json
    assert replay.json == first.json
    assert snapshot(session) == after_first
    assert Decimal(api.get(f"/lots/{first.json['lines'][0]['lot_id']}").json["on_hand"]) == 10
    assert len(api.get("/receipts").json) == 1


def test_a_key_used_for_a_receipt_is_refused_for_another_kind_of_booking(
        api: Api, site: dict[str, Any], session: Session) -> None:
    key = {"Idempotency-Key": "k-1"}
    line = api.post("/receipts", _body(site), headers=key).json["lines"][0]
    before = snapshot(session)
    r = api.post("/adjustments", {"lot_id": line["lot_id"], "location": "COLD-01", "quantity": "1",
                                  "reason": "found"}, headers=key)
    err = refused(r, 422, "Idempotency-Key")
    assert "already used for a different request" in err["message"] and "receipt R-000001" in err["message"]
    r = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                             "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}, headers=key)
    refused(r, 422, "Idempotency-Key")
    assert snapshot(session) == before


def test_a_refused_booking_does_not_use_up_its_key(api: Api, site: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "retry-me"}
    refused(api.post("/receipts", _body(site, lines=[_line(location="NOWHERE")]), headers=key), 404,
            "lines.0.location")
    r = api.post("/receipts", _body(site), headers=key)
    assert r.status_code == 201, r.json


def test_an_idempotency_key_over_100_characters_is_refused(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/receipts", _body(site), headers={"Idempotency-Key": "k" * 101})
    refused(r, 422, "Idempotency-Key")


def test_an_operator_receives_and_the_movement_carries_the_user(
        api_as: Any, site: dict[str, Any]) -> None:
    clerk = api_as(Role.OPERATOR)
    line = receive(clerk, site["supplier"], "RASP", "7")
    history = clerk.get(f"/lots/{line['lot_id']}").json["history"]
    assert [(m["kind"], Decimal(m["quantity"]), m["user"]) for m in history] == [
        ("receive", 7, "u-operator")]


def test_receipts_are_listed_by_date(api: Api, site: dict[str, Any]) -> None:
    for days in (3, 1):
        receive(api, site["supplier"], "RASP", "1", received_on=(TODAY - timedelta(days=days)).isoformat())
    on = (TODAY - timedelta(days=2)).isoformat()
    assert [r["number"] for r in api.get(f"/receipts?from={on}").json] == ["R-000002"]
    assert [r["number"] for r in api.get(f"/receipts?to={on}").json] == ["R-000001"]
    assert [r["number"] for r in api.get("/receipts?limit=1").json] == ["R-000002"]
    refused(api.get("/receipts?from=2026-02-30"), 422, "from")


def test_a_top_up_cannot_be_dated_before_the_lot_was_first_received(
        api: Api, site: dict[str, Any], session: Session) -> None:
    receive(api, site["supplier"], "RASP", "10", lot_code="R1")
    before = snapshot(session)
    r = api.post("/receipts", _body(site, received_on=(TODAY - timedelta(days=1)).isoformat(),
                                    lines=[_line(lot_code="R1", top_up=True)]))
    refused(r, 422, "received_on")
    assert snapshot(session) == before


def test_a_lot_code_pattern_without_a_sequence_refuses_a_second_code_instead_of_hanging(
        database_url: str, tmp_path: Any, session: Session, site: dict[str, Any]) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "INSTANCE_DIR": str(tmp_path),
                      "LOT_CODE_PATTERN": "{sku}-{date:%y%m%d}"})
    try:
        api = Api(app.test_client(), make_token(session, "clerk", Role.OPERATOR))
        first = api.post("/receipts", _body(site))
        assert first.status_code == 201, first.json
        assert first.json["lines"][0]["lot_code"] == f"RASP-{TODAY:%y%m%d}"
        before = snapshot(session)
        refused(api.post("/receipts", _body(site)), 409, "lot_code")
        assert snapshot(session) == before
        assert api.post("/receipts", _body(site, lines=[_line(lot_code="RASP-2")])).status_code == 201
    finally:
        app.extensions["lotwise.engine"].dispose()
