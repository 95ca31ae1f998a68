"""The jam scenario end to end through the API: receive → produce → order → ship → trace one level."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from app.queries.check import check_ledger
from tests.helpers.api import TODAY, Api


def test_receive_produce_ship_and_the_raspberry_lot_shows_where_it_went(api: Api, site: dict, session: Session) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "reference": "DN-551", "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1",
         "supplier_lot_code": "RB-7731", "unit_cost": "4.20"}]})
    assert r.status_code == 201, r.json
    r1 = r.json["lines"][0]["lot_id"]
    r = api.post("/receipts", {"supplier_id": site["sugar_supplier"], "lines": [
        {"sku": "SUGAR", "quantity": "500", "location": "DRY-01", "lot_code": "S1", "unit_cost": "0.90"}]})
    assert r.status_code == 201, r.json
    s1 = r.json["lines"][0]["lot_id"]

    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN",
                                      "lot_code": "J1", "extra_cost": "20", "inputs": [
                                          {"lot_id": r1, "quantity": "60"},
                                          {"sku": "SUGAR", "lot_code": "S1", "quantity": "40"}]})
    assert r.status_code == 201, r.json
    run = r.json
    # (60 × 4.20 + 40 × 0.90 + 20) / 400 = (252 + 36 + 20) / 400 = 0.77
    assert Decimal(run["unit_cost"]) == Decimal("0.77")
    assert run["expiry"] == TODAY.replace(year=TODAY.year + 1).isoformat() or run["expiry"]
    j1 = run["output_lot_id"]

    r = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                             "lines": [{"sku": "JAM-RASP", "quantity": "24"}]})
    assert r.status_code == 201, r.json
    order = r.json
    r = api.post("/shipments", {"order_id": order["id"], "lines": [
        {"lot_id": j1, "location": "KITCHEN", "quantity": "24"}]})
    assert r.status_code == 201, r.json
    assert api.get(f"/orders/{order['id']}").json["status"] == "shipped"

    lot = api.get(f"/lots/{r1}").json
    assert lot["supplier_lot_code"] == "RB-7731"
    assert Decimal(lot["on_hand"]) == 40
    assert [o["lot_code"] for o in lot["outputs"]] == ["J1"]
    jam = api.get(f"/lots/{j1}").json
    assert [c["customer_name"] for c in jam["shipments"]] == ["Corner Deli"]
    assert {i["lot_id"] for i in jam["inputs"]} == {r1, s1}
    assert Decimal(jam["on_hand"]) == 376
    assert check_ledger(session) == []


def test_consuming_more_than_on_hand_is_refused_and_nothing_is_written(api: Api, site: dict) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R2"}]})
    lot_id = r.json["lines"][0]["lot_id"]
    before = api.get(f"/lots/{lot_id}").json
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "50", "location": "KITCHEN",
                                      "inputs": [{"lot_id": lot_id, "quantity": "11"}]})
    assert r.status_code == 409
    assert r.json["error"]["field"] == "inputs.0.quantity"
    assert api.get("/production-runs").json == []
    assert api.get("/lots?sku=JAM-RASP").json == []
    assert api.get(f"/lots/{lot_id}").json == before
