"""Products, suppliers, customers, warehouses and locations through the API: duplicates and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.helpers.api import Api
from tests.helpers.bookings import refused, snapshot
from tests.helpers.sites import LOCATIONS, PRODUCTS, post_site

JAM_GTIN = "09501101530003"


def _product(**kw: Any) -> dict[str, Any]:
    return {"sku": "PEACH", "name": "Peach jam 340 g", **kw}


BAD: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("duplicate sku", "/products", _product(sku="RASP"), 409, "sku"),
    ("duplicate GTIN", "/products", _product(gtin=JAM_GTIN), 409, "gtin"),
    ("duplicate GTIN written short", "/products", _product(gtin=JAM_GTIN.lstrip("0")), 409, "gtin"),
    ("wrong GTIN check digit", "/products", _product(gtin="09501101530004"), 422, "gtin"),
    ("GTIN of letters", "/products", _product(gtin="ABCDEFGHIJKLM"), 422, "gtin"),
    ("GTIN of 11 digits", "/products", _product(gtin="12345678901"), 422, "gtin"),
    ("sku with spaces", "/products", _product(sku="PEACH JAM"), 422, "sku"),
    ("blank name", "/products", _product(name="  "), 422, "name"),
    ("unknown kind", "/products", _product(kind="gadget"), 422, "kind"),
    ("zero shelf life", "/products", _product(shelf_life_days=0), 422, "shelf_life_days"),
    ("unknown product field", "/products", _product(colour="orange"), 422, "colour"),
    ("NUL in a name", "/products", _product(name="Peach\u0000jam"), 400, "name"),
    ("duplicate supplier", "/suppliers", {"name": "Berry Farm"}, 409, "name"),
    ("NUL in an address", "/suppliers", {"name": "New Farm", "address": "1 Lane\u0000"}, 400, "address"),
    ("supplier email", "/suppliers", {"name": "New Farm", "email": "not-an-address"}, 422, "email"),
    ("supplier GLN check digit", "/suppliers", {"name": "New Farm", "gln": "9501101530004"}, 422, "gln"),
    ("duplicate customer", "/customers", {"name": "Corner Deli"}, 409, "name"),
    ("customer percent over 100", "/customers", {"name": "Shop", "min_remaining_pct": "101"}, 422,
     "min_remaining_pct"),
    ("customer percent not a number", "/customers", {"name": "Shop", "min_remaining_pct": "abc"}, 422,
     "min_remaining_pct"),
    ("customer negative transit", "/customers", {"name": "Shop", "transit_days": -1}, 422, "transit_days"),
    ("unknown customer field", "/customers", {"name": "Shop", "vip": True}, 422, "vip"),
    ("duplicate warehouse", "/warehouses", {"code": "MAIN", "name": "Again"}, 409, "code"),
    ("duplicate location", "/locations", {"code": "RCV", "name": "Again", "warehouse": "MAIN"}, 409, "code"),
    ("location in unknown warehouse", "/locations", {"code": "X-1", "name": "X", "warehouse": "NOPE"}, 404,
     "warehouse"),
    ("unknown location kind", "/locations", {"code": "X-1", "name": "X", "warehouse": "MAIN", "kind": "roof"},
     422, "kind"),
]


@pytest.mark.parametrize(("path", "body", "status", "field"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_master_data_is_refused_naming_the_field_and_writes_nothing(
        api: Api, site: dict[str, Any], session: Session, path: str, body: dict[str, Any], status: int,
        field: str) -> None:
    before = snapshot(session)
    refused(api.post(path, body), status, field)
    assert snapshot(session) == before


@pytest.mark.parametrize("path", ["/products", "/suppliers", "/customers", "/warehouses", "/locations"])
def test_a_body_that_is_not_a_json_object_is_refused(api: Api, site: dict[str, Any], path: str) -> None:
    r = api.client.post("/api/v1" + path, data="name=x", content_type="application/x-www-form-urlencoded",
                        headers=api.headers)
    refused(r, 422, None, "invalid")
    refused(api.post(path, ["name", "x"]), 422, None, "invalid")


def test_gtins_are_stored_as_14_digits_and_found_either_way(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/products", _product(gtin="4006381333931"))
    assert r.status_code == 201, r.json
    assert r.json["gtin"] == "04006381333931"
    assert [p["sku"] for p in api.get("/products?gtin=4006381333931").json] == ["PEACH"]
    assert [p["sku"] for p in api.get("/products?gtin=04006381333931").json] == ["PEACH"]
    r = api.post("/products", _product(sku="PLUM", gtin="96385074"))  # a GTIN-8
    assert r.status_code == 201, r.json
    assert r.json["gtin"] == "00000096385074"
    assert api.post("/products", _product(sku="FIG", gtin="  ")).json["gtin"] is None


def test_patching_a_product_checks_duplicates_and_keeps_other_fields(api: Api, site: dict[str, Any],
                                                                     session: Session) -> None:
    rasp = site["RASP"]
    before = snapshot(session)
    refused(api.patch(f"/products/{rasp}", {"sku": "SUGAR"}), 409, "sku")
    refused(api.patch(f"/products/{rasp}", {"gtin": JAM_GTIN}), 409, "gtin")
    refused(api.patch(f"/products/{rasp}", {"gtin": "09501101530004"}), 422, "gtin")
    refused(api.patch("/products/999999", {"name": "x"}), 404, "id")
    assert snapshot(session) == before
    r = api.patch(f"/products/{rasp}", {"name": "Raspberries, frozen", "sku": None})
    assert r.status_code == 200, r.json
    assert (r.json["sku"], r.json["name"], r.json["unit"], r.json["shelf_life_days"]) == (
        "RASP", "Raspberries, frozen", "kg", 180)
    assert api.get(f"/products/{rasp}").json == r.json


def test_renaming_a_customer_onto_another_is_refused(api: Api, site: dict[str, Any]) -> None:
    refused(api.patch(f"/customers/{site['bigbox']}", {"name": "Corner Deli"}), 409, "name")
    r = api.patch(f"/customers/{site['bigbox']}", {"name": "Big Box Ltd", "min_remaining_pct": "50"})
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["min_remaining_pct"], r.json["min_remaining_days"], r.json["transit_days"]) == (
        "Big Box Ltd", "50", 90, 2)
    refused(api.patch(f"/suppliers/{site['supplier']}", {"name": "Sugar Co"}), 409, "name")


def test_an_inactive_product_or_location_cannot_be_booked(api: Api, site: dict[str, Any],
                                                          session: Session) -> None:
    assert api.patch(f"/products/{site['SUGAR']}", {"active": False}).json["active"] is False
    dry = next(x for x in api.get("/locations?warehouse=MAIN").json if x["code"] == "DRY-01")
    assert api.patch(f"/locations/{dry['id']}", {"active": False}).json["active"] is False
    before = snapshot(session)
    refused(api.post("/receipts", {"supplier_id": site["sugar_supplier"], "lines": [
        {"sku": "SUGAR", "quantity": "1", "location": "COLD-01"}]}), 422, "lines.0.sku")
    refused(api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "1", "location": "DRY-01"}]}), 422, "lines.0.location")
    assert snapshot(session) == before


def test_lists_search_and_page(api: Api, site: dict[str, Any]) -> None:
    assert [p["sku"] for p in api.get("/products").json] == ["JAM-RASP", "RASP", "SUGAR"]
    assert [p["sku"] for p in api.get("/products?kind=material").json] == ["RASP", "SUGAR"]
    assert [p["sku"] for p in api.get("/products?q=jam").json] == ["JAM-RASP"]
    assert [p["sku"] for p in api.get("/products?limit=1&offset=1").json] == ["RASP"]
    assert [s["name"] for s in api.get("/suppliers?q=berry").json] == ["Berry Farm"]
    assert [c["name"] for c in api.get("/customers").json] == ["Big Box", "Corner Deli"]
    assert [w["code"] for w in api.get("/warehouses").json] == ["MAIN"]
    kinds = {x["code"]: (x["kind"], x["pickable"]) for x in api.get("/locations").json}
    assert kinds["DRY-01"] == ("storage", True) and kinds["QUAR"] == ("quarantine", False)
    refused(api.get("/products?limit=0"), 422, "limit")
    refused(api.get("/products?limit=many"), 422, "limit")
    refused(api.get("/locations?kind=roof"), 422, "kind")


def test_unknown_ids_and_routes_answer_json_404(api: Api, site: dict[str, Any]) -> None:
    for path, field in [("/products/999", "id"), ("/suppliers/999", "id"), ("/customers/999", "id"),
                        ("/locations/999", "id"), ("/lots/999", "lot_id"), ("/receipts/999", "id"),
                        ("/production-runs/999", "id"), ("/orders/999", "id"), ("/shipments/999", "id"),
                        ("/returns/999", "id"), ("/adjustments/999", "id"), ("/transfers/999", "id")]:
        refused(api.get(path), 404, field, "not_found")
    r = api.get("/no-such-thing")
    assert (r.status_code, r.json["error"]["code"]) == (404, "not_found")
    refused(api.get(f"/lots/{10**20}"), 404, "lot_id", "not_found")
    refused(api.post(f"/orders/{2**31}/cancel"), 404, "order_id", "not_found")
    refused(api.get(f"/orders?customer_id={10**20}"), 422, "customer_id", "invalid")
    refused(api.get(f"/lots?offset={10**20}"), 422, "offset", "invalid")
    refused(api.get("/lots?sku=RA%00SP"), 400, "sku", "bad_request")
    r = api.client.delete("/api/v1/products", headers=api.headers)
    assert (r.status_code, r.json["error"]["code"]) == (405, "method_not_allowed")


def test_the_kitchen_most_tests_start_from_can_be_set_up_through_the_api(api: Api) -> None:
    ids = post_site(api)
    products = {p["sku"]: p for p in api.get("/products").json}
    assert {sku: (p["id"], p["kind"], p["unit"], p["shelf_life_days"]) for sku, p in products.items()} == {
        p["sku"]: (ids[p["sku"]], p["kind"], p["unit"], p["shelf_life_days"]) for p in PRODUCTS}
    assert products["JAM-RASP"]["gtin"] == JAM_GTIN
    assert {loc["code"]: loc["kind"] for loc in api.get("/locations").json} == {
        loc["code"]: loc["kind"] for loc in LOCATIONS}
    customers = {c["name"]: (c["id"], c["min_remaining_days"], c["transit_days"]) for c in api.get("/customers").json}
    assert customers == {"Corner Deli": (ids["deli"], 30, 0), "Big Box": (ids["bigbox"], 90, 2)}
    suppliers = {s["name"]: (s["id"], s["email"]) for s in api.get("/suppliers").json}
    assert suppliers == {"Berry Farm": (ids["supplier"], "ann@berry.example"),
                         "Sugar Co": (ids["sugar_supplier"], None)}
