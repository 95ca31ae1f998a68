"""The HTML pages as a user meets them: logging in, roles, CSRF, and the jam scenario end to end."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Receipt, Role
from app.queries.check import check_ledger
from app.views import NAV
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, count, lot_id, user

NAV_PATHS = {
    "lots.index": "/lots", "receipts.index": "/receipts", "runs.index": "/runs", "orders.index": "/orders",
    "shipments.index": "/shipments", "products.index": "/products", "suppliers.index": "/suppliers",
    "customers.index": "/customers", "locations.index": "/locations",
}


def _receive(api: Api, supplier: int, sku: str, qty: str, location: str, code: str, **extra: str) -> int:
    r = api.post("/receipts", {"supplier_id": supplier, "lines": [
        {"sku": sku, "quantity": qty, "location": location, "lot_code": code, **extra}]})
    assert r.status_code == 201, r.json
    return int(r.json["lines"][0]["lot_id"])


def _nav_paths(client: FlaskClient) -> dict[str, str]:
    """Every page the navigation links to, by endpoint."""
    app = client.application
    with app.test_request_context():
        return {endpoint: url_for(endpoint) for endpoint, _ in NAV if endpoint in app.view_functions}


def test_the_navigation_reaches_every_list_page(client: FlaskClient) -> None:
    assert _nav_paths(client).items() >= NAV_PATHS.items()


@pytest.mark.parametrize("path", ["/", *NAV_PATHS.values(), "/lots/1", "/receipts/new"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")


def test_logging_in_returns_to_the_page_asked_for(client: FlaskClient, session: Session) -> None:
    from tests.helpers.api import make_user

    make_user(session, "vera", Role.VIEWER)
    browser = Browser(client)
    page = browser.get("/lots", follow=True)
    assert "Log in" in page.text
    page = browser.submit(page, {"username": "vera", "password": "correct horse 1"})
    assert page.status == 200
    assert page.response.request.path == "/lots"
    assert "vera · viewer" in page.text


def test_a_viewer_reads_every_page_but_books_nothing(client: FlaskClient, session: Session, api: Api,
                                                   site: dict[str, Any]) -> None:
    lot_id = _receive(api, site["supplier"], "RASP", "10", "COLD-01", "R9")
    viewer = user(client, session, "vera", Role.VIEWER)
    for endpoint, path in _nav_paths(client).items():
        page = viewer.get(path)
        assert page.status == 200, (endpoint, page.text[:300])
        if endpoint != "handheld.index":  # the handheld menu is a phone page, without the desktop nav
            assert f'href="{path}" aria-current="page"' in page.html  # the nav shows where you are
    page = viewer.get(f"/lots/{lot_id}")
    assert page.status == 200 and "R9" in page.text
    assert "Hold lot" not in page.text
    for path in ["/receipts/new", "/runs/new", "/orders/new", "/products/new", "/suppliers/new",
                 "/customers/new", "/locations/new", "/locations/warehouses/new",
                 f"/products/{site['RASP']}/edit", f"/customers/{site['deli']}/edit"]:
        page = viewer.get(path)
        assert page.status == 403, path
        assert "this needs the" in page.text
    page = viewer.post(f"/lots/{lot_id}/hold", {"csrf_token": viewer.csrf(), "reason": "looks odd"})
    assert page.status == 403
    assert api.get(f"/lots/{lot_id}").json["status"] == "released"
    assert "Receive goods" not in viewer.get("/receipts").text


def test_an_operator_books_but_cannot_edit_master_data(client: FlaskClient, session: Session,
                                                     site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    assert clerk.get("/receipts/new").status == 200
    assert clerk.get("/products/new").status == 403
    assert "New product" not in clerk.get("/products").text


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, session: Session, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    form = {"supplier_id": str(site["supplier"]), "received_on": TODAY.isoformat(), "lines.0.sku": "RASP",
            "lines.0.quantity": "5", "lines.0.location": "COLD-01"}
    page = clerk.post("/receipts/new", form)
    assert page.status == 400
    assert "form expired" in page.text
    page = clerk.post("/receipts/new", {**form, "csrf_token": "forged"})
    assert page.status == 400
    assert count(session, Receipt) == 0
    page = clerk.post("/receipts/new", {**form, "csrf_token": clerk.csrf()}, follow=True)
    assert page.status == 200 and "Receipt R-000001 booked" in page.text


def test_the_jam_scenario_through_the_pages(client: FlaskClient, session: Session, api: Api,
                                            site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)

    # Receive raspberries (supplier lot RB-7731) and sugar.
    page = clerk.get("/receipts/new")
    assert page.value("received_on") == TODAY.isoformat()
    page = clerk.submit(page, {
        "supplier_id": str(site["supplier"]), "reference": "DN-551", "lines.0.sku": "RASP",
        "lines.0.quantity": "100", "lines.0.location": "COLD-01", "lines.0.lot_code": "R1",
        "lines.0.supplier_lot_code": "RB-7731", "lines.0.unit_cost": "4.20"})
    assert page.status == 200, page.alerts
    assert page.flashes == ["Receipt R-000001 booked: lot R1."]
    assert "Berry Farm" in page.text and "RB-7731" in page.text and "DN-551" in page.text
    r1 = lot_id(session, "R1")
    page = clerk.submit(clerk.get("/receipts/new"), {
        "supplier_id": str(site["sugar_supplier"]), "lines.0.sku": "SUGAR", "lines.0.quantity": "500",
        "lines.0.location": "DRY-01", "lines.0.lot_code": "S1", "lines.0.unit_cost": "0.90"})
    assert page.flashes == ["Receipt R-000002 booked: lot S1."]

    # Make 400 jars of jam from 60 kg of R1 and 40 kg of S1 (typed as a bare lot code).
    page = clerk.get("/runs/new")
    assert '<option value="RASP / R1">' in page.html  # in-stock lots are offered
    page = clerk.submit(page, {
        "sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN", "lot_code": "J1", "extra_cost": "20",
        "inputs.0.lot": "RASP / R1", "inputs.0.quantity": "60", "inputs.1.lot": "S1", "inputs.1.quantity": "40"})
    assert page.status == 200, page.alerts
    assert page.flashes == ["Run P-000001 recorded: lot J1 of JAM-RASP."]
    assert "0.77" in page.text  # (60 × 4.20 + 40 × 0.90 + 20) / 400
    assert "252" in page.text and "36" in page.text
    j1 = lot_id(session, "J1")

    # Order 24 jars for Corner Deli, then ship them from J1 as the form proposes.
    page = clerk.submit(clerk.get("/orders/new"), {
        "customer_id": str(site["deli"]), "warehouse": "MAIN", "customer_reference": "PO-77",
        "lines.0.sku": "JAM-RASP", "lines.0.quantity": "24"})
    assert page.flashes == ["Order SO-000001 for Corner Deli entered."]
    assert page.value("lines.0.pick") == f"{j1}@KITCHEN"
    assert page.value("lines.0.quantity") == "24"
    page = clerk.submit(page, {}, key="shipped_on")
    assert page.status == 200, page.alerts
    assert page.flashes == ["Shipment SH-000001 booked for Corner Deli."]
    assert "J1" in page.text and "Dev Patel" in page.text
    order = api.get("/orders").json[0]
    assert order["status"] == "shipped"
    page = clerk.get(f"/orders/{order['id']}")
    assert "shipped" in page.text and "SH-000001" in page.text and 'action="/orders/' not in page.html

    # The raspberry lot's page shows where it came from and where it went.
    page = clerk.get(f"/lots/{r1}")
    assert page.status == 200
    assert "RB-7731" in page.text and "Berry Farm" in page.text and "R-000001" in page.text
    assert f'href="/lots/{j1}"' in page.html and "J1" in page.text
    assert "Corner Deli" in page.text
    assert "40 kg" in page.text  # 100 received − 60 used
    assert "receive" in page.text and "consume" in page.text
    page = clerk.get(f"/lots/{j1}")
    assert f'href="/lots/{r1}"' in page.html and "S1" in page.text and "Corner Deli" in page.text
    assert "376" in page.text and "P-000001" in page.text
    assert Decimal(api.get(f"/lots/{j1}").json["on_hand"]) == 376
    assert check_ledger(session) == []


def test_dashboard_links_to_the_pages(client: FlaskClient, session: Session, api: Api, site: dict[str, Any]) -> None:
    _receive(api, site["supplier"], "RASP", "10", "COLD-01", "R5", expiry=TODAY.isoformat())
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/")
    assert page.status == 200
    assert "R5" in page.text
    for path in NAV_PATHS.values():
        assert f'href="{path}"' in page.html
