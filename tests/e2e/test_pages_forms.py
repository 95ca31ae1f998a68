"""Bad bookings through the pages: the form comes back with the problem named, the input kept, nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Order, ProductionRun, Receipt, Role, Shipment
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, count, user


@pytest.fixture
def clerk(client: FlaskClient, session: Session, site: dict[str, Any]) -> Browser:
    return user(client, session, "otto", Role.OPERATOR)


@pytest.fixture
def stocked(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """R1 (100 kg raspberries) and J1 (10 jars of jam at the kitchen), received and made through the API."""
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1", "unit_cost": "4"}]})
    assert r.status_code == 201, r.json
    r1 = r.json["lines"][0]["lot_id"]
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN", "lot_code": "J1",
                                      "inputs": [{"lot_id": r1, "quantity": "5"}]})
    assert r.status_code == 201, r.json
    return {**site, "R1": r1, "J1": r.json["output_lot_id"]}


def _receipt_form(site: dict[str, Any], **lines: str) -> dict[str, str]:
    return {"supplier_id": str(site["supplier"]), "reference": "DN-9", **lines}


def test_a_receipt_line_of_zero_is_refused_and_shown_on_its_line(clerk: Browser, session: Session,
                                                               site: dict[str, Any]) -> None:
    page = clerk.submit(clerk.get("/receipts/new"), _receipt_form(
        site, **{"lines.0.sku": "RASP", "lines.0.quantity": "12", "lines.0.supplier_lot_code": "RB-1",
                 "lines.2.sku": "SUGAR", "lines.2.quantity": "0"}))
    assert page.status == 422
    assert page.alerts == ["Nothing was saved. Line 3 quantity must be greater than zero"]
    assert page.invalid() == ["lines.2.quantity"]
    assert page.field_error("lines.2.quantity") == "Must be greater than zero"
    # What was typed is still there.
    assert page.value("reference") == "DN-9"
    assert page.value("supplier_id") == str(site["supplier"])
    assert page.value("lines.0.sku") == "RASP" and page.value("lines.0.quantity") == "12"
    assert page.value("lines.0.supplier_lot_code") == "RB-1"
    assert page.value("lines.2.sku") == "SUGAR" and page.value("lines.2.quantity") == "0"
    assert count(session, Receipt) == 0


def test_an_unknown_sku_is_refused(clerk: Browser, session: Session, site: dict[str, Any], api: Api) -> None:
    page = clerk.submit(clerk.get("/receipts/new"), _receipt_form(
        site, **{"lines.0.sku": "RASP", "lines.0.quantity": "12", "lines.1.sku": "RASPBERY",
                 "lines.1.quantity": "3"}))
    assert page.status == 404
    assert "No product with sku 'RASPBERY'" in page.alerts[0]
    assert page.invalid() == ["lines.1.sku"]
    assert page.value("lines.1.sku") == "RASPBERY"
    assert count(session, Receipt) == 0
    assert api.get("/lots?sku=RASP").json == []


def test_an_expiry_before_the_receipt_date_is_refused(clerk: Browser, session: Session, site: dict[str, Any]) -> None:
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    page = clerk.submit(clerk.get("/receipts/new"), _receipt_form(
        site, **{"lines.0.sku": "RASP", "lines.0.quantity": "12", "lines.0.expiry": yesterday}))
    assert page.status == 422
    assert f"Expiry {yesterday} is before the receipt date {TODAY}" in page.alerts[0]
    assert page.invalid() == ["lines.0.expiry"]
    assert page.value("lines.0.expiry") == yesterday
    assert count(session, Receipt) == 0


@pytest.mark.parametrize(("fill", "field", "status", "message"), [
    ({"lines.0.quantity": "abc"}, "lines.0.quantity", 422, "Line 1 quantity: Input should be a valid decimal"),
    ({"received_on": "2199-01-01"}, "received_on", 422, "Receipt date 2199-01-01 is in the future"),
    ({"supplier_id": ""}, "supplier_id", 422, "Choose the supplier"),
    ({"lines.0.sku": "", "lines.0.quantity": ""}, None, 422, "Fill in at least one line."),
])
def test_other_receipt_mistakes_name_their_field(clerk: Browser, session: Session, site: dict[str, Any],
                                                 fill: dict[str, str], field: str | None, status: int,
                                                 message: str) -> None:
    form = _receipt_form(site, **{"lines.0.sku": "RASP", "lines.0.quantity": "12"})
    page = clerk.submit(clerk.get("/receipts/new"), {**form, **fill})
    assert page.status == status
    assert message in page.alerts[0]
    assert page.invalid() == ([field] if field else [])
    assert count(session, Receipt) == 0


def test_a_duplicate_lot_code_asks_for_top_up_and_top_up_adds_to_it(clerk: Browser, session: Session,
                                                                   stocked: dict[str, Any], api: Api) -> None:
    form = _receipt_form(stocked, **{"lines.0.sku": "RASP", "lines.0.quantity": "5", "lines.0.lot_code": "R1"})
    page = clerk.submit(clerk.get("/receipts/new"), form)
    assert page.status == 409
    assert "tick 'top up'" in page.alerts[0]
    assert page.invalid() == ["lines.0.lot_code"]
    page = clerk.submit(page, {"lines.0.top_up": True}, key="supplier_id")
    assert page.status == 200, page.alerts
    assert Decimal(api.get(f"/lots/{stocked['R1']}").json["on_hand"]) == 100


def test_shipping_more_than_on_hand_is_refused_and_nothing_ships(clerk: Browser, session: Session,
                                                                stocked: dict[str, Any], api: Api) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(stocked["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
        "lines.0.quantity": "50"})
    assert page.status == 200, page.alerts
    order_path = page.path
    assert page.value("lines.0.pick") == f"{stocked['J1']}@KITCHEN"
    assert page.value("lines.0.quantity") == "10"  # the form proposes what is on hand
    before = api.get(f"/lots/{stocked['J1']}").json
    page = clerk.submit(page, {"lines.0.quantity": "12", "carrier_reference": "TRK-1"}, key="shipped_on")
    assert page.status == 409
    assert page.path == f"{order_path}/ship"
    assert "Lot J1 has 10 ea at KITCHEN; 12 ea needed" in page.alerts[0]
    assert page.invalid() == ["lines.0.quantity"]
    assert page.field_error("lines.0.quantity") == "Lot J1 has 10 ea at KITCHEN; 12 ea needed"
    assert page.value("lines.0.quantity") == "12" and page.value("carrier_reference") == "TRK-1"
    assert count(session, Shipment) == 0
    assert api.get(f"/lots/{stocked['J1']}").json == before
    assert api.get("/orders").json[0]["status"] == "open"


def test_shipping_more_than_the_line_is_refused(clerk: Browser, session: Session, stocked: dict[str, Any]) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(stocked["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
        "lines.0.quantity": "4"})
    page = clerk.submit(page, {"lines.0.quantity": "6"}, key="shipped_on")
    assert page.status == 409
    assert "Line 1 (JAM-RASP) has 4 ea left to ship; 6 is too many" in page.alerts[0]
    assert page.invalid() == ["lines.0.quantity"]
    assert count(session, Shipment) == 0


def test_a_partial_shipment_leaves_the_rest_open(clerk: Browser, session: Session, stocked: dict[str, Any],
                                                api: Api) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(stocked["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
        "lines.0.quantity": "8", "lines.1.sku": "RASP", "lines.1.quantity": "3"})
    order_path = page.path
    page = clerk.submit(page, {"lines.0.quantity": "5", "lines.1.quantity": ""}, key="shipped_on")
    assert page.status == 200, page.alerts
    page = clerk.get(order_path)
    assert "partial" in page.text
    assert page.value("lines.0.quantity") == "3"  # what is still open on line 1
    assert Decimal(api.get("/orders").json[0]["lines"][0]["shipped_quantity"]) == 5


def test_a_run_with_too_little_input_stock_is_refused(clerk: Browser, session: Session, stocked: dict[str, Any],
                                                     api: Api) -> None:
    before = api.get(f"/lots/{stocked['R1']}").json
    page = clerk.submit(clerk.get("/runs/new"), {
        "sku": "JAM-RASP", "quantity": "100", "inputs.0.lot": "SUGAR / S9", "inputs.0.quantity": "1"})
    assert page.status == 404
    assert "SUGAR has no lot 'S9'" in page.alerts[0]
    assert page.invalid() == ["inputs.0.lot"]
    page = clerk.submit(page, {"inputs.0.lot": "", "inputs.0.quantity": "", "inputs.1.lot": "RASP / R1",
                               "inputs.1.quantity": "96"}, key="sku")
    assert page.status == 409
    assert "Lot R1 of RASP has 95 kg on hand; 96 kg needed" in page.alerts[0]
    assert page.invalid() == ["inputs.1.quantity"]
    assert page.value("inputs.1.lot") == "RASP / R1" and page.value("quantity") == "100"
    assert count(session, ProductionRun) == 1  # only the fixture's run
    assert api.get(f"/lots/{stocked['R1']}").json == before


def test_an_order_needs_a_customer_and_a_future_ship_date(clerk: Browser, session: Session,
                                                         site: dict[str, Any]) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {"warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
                                                   "lines.0.quantity": "5"})
    assert page.status == 422
    assert page.alerts == ["Nothing was saved. Choose the customer."]
    assert page.invalid() == ["customer_id"]
    past = (TODAY - timedelta(days=3)).isoformat()
    page = clerk.submit(page, {"customer_id": str(site["bigbox"]), "ship_date": past}, key="customer_id")
    assert page.status == 422
    assert page.invalid() == ["ship_date"]
    assert page.value("lines.0.sku") == "JAM-RASP"
    assert count(session, Order) == 0


def test_an_operator_holds_a_lot_and_a_manager_releases_it(client: FlaskClient, session: Session, clerk: Browser,
                                                         stocked: dict[str, Any], api: Api) -> None:
    path = f"/lots/{stocked['J1']}"
    page = clerk.get(path)
    page = clerk.submit(page, {"reason": ""}, key="reason")
    assert page.status == 422
    assert page.invalid() == ["reason"]
    page = clerk.submit(page, {"reason": "jar lids loose"}, key="reason")
    assert page.status == 200
    assert "On hold: jar lids loose" in page.text
    assert api.get(path).json["status"] == "hold"
    assert "Release lot" not in page.text  # operators cannot release
    page = clerk.post(f"{path}/release", {"csrf_token": clerk.csrf(), "reason": "fine"})
    assert page.status == 403

    # A held lot cannot be chosen when shipping.
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(stocked["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
        "lines.0.quantity": "2"})
    assert page.options("lines.0.pick") == [(f"{stocked['J1']}@KITCHEN", page.options("lines.0.pick")[0][1], True)]
    assert "(on hold)" in page.options("lines.0.pick")[0][1]

    boss = user(client, session, "mona", Role.MANAGER)
    page = boss.submit(boss.get(path), {"reason": "lids re-torqued, checked"}, key="reason")
    assert page.status == 200
    assert page.flashes == ["Lot J1 is released."]
    assert api.get(path).json["status"] == "released"


def test_cancelling_an_order(clerk: Browser, session: Session, site: dict[str, Any], api: Api) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(site["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP", "lines.0.quantity": "2"})
    order_id = api.get("/orders").json[0]["id"]
    form = next(f for f in page.forms if f.action.endswith("/cancel"))
    page = clerk.post(form.action, form.fields, follow=True)
    assert page.flashes == [f"Order {api.get('/orders').json[0]['number']} cancelled."]
    assert api.get(f"/orders/{order_id}").json["status"] == "cancelled"
    assert "Cancel order" not in page.text and "Ship" not in [f.action for f in page.forms]
    page = clerk.post(form.action, form.fields)
    assert page.status == 409
    assert "is cancelled" in page.alerts[0]


def test_shipping_a_finished_order_again_says_why(clerk: Browser, session: Session, stocked: dict[str, Any]) -> None:
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(stocked["deli"]), "warehouse": "MAIN", "lines.0.sku": "JAM-RASP",
        "lines.0.quantity": "2"})
    ship_form = page.form_with("shipped_on")
    page = clerk.submit(page, {}, key="shipped_on")
    assert page.flashes == ["Shipment SH-000001 booked for Corner Deli."]
    page = clerk.post(ship_form.action, {**ship_form.fields, "request_key": "another"})
    assert page.status == 409
    assert "is already shipped" in page.alerts[0]
    assert count(session, Shipment) == 1


def test_a_resubmitted_form_books_once(clerk: Browser, session: Session, site: dict[str, Any]) -> None:
    page = clerk.get("/receipts/new")
    form = {**page.form_with("supplier_id").fields, **_receipt_form(
        site, **{"lines.0.sku": "RASP", "lines.0.quantity": "12"})}
    first = clerk.post("/receipts/new", form)
    again = clerk.post("/receipts/new", form)
    assert first.status == again.status == 302
    assert first.location == again.location
    assert count(session, Receipt) == 1
