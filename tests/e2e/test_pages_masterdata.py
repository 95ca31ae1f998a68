"""Master data and lot search through the pages: products, suppliers, customers, locations, lot filters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, user


@pytest.fixture
def boss(client: FlaskClient, session: Session, site: dict[str, Any]) -> Browser:
    return user(client, session, "mona", Role.MANAGER)


def test_a_manager_creates_and_edits_a_product(boss: Browser, api: Api) -> None:
    page = boss.get("/products/new")
    assert page.value("unit") == "ea" and page.value("kind") == "product"
    page = boss.submit(page, {"sku": "JAM-STRAW", "name": "Strawberry jam 340 g", "shelf_life_days": "365",
                              "gtin": "09501101530004"})
    assert page.status == 422
    assert page.invalid() == ["gtin"]
    assert "wrong check digit" in page.field_error("gtin")
    assert page.value("name") == "Strawberry jam 340 g"
    page = boss.submit(page, {"gtin": ""}, key="sku")
    assert page.status == 200, page.alerts
    assert page.flashes == ["Product JAM-STRAW created."]
    product = api.get("/products?q=JAM-STRAW").json[0]
    assert product["shelf_life_days"] == 365 and product["gtin"] is None and product["lot_tracked"] is True

    page = boss.get(f"/products/{product['id']}/edit")
    assert page.value("shelf_life_days") == "365"
    page = boss.submit(page, {"name": "Strawberry jam 370 g", "expiry_alert_days": "45", "shelf_life_days": "",
                              "active": False}, key="sku")
    assert page.flashes == ["Product JAM-STRAW saved."]
    product = api.get(f"/products/{product['id']}").json
    assert product["name"] == "Strawberry jam 370 g"
    assert product["expiry_alert_days"] == 45 and product["shelf_life_days"] is None and product["active"] is False
    assert "inactive" in page.text


def test_a_duplicate_sku_or_blank_name_is_refused(boss: Browser, site: dict[str, Any], api: Api) -> None:
    page = boss.submit(boss.get("/products/new"), {"sku": "RASP", "name": "Another"})
    assert page.status == 409
    assert page.invalid() == ["sku"]
    page = boss.submit(boss.get(f"/products/{site['RASP']}/edit"), {"name": " "}, key="sku")
    assert page.status == 422
    assert page.invalid() == ["name"]
    assert api.get(f"/products/{site['RASP']}").json["name"] == "Raspberries IQF"


def test_product_search(boss: Browser) -> None:
    page = boss.submit(boss.get("/products"), {"q": "jam"})
    assert "JAM-RASP" in page.text and "SUGAR" not in page.text
    page = boss.get("/products?kind=material")
    assert "RASP" in page.text and "SUGAR" in page.text and "JAM-RASP" not in page.text


def test_suppliers_are_created_edited_and_searched(boss: Browser, site: dict[str, Any], api: Api) -> None:
    page = boss.submit(boss.get("/suppliers/new"), {"name": "Orchard Ltd", "email": "not-an-email"})
    assert page.status == 422 and page.invalid() == ["email"]
    page = boss.submit(page, {"email": "kim@orchard.example", "phone": "+44 1632 960123",
                              "contact_name": "Kim Lee", "gln": "5012345678900"}, key="name")
    assert page.flashes == ["Supplier Orchard Ltd created."]
    assert "Kim Lee" in page.text and "Berry Farm" not in page.text  # the list is filtered to the new one
    page = boss.get(f"/suppliers/{site['supplier']}/edit")
    assert page.value("contact_name") == "Ann Berry"
    page = boss.submit(page, {"contact_name": "", "address": "Farm Lane 1\nBerryville"}, key="name")
    assert page.flashes == ["Supplier Berry Farm saved."]
    supplier = api.get(f"/suppliers/{site['supplier']}").json
    assert supplier["contact_name"] is None
    assert supplier["address"].splitlines() == ["Farm Lane 1", "Berryville"]


def test_a_customer_shows_and_edits_every_shelf_life_rule(boss: Browser, site: dict[str, Any], api: Api) -> None:
    page = boss.get(f"/customers/{site['bigbox']}/edit")
    assert page.value("min_remaining_days") == "90" and page.value("transit_days") == "2"
    page = boss.submit(page, {"min_remaining_days": "", "min_remaining_pct": "66.5", "transit_days": "3",
                              "max_lots_per_line": "2", "no_date_reversal": True, "contact_name": "Buyer Bo",
                              "phone": "+44 1632 960999", "email": "bo@bigbox.example"}, key="name")
    assert page.status == 200, page.alerts
    assert page.flashes == ["Customer Big Box saved."]
    assert "66.5" in page.text and "Buyer Bo" in page.text
    customer = api.get(f"/customers/{site['bigbox']}").json
    assert customer["min_remaining_days"] is None
    assert Decimal(customer["min_remaining_pct"]) == Decimal("66.5")
    assert customer["transit_days"] == 3 and customer["max_lots_per_line"] == 2
    assert customer["no_date_reversal"] is True and customer["email"] == "bo@bigbox.example"
    page = boss.get(f"/customers/{site['bigbox']}/edit")
    assert page.value("min_remaining_pct") == "66.5"
    assert "no_date_reversal" in page.form_with("name").fields  # the box shows ticked

    page = boss.submit(boss.get("/customers/new"), {"name": "Farm Shop", "min_remaining_pct": "120"})
    assert page.status == 422 and page.invalid() == ["min_remaining_pct"]
    page = boss.submit(page, {"min_remaining_pct": "50", "transit_days": ""}, key="name")
    assert page.flashes == ["Customer Farm Shop created."]
    assert api.get("/customers?q=Farm Shop").json[0]["transit_days"] == 0


def test_warehouses_and_locations(boss: Browser, api: Api) -> None:
    page = boss.get("/locations")
    assert "MAIN" in page.text and "COLD-01" in page.text and "quarantine" in page.text
    page = boss.submit(boss.get("/locations/warehouses/new"), {"code": "MAIN", "name": "Again"})
    assert page.status == 409 and page.invalid() == ["code"]
    page = boss.submit(page, {"code": "NORTH", "name": "North depot"}, key="code")
    assert page.flashes == ["Warehouse NORTH created; now add its locations."]
    assert page.value("warehouse") == "NORTH"
    page = boss.submit(page, {"code": "N-01", "name": "North bay 1", "kind": "storage"})
    assert page.flashes == ["Location N-01 created."]
    assert "North depot" in page.text
    location = api.get("/locations?warehouse=NORTH").json[0]
    page = boss.submit(boss.get(f"/locations/{location['id']}/edit"), {"kind": "quarantine", "active": False},
                       key="name")
    assert page.flashes == ["Location N-01 saved."]
    location = api.get(f"/locations/{location['id']}").json
    assert location["kind"] == "quarantine" and location["active"] is False and location["pickable"] is False
    page = boss.submit(boss.get(f"/locations/{location['id']}/edit"), {"name": ""}, key="name")
    assert page.status == 422 and page.invalid() == ["name"]


def test_lot_filters(client: FlaskClient, session: Session, api: Api, site: dict[str, Any]) -> None:
    soon = (TODAY + timedelta(days=5)).isoformat()
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R1", "supplier_lot_code": "RB-7731",
         "expiry": soon},
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R2", "supplier_lot_code": "RB-8000"},
        {"sku": "SUGAR", "quantity": "5", "location": "DRY-01", "lot_code": "S1"}]})
    assert r.status_code == 201, r.json
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/lots")
    assert all(code in page.text for code in ("R1", "R2", "S1"))
    assert page.text.index("R1") < page.text.index("R2")  # soonest expiry first
    page = viewer.submit(page, {"supplier_lot_code": "RB-7731"})
    assert "R1" in page.text and "R2" not in page.text and "S1" not in page.text
    assert page.value("supplier_lot_code") == "RB-7731"
    page = viewer.get("/lots?sku=SUGAR")
    assert "S1" in page.text and "R1" not in page.text
    page = viewer.get(f"/lots?expiring_before={(TODAY + timedelta(days=6)).isoformat()}")
    assert "R1" in page.text and "R2" not in page.text
    page = viewer.get("/lots?status=hold")
    assert "No lots match these filters" in page.text
    page = viewer.get("/lots?in_stock=true&code=R2")
    assert "R2" in page.text and "R1" not in page.text
    page = viewer.get("/lots?expiring_before=soon")
    assert page.status == 422
    assert page.invalid() == ["expiring_before"]
    assert "Expiring before" in page.alerts[0]
