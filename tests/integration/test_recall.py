"""Recalls: the hand-computed jam case, holds, notifications, closing, drills, and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Balance, LotStatusChange, Role
from app.queries.check import check_ledger
from tests.helpers.api import TODAY, Api
from tests.helpers.recall_case import Case, build

D = Decimal


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build(api, site, session)


def _lots(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {x["lot"]["code"]: x for x in body["report"]["lots"]}


def _balance(body: dict[str, Any], code: str) -> dict[str, D]:
    row = next(m for m in body["report"]["mass_balance"] if m["lot_code"] == code)
    return {k: D(v) for k, v in row.items() if k not in ("lot_id", "sku", "lot_code", "unit")}


def test_the_jam_recall_lists_exactly_the_right_customers_quantities_stock_and_balances(
        api: Api, case: Case, session: Session) -> None:
    r = api.post("/recalls", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}], "scope": "upstream",
                              "via": [{"sku": "RASP", "lot_code": "R1"}], "reason": "glass fragment complaint"})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["number"].startswith("RC-") and body["status"] == "open"

    lots = _lots(body)
    # One bad batch → its raspberry lot → every batch made from it; the sugar lot stays out.
    assert {code: (x["role"], x["depth"]) for code, x in lots.items()} == {
        "J1": ("start", 0), "R1": ("input", -1), "J2": ("output", 1), "GB1": ("output", 1)}
    assert all(x["lot"]["status"] == "recalled" for x in lots.values())
    assert {code: D(x["on_hand"]) for code, x in lots.items()} == {"J1": 85, "R1": 10, "J2": 150, "GB1": 10}

    consignees = {c["customer"]["name"]: c for c in body["report"]["consignees"]}
    assert sorted(consignees) == ["Big Box", "Cafe Uno", "Corner Deli", "Farm Shop"]
    deli = consignees["Corner Deli"]
    assert deli["customer"]["contact_name"] == "Dev Patel"
    assert deli["customer"]["phone"] == "+44 1632 960002"
    assert deli["customer"]["email"] == "dev@deli.example"
    assert deli["customer"]["address"] == "1 High St"
    assert sorted((x["lot_code"], D(x["quantity"])) for x in deli["lines"]) == [("GB1", 10), ("J1", 100)]
    assert all(x["shipment_number"].startswith("SH-") and x["shipped_on"] for x in deli["lines"])
    assert sorted((x["lot_code"], D(x["quantity"])) for x in consignees["Big Box"]["lines"]) == [
        ("J1", 50), ("J1", 70)]
    assert D(consignees["Big Box"]["shipped"]["ea"]) == 120
    assert [(x["lot_code"], D(x["quantity"])) for x in consignees["Farm Shop"]["lines"]] == [("J1", 30)]
    assert [(x["lot_code"], D(x["quantity"])) for x in consignees["Cafe Uno"]["lines"]] == [("J2", 50)]

    stock = sorted((s["lot_code"], s["location"], D(s["on_hand"])) for s in body["report"]["stock"])
    assert stock == [("GB1", "KITCHEN", 10), ("J1", "DRY-01", 50), ("J1", "KITCHEN", 35),
                     ("J2", "KITCHEN", 150), ("R1", "COLD-01", 10)]

    j1 = _balance(body, "J1")
    assert j1 == {"received": 0, "produced": 400, "returned": 0, "adjusted": -5, "moved": 0, "consumed": 40,
                  "shipped": 250, "written_off": 20, "on_hand": 85, "remainder": 0}
    assert 400 - 5 == 40 + 250 + 20 + 85  # the hand computation the row must agree with
    assert _balance(body, "R1") == {"received": 100, "produced": 0, "returned": 0, "adjusted": 0, "moved": 0,
                                    "consumed": 90, "shipped": 0, "written_off": 0, "on_hand": 10,
                                    "remainder": 0}
    assert _balance(body, "GB1")["shipped"] == 10 and _balance(body, "GB1")["on_hand"] == 10
    assert _balance(body, "J2")["shipped"] == 50 and _balance(body, "J2")["on_hand"] == 150
    assert body["report"]["totals"]["unbalanced_lots"] == 0

    # Everything that went into the start lot, back to the suppliers' own lot codes.
    supplier, sugar = body["report"]["suppliers"]
    assert (sugar["supplier"]["name"], sugar["lot"]["code"]) == ("Sugar Co", "S1")
    assert supplier["supplier"]["name"] == "Berry Farm"
    assert supplier["supplier"]["contact_name"] == "Ann Berry"
    assert supplier["lot"]["supplier_lot_code"] == "RB-7731"
    assert [D(x["quantity"]) for x in supplier["receipts"]] == [100]

    # Every affected lot got one status change, and the ledger is untouched.
    changes = session.scalars(select(LotStatusChange).where(LotStatusChange.new_status == "recalled")).all()
    assert sorted(c.lot_id for c in changes) == sorted([case.j1, case.r1, case.j2, case.gb1])
    assert check_ledger(session) == []


def test_a_forward_recall_reaches_only_what_was_made_from_the_lot(api: Api, case: Case) -> None:
    body = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "label misprint"}).json
    assert set(_lots(body)) == {"J1", "GB1"}
    assert sorted(c["customer"]["name"] for c in body["report"]["consignees"]) == [
        "Big Box", "Corner Deli", "Farm Shop"]
    # The suppliers of what went into the batch are still listed, with their lot codes.
    assert sorted(u["lot"]["code"] for u in body["report"]["suppliers"]) == ["R1", "S1"]
    assert api.get(f"/lots/{case.s1}").json["status"] == "released"


def test_an_upstream_recall_without_chosen_inputs_goes_through_every_input(api: Api, case: Case) -> None:
    body = api.post("/recalls", {"lots": [{"lot_id": case.gb1}], "scope": "upstream", "reason": "allergen"}).json
    assert set(_lots(body)) == {"GB1", "J1", "R1", "S1", "J2"}


def test_a_recall_from_a_scanned_label(api: Api, case: Case) -> None:
    # JAM-RASP has GTIN 09501101530003; the label carries (01) GTIN and (10) lot.
    r = api.post("/recalls", {"scans": ["(01)09501101530003(10)J2"], "reason": "scan"})
    assert r.status_code == 201, r.json
    assert [x["code"] for x in r.json["report"]["starts"]] == ["J2"]


def test_recalled_lots_can_no_longer_be_shipped_or_used(api: Api, case: Case) -> None:
    api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "test"})
    order = api.post("/orders", {"customer_id": case.deli, "warehouse": "MAIN",
                                 "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}).json
    r = api.post("/shipments", {"order_id": order["id"], "lines": [
        {"lot_id": case.j1, "location": "KITCHEN", "quantity": "1"}]})
    assert r.status_code == 409
    assert "recalled" in r.json["error"]["message"]


def test_notifications_effectiveness_and_closing(api: Api, case: Case, api_as: Any) -> None:
    rid = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "test"}).json["id"]
    operator = api_as(Role.OPERATOR)
    r = operator.post(f"/recalls/{rid}/notifications", {
        "customer_id": case.bigbox, "method": "phone", "contact": "Store manager",
        "response": "pulled from shelves", "quantity_returned": "100", "quantity_destroyed": "20"})
    assert r.status_code == 201, r.json
    [note] = r.json["notifications"]
    assert note["customer_name"] == "Big Box" and note["recorded_by"] == "u-operator"
    eff = r.json["effectiveness"]
    assert (eff["consignees"], eff["notified"], eff["responded"]) == (3, 1, 1)
    assert D(eff["recovered"]["ea"]) == 120
    assert sorted(eff["not_notified"]) == ["Corner Deli", "Farm Shop"]

    # Big Box only got 120 ea: reporting one more back is refused, nothing recorded.
    r = operator.post(f"/recalls/{rid}/notifications", {"customer_id": case.bigbox, "method": "email",
                                                        "quantity_destroyed": "1"})
    assert r.status_code == 409
    # Cafe Uno received none of this recall's lots.
    r = operator.post(f"/recalls/{rid}/notifications", {"customer_id": case.cafe, "method": "email"})
    assert r.status_code == 422 and r.json["error"]["field"] == "customer_id"
    assert len(api.get(f"/recalls/{rid}").json["notifications"]) == 1

    # Operators record contacts but cannot close; managers close once.
    assert operator.post(f"/recalls/{rid}/close", {"outcome": "release", "reason": "x"}).status_code == 403
    r = api.post(f"/recalls/{rid}/close", {"outcome": "release", "reason": "lab found no glass"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "closed" and r.json["outcome"] == "release"
    assert api.get(f"/lots/{case.j1}").json["status"] == "released"
    assert api.get(f"/lots/{case.gb1}").json["status"] == "released"
    again = api.post(f"/recalls/{rid}/close", {"outcome": "keep_recalled", "reason": "again"})
    assert again.status_code == 409
    assert api.get(f"/recalls/{rid}").json["outcome"] == "release"
    r = operator.post(f"/recalls/{rid}/notifications", {"customer_id": case.deli, "method": "phone"})
    assert r.status_code == 409


def test_releasing_restores_a_held_lot_to_hold_and_keeping_keeps_it_recalled(api: Api, case: Case) -> None:
    assert api.post(f"/lots/{case.gb1}/hold", {"reason": "seal check"}).status_code == 200
    rid = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "test"}).json["id"]
    assert api.get(f"/lots/{case.gb1}").json["status"] == "recalled"
    api.post(f"/recalls/{rid}/close", {"outcome": "release", "reason": "ok"})
    gb1 = api.get(f"/lots/{case.gb1}").json
    assert (gb1["status"], gb1["hold_reason"]) == ("hold", "seal check")

    rid = api.post("/recalls", {"lots": [{"lot_id": case.j2}], "reason": "second"}).json["id"]
    api.post(f"/recalls/{rid}/close", {"outcome": "keep_recalled", "reason": "destroyed"})
    assert api.get(f"/lots/{case.j2}").json["status"] == "recalled"


def test_a_lot_in_another_open_recall_stays_recalled_when_one_closes(api: Api, case: Case) -> None:
    first = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "one"}).json["id"]
    second = api.post("/recalls", {"lots": [{"lot_id": case.r1}], "reason": "two"}).json
    assert "J1" in _lots(second)
    api.post(f"/recalls/{first}/close", {"outcome": "release", "reason": "ok"})
    assert api.get(f"/lots/{case.j1}").json["status"] == "recalled"


def test_an_unaccounted_remainder_is_shown(api: Api, case: Case, session: Session) -> None:
    # A balance that disagrees with the ledger (say, a bad import) must surface in the mass balance.
    session.execute(update(Balance).where(Balance.lot_id == case.r1).values(on_hand=Balance.on_hand - 1))
    session.commit()
    body = api.post("/recalls", {"lots": [{"lot_id": case.r1}], "reason": "check"}).json
    assert _balance(body, "R1")["remainder"] == 1
    assert body["report"]["totals"]["unbalanced_lots"] == 1


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"lots": [{"lot_id": 999999}], "reason": "x"}, 404, "lots.0.lot_id"),
    ({"lots": [], "reason": "x"}, 422, None),
    ({"lots": [{"sku": "RASP", "lot_code": "NOPE"}], "reason": "x"}, 404, "lots.0.lot_code"),
    ({"lots": [{"lot_id": 1}], "reason": ""}, 422, "reason"),
    ({"lots": [{"lot_id": 1}], "scope": "sideways", "reason": "x"}, 422, "scope"),
    ({"lots": [{"lot_id": 1}], "via": [{"lot_id": 1}], "reason": "x"}, 422, None),
    ({"scans": ["(01)09501101530003"], "reason": "x"}, 422, "scans.0"),
])
def test_bad_recall_requests_are_refused_and_change_nothing(api: Api, case: Case, payload: dict[str, Any],
                                                            status: int, field: str | None) -> None:
    r = api.post("/recalls", payload)
    assert r.status_code == status, r.json
    if field:
        assert r.json["error"]["field"] == field
    assert api.get("/recalls").json == []
    assert api.get(f"/lots/{case.j1}").json["status"] == "released"


def test_a_via_lot_that_is_not_an_input_is_refused(api: Api, case: Case) -> None:
    r = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "scope": "upstream", "via": [{"lot_id": case.j2}],
                              "reason": "x"})
    assert r.status_code == 422 and r.json["error"]["field"] == "via.0"


def test_a_recall_on_a_lot_already_recalled_is_a_conflict(api: Api, case: Case, session: Session) -> None:
    assert api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "one"}).status_code == 201
    before = session.scalar(select(func.count()).select_from(LotStatusChange))
    r = api.post("/recalls", {"lots": [{"lot_id": case.gb1}], "reason": "two"})
    assert r.status_code == 409
    assert len(api.get("/recalls").json) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(LotStatusChange)) == before


def test_unknown_recall_is_404_and_roles_are_enforced(api: Api, case: Case, api_as: Any) -> None:
    assert api.get("/recalls/12345").status_code == 404
    assert api.post("/recalls/12345/close", {"outcome": "release", "reason": "x"}).status_code == 404
    viewer = api_as(Role.VIEWER)
    assert viewer.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "x"}).status_code == 403
    assert viewer.post("/drills", {"lots": [{"lot_id": case.j1}]}).status_code == 403
    assert viewer.get("/recalls").status_code == 200


def test_a_drill_produces_the_same_report_without_holds_and_is_kept(api: Api, case: Case) -> None:
    r = api.post("/drills", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}], "scope": "upstream",
                             "via": [{"lot_id": case.r1}]})
    assert r.status_code == 201, r.json
    drill = r.json
    assert drill["number"].startswith("MD-") and drill["duration_ms"] >= 0
    assert (drill["lot_count"], drill["consignee_count"], drill["unbalanced_count"]) == (4, 4, 0)
    assert sorted(c["customer"]["name"] for c in drill["report"]["consignees"]) == [
        "Big Box", "Cafe Uno", "Corner Deli", "Farm Shop"]
    # No holds: every lot is still released and can ship.
    assert {x["lot"]["status"] for x in drill["report"]["lots"]} == {"released"}
    assert api.get(f"/lots/{case.j1}").json["status"] == "released"
    history = api.get("/drills").json
    assert [d["number"] for d in history] == [drill["number"]]
    assert api.get(f"/drills/{drill['id']}").json["report"] == drill["report"]
    assert api.get("/drills/999").status_code == 404
    assert api.post("/drills", {"lots": [{"lot_id": 999999}]}).status_code == 404
    assert len(api.get("/drills").json) == 1


def test_opening_a_recall_releases_the_allocations_of_its_lots(api: Api, case: Case) -> None:
    order = api.post("/orders", {"customer_id": case.deli, "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "10"}]}).json
    r = api.post(f"/orders/{order['id']}/allocate")
    assert r.status_code == 200, r.json
    [allocation] = r.json["allocations"]
    assert allocation["lot_id"] == case.j1 and allocation["state"] == "open"  # the only pickable jam: DRY-01
    assert api.post("/recalls", {"lots": [{"lot_id": case.j1}], "reason": "glass"}).status_code == 201
    [released] = api.get(f"/lots/{case.j1}/allocations").json
    assert released["state"] == "released" and "RC-000001" in released["reason"]
    after = api.get(f"/orders/{order['id']}/allocations").json
    assert not [a for a in after["allocations"] if a["state"] == "open"]
