"""Multi-level trace: both directions with quantities, every starting point, cycles, bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models import LotLink, Role
from app.queries.traceability import links, trace, walk
from tests.helpers.api import TODAY, Api
from tests.helpers.recall_case import Case, build

D = Decimal


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build(api, site, session)


def _codes(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["lot"]["code"] for n in nodes]


def test_forward_from_the_raspberry_lot_reaches_both_levels_and_every_customer(api: Api, case: Case) -> None:
    r = api.get(f"/trace/lots/{case.r1}?direction=forward")
    assert r.status_code == 200, r.json
    t = r.json
    assert t["backward"] == []
    [root] = t["forward"]
    assert root["lot"]["code"] == "R1" and root["depth"] == 0
    assert (root["lot_count"], root["partner_count"]) == (3, 4)  # J1, J2, GB1; four customers
    j1, j2 = root["children"]
    assert (j1["lot"]["code"], D(j1["quantity"]), j1["depth"], j1["run_number"][:2]) == ("J1", 60, 1, "P-")
    assert (j2["lot"]["code"], D(j2["quantity"])) == ("J2", 30)
    [gb1] = j1["children"]
    assert (gb1["lot"]["code"], D(gb1["quantity"]), gb1["depth"]) == ("GB1", 40, 2)
    assert sorted((s["customer_name"], D(s["quantity"])) for s in j1["shipments"]) == [
        ("Big Box", 120), ("Corner Deli", 100), ("Farm Shop", 30)]
    assert [(s["customer_name"], D(s["quantity"])) for s in gb1["shipments"]] == [("Corner Deli", 10)]
    assert (j1["lot_count"], j1["partner_count"]) == (1, 3)
    assert {(x["lot"]["code"], x["direction"], x["depth"]) for x in t["lots"]} == {
        ("R1", "start", 0), ("J1", "forward", 1), ("J2", "forward", 1), ("GB1", "forward", 2)}
    assert sorted({s["customer_name"] for s in t["shipments"]}) == ["Big Box", "Cafe Uno", "Corner Deli", "Farm Shop"]


def test_backward_from_the_gift_box_reaches_the_suppliers_with_their_lot_codes(api: Api, case: Case) -> None:
    t = api.get(f"/trace/lots/{case.gb1}?direction=backward").json
    [root] = t["backward"]
    [j1] = root["children"]
    assert (j1["lot"]["code"], D(j1["quantity"])) == ("J1", 40)
    r1, s1 = j1["children"]
    assert (r1["lot"]["code"], D(r1["quantity"]), r1["depth"]) == ("R1", 60, 2)
    assert (s1["lot"]["code"], D(s1["quantity"])) == ("S1", 40)
    assert r1["lot"]["supplier_name"] == "Berry Farm" and r1["lot"]["supplier_lot_code"] == "RB-7731"
    assert [(x["supplier_name"], D(x["quantity"])) for x in r1["receipts"]] == [("Berry Farm", 100)]
    assert root["partner_count"] == 2
    assert sorted(x["supplier_name"] for x in t["suppliers"]) == ["Berry Farm", "Sugar Co"]


def test_both_directions_by_default(api: Api, case: Case) -> None:
    t = api.get(f"/trace/lots/{case.j1}").json
    assert _codes(t["backward"][0]["children"]) == ["R1", "S1"]
    assert _codes(t["forward"][0]["children"]) == ["GB1"]


@pytest.mark.parametrize("query", [
    "supplier_lot_code=RB-7731",
    "scan=(01)09501101530003(10)J1",
    "scan=J1",
    "scan=RB-7731",
    "sku=JAM-RASP&lot_code=J1",
])
def test_every_starting_point_finds_the_lot(api: Api, case: Case, query: str) -> None:
    r = api.get(f"/trace?{query}&direction=forward")
    assert r.status_code == 200, r.json
    assert _codes(r.json["forward"]) in (["J1"], ["R1"])


def test_a_shipment_and_a_product_range_start_from_all_their_lots(api: Api, case: Case) -> None:
    t = api.get(f"/trace?shipment={case.shipment_j1_deli}&direction=backward").json
    assert _codes(t["backward"]) == ["J1"]
    day = TODAY.isoformat()
    t = api.get(f"/trace?sku=JAM-RASP&from={day}&to={day}&direction=forward").json
    assert sorted(_codes(t["forward"])) == ["J1", "J2"]


def test_a_digital_link_scan_is_a_starting_point(api: Api, case: Case) -> None:
    t = api.get("/trace?scan=https://id.gs1.org/01/09501101530003/10/J2&direction=backward").json
    assert _codes(t["backward"]) == ["J2"]


@pytest.mark.parametrize(("query", "status", "field"), [
    ("", 422, None),
    ("supplier_lot_code=X&shipment=Y", 422, None),
    ("supplier_lot_code=NOPE", 404, "supplier_lot_code"),
    ("shipment=SH-999999", 404, "shipment"),
    ("scan=nothing-like-this", 404, "scan"),
    ("scan=09501101530003", 422, "scan"),
    ("sku=NOPE&from=2026-01-01", 404, "sku"),
    ("sku=JAM-RASP&from=2026-02-01&to=2026-01-01", 422, None),
    ("sku=RASP&lot_code=NOPE", 404, "lot_code"),
    ("sku=RASP&lot_code=R1&direction=sideways", 422, "direction"),
])
def test_bad_trace_requests_are_clear_4xx(api: Api, case: Case, query: str, status: int, field: str | None) -> None:
    r = api.get(f"/trace?{query}")
    assert r.status_code == status, r.json
    if field:
        assert r.json["error"]["field"] == field
    assert r.json["error"]["message"]


def test_an_unknown_lot_is_404_and_viewers_may_trace(api: Api, case: Case, api_as: Any) -> None:
    assert api.get("/trace/lots/99999").status_code == 404
    assert api_as(Role.VIEWER).get(f"/trace/lots/{case.j1}").status_code == 200


def test_a_cycle_in_the_genealogy_ends_the_query(api: Api, case: Case, session: Session) -> None:
    # Genealogy from bookings cannot loop, but a bad import could: GB1 recorded as an input of R1.
    run_id = session.get_one(LotLink, 1).run_id
    session.execute(insert(LotLink).values(input_lot_id=case.gb1, output_lot_id=case.r1, run_id=run_id,
                                           quantity=D(1)))
    session.commit()
    found = links(session, [case.r1], "forward")
    assert {(x.input_lot_id, x.output_lot_id) for x in found} == {
        (case.r1, case.j1), (case.r1, case.j2), (case.j1, case.gb1), (case.gb1, case.r1)}
    w = walk(session, [case.r1], "forward")
    assert {r.lot_id: r.depth for r in w.reached.values()} == {case.j1: 1, case.j2: 1, case.gb1: 2}
    t = trace(session, [case.j1], "both")
    assert _codes(t.model_dump()["forward"]) == ["J1"]
    assert {x.lot.code for x in t.lots} == {"J1", "GB1", "R1", "S1", "J2"}
    r = api.get(f"/trace/lots/{case.r1}")
    assert r.status_code == 200


def test_shared_inputs_are_expanded_once_and_marked_when_repeated(api: Api, site: dict[str, Any],
                                                                 session: Session) -> None:
    rasp = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "RX"}]}).json["lines"][0]["lot_id"]
    a = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN", "lot_code": "A",
                                      "inputs": [{"lot_id": rasp, "quantity": "5"}]}).json["output_lot_id"]
    api.post("/products", {"sku": "MIX", "name": "Mix", "unit": "ea"})
    api.post("/production-runs", {"sku": "MIX", "quantity": "3", "location": "KITCHEN", "lot_code": "M",
                                  "inputs": [{"lot_id": a, "quantity": "2"}, {"lot_id": rasp, "quantity": "1"}]})
    # RX → A → M and RX → M: M is reached twice; the tree expands it once.
    t = api.get(f"/trace/lots/{rasp}?direction=forward").json
    root = t["forward"][0]
    assert root["lot_count"] == 2
    kids = {c["lot"]["code"]: c for c in root["children"]}
    nested = kids["A"]["children"][0]
    flags = sorted([nested["repeated"], kids["M"]["repeated"]])
    assert flags == [False, True]


def test_a_lot_code_shared_by_two_products_must_name_the_product(api: Api, case: Case) -> None:
    r = api.post("/receipts", {"supplier_id": case.ids["sugar_supplier"], "lines": [
        {"sku": "SUGAR", "quantity": "5", "location": "DRY-01", "lot_code": "J1"}]})
    assert r.status_code == 201, r.json
    r = api.get("/trace?scan=J1")
    assert r.status_code == 422
    assert "JAM-RASP (" in r.json["error"]["message"] and "SUGAR (" in r.json["error"]["message"]
    assert [c["sku"] for c in r.json["error"]["candidates"]] == ["JAM-RASP", "SUGAR"]
    assert api.get("/trace?sku=SUGAR&lot_code=J1").status_code == 200
    r = api.post("/recalls", {"scans": ["J1"], "reason": "ambiguous"})
    assert r.status_code == 422 and r.json["error"]["field"] == "scans.0"
