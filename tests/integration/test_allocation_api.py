"""Allocation through the API: customers' shelf-life rules, holds, pick scans, shipping picks, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused, snapshot


def _order(api: Api, customer_id: int, quantity: str = "10", sku: str = "JAM-RASP", days: int = 0) -> int:
    r = api.post("/orders", {"customer_id": customer_id, "warehouse": "MAIN",
                             "ship_date": (TODAY + timedelta(days=days)).isoformat(),
                             "lines": [{"sku": sku, "quantity": quantity}]})
    assert r.status_code == 201, r.json
    return int(r.json["id"])


def _lot(api: Api, site: dict[str, Any], code: str, days: int, quantity: str = "10",
         location: str = "DRY-01") -> int:
    return int(receive(api, site["supplier"], "JAM-RASP", quantity, location=location, lot_code=code,
                       expiry=(TODAY + timedelta(days=days)).isoformat())["lot_id"])


def _lots_of(api: Api, order_id: int, state: str = "open") -> dict[str, str]:
    r = api.get(f"/orders/{order_id}/allocations")
    assert r.status_code == 200, r.json
    return {a["lot_code"]: a["quantity"] for a in r.json["allocations"] if a["state"] == state}


@pytest.fixture
def two_lots(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """Lots expiring in 40 and 120 days, 10 jars each."""
    return {**site, "L40": _lot(api, site, "L40", 40), "L120": _lot(api, site, "L120", 120)}


@pytest.mark.parametrize("first", ["deli", "bigbox"])
def test_each_customer_gets_the_lot_its_rule_allows_whichever_order_came_first(
        api: Api, two_lots: dict[str, Any], first: str) -> None:
    second = "bigbox" if first == "deli" else "deli"
    orders = {first: _order(api, two_lots[first]), second: _order(api, two_lots[second])}
    for who in (first, second):
        r = api.post(f"/orders/{orders[who]}/allocate")
        assert r.status_code == 200, r.json
        assert r.json["shortages"] == []
    assert _lots_of(api, orders["deli"]) == {"L40": "10"}
    assert _lots_of(api, orders["bigbox"]) == {"L120": "10"}


@pytest.mark.parametrize("first", ["deli", "bigbox"])
def test_a_wave_gives_each_customer_the_lot_its_rule_allows(api: Api, two_lots: dict[str, Any], first: str) -> None:
    second = "bigbox" if first == "deli" else "deli"
    orders = {first: _order(api, two_lots[first]), second: _order(api, two_lots[second])}
    r = api.post("/allocations/wave", {"ship_by": TODAY.isoformat()})
    assert r.status_code == 200, r.json
    assert r.json["allocated"] == "20" and r.json["shortages"] == []
    assert _lots_of(api, orders["deli"]) == {"L40": "10"}
    assert _lots_of(api, orders["bigbox"]) == {"L120": "10"}


def test_a_short_line_says_why_in_words_and_new_stock_fills_it(api: Api, two_lots: dict[str, Any]) -> None:
    big = _order(api, two_lots["bigbox"], "15")
    r = api.post(f"/orders/{big}/allocate")
    assert r.json["allocated"] == "10"
    [short] = r.json["shortages"]
    assert short["missing"] == "5"
    assert any("L40" in reason and "Big Box needs ≥ 90 days" in reason for reason in short["reasons"]), short
    assert api.get(f"/orders/{big}/allocations").json["shortages"][0]["missing"] == "5"
    _lot(api, two_lots, "L200", 200)
    r = api.post("/allocations/reallocate-shortages")
    assert r.status_code == 200 and r.json["allocated"] == "5", r.json
    assert _lots_of(api, big) == {"L120": "10", "L200": "5"}
    assert api.get(f"/orders/{big}/allocations").json["shortages"] == []


def test_allocating_twice_allocates_nothing_more(api: Api, two_lots: dict[str, Any]) -> None:
    deli = _order(api, two_lots["deli"], "5")
    api.post(f"/orders/{deli}/allocate")
    r = api.post(f"/orders/{deli}/allocate")
    assert r.json["allocated"] == "0" and r.json["allocations"] == []
    assert _lots_of(api, deli) == {"L40": "5"}


def test_a_hold_on_a_lot_reallocates_its_lines(api: Api, two_lots: dict[str, Any]) -> None:
    deli = _order(api, two_lots["deli"], "8")
    big = _order(api, two_lots["bigbox"], "10")
    api.post("/allocations/wave", {"ship_by": TODAY.isoformat()})
    r = api.post(f"/lots/{two_lots['L40']}/hold", {"reason": "seal check"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "hold"
    # The hold's answer itself says what could not be re-allocated, and why.
    assert [x["order_id"] for x in r.json["allocations"]["shortages"]] == [deli]
    assert any("on hold" in x for x in r.json["allocations"]["shortages"][0]["reasons"])
    assert {x["lot_code"] for x in r.json["allocations"]["released"]} == {"L40"}
    # Big Box holds all of the 120-day lot, so Corner Deli's line is left short and says why.
    assert _lots_of(api, deli) == {}
    history = api.get(f"/lots/{two_lots['L40']}/allocations").json
    assert history[0]["state"] == "released" and "put on hold: seal check" in history[0]["reason"]
    shortages = api.get(f"/orders/{deli}/allocations").json["shortages"]
    assert shortages and any("L40" in x and "on hold" in x for x in shortages[0]["reasons"]), shortages
    assert _lots_of(api, big) == {"L120": "10"}


def test_a_hold_moves_the_line_to_the_next_eligible_lot(api: Api, two_lots: dict[str, Any]) -> None:
    deli = _order(api, two_lots["deli"], "6")
    api.post(f"/orders/{deli}/allocate")
    assert _lots_of(api, deli) == {"L40": "6"}
    assert api.post(f"/lots/{two_lots['L40']}/hold", {"reason": "seal check"}).status_code == 200
    assert _lots_of(api, deli) == {"L120": "6"}
    assert _lots_of(api, deli, "released") == {"L40": "6"}


def test_an_expired_lot_is_never_allocated(api: Api, site: dict[str, Any]) -> None:
    _lot(api, site, "OLD", 3)
    deli = _order(api, site["deli"], "5", days=5)
    r = api.post(f"/orders/{deli}/allocate")
    assert r.json["allocated"] == "0"
    assert "before the ship date" in " ".join(r.json["shortages"][0]["reasons"])


# --- picking ------------------------------------------------------------------------------------


@pytest.fixture
def allocated(api: Api, two_lots: dict[str, Any]) -> dict[str, Any]:
    """Corner Deli's order for 6 on L40 and Big Box's for 4 on L120, with a spare 200-day lot in COLD-01."""
    spare = _lot(api, two_lots, "L200", 200, location="COLD-01")
    deli = _order(api, two_lots["deli"], "6")
    big = _order(api, two_lots["bigbox"], "4")
    api.post("/allocations/wave", {"ship_by": TODAY.isoformat()})
    return {**two_lots, "deli_order": deli, "big_order": big, "L200": spare}


def _pick(api: Api, order_id: int, code: str, quantity: str, location: str = "DRY-01",
          key: str | None = None) -> Any:
    return api.post(f"/orders/{order_id}/picks",
                    {"sku": "JAM-RASP", "lot_code": code, "location": location, "quantity": quantity},
                    headers={"Idempotency-Key": key} if key else None)


def test_the_allocated_lot_confirms_the_pick_and_a_replay_books_once(api: Api, allocated: dict[str, Any]) -> None:
    order = allocated["deli_order"]
    r = _pick(api, order, "L40", "4", key="pick-1")
    assert r.status_code == 200, r.json
    assert r.json["left_to_pick"] == "2" and not r.json["substituted"]
    assert _pick(api, order, "L40", "4", key="pick-1").json == r.json  # the first answer, word for word
    err = refused(_pick(api, order, "L40", "3"), 409, "quantity")
    assert "2 ea of lot L40" in err["message"] or "has 2 ea" in err["message"]
    assert _pick(api, order, "L40", "2").json["left_to_pick"] == "0"
    assert _lots_of(api, order, "picked") == {"L40": "6"}


def test_an_ineligible_lot_is_refused_with_the_reason(api: Api, allocated: dict[str, Any], session: Session) -> None:
    before = snapshot(session)
    err = refused(_pick(api, allocated["big_order"], "L40", "1"), 409, "lot_id", "lot_blocked")
    assert "Big Box needs ≥ 90 days" in err["message"] and "take lot L120 at DRY-01" in err["message"]
    assert snapshot(session) == before


def test_an_eligible_other_lot_is_refused_unless_substitutes_are_allowed(
        api: Api, allocated: dict[str, Any], app: Flask, session: Session) -> None:
    order = allocated["deli_order"]
    before = snapshot(session)
    err = refused(_pick(api, order, "L200", "2", location="COLD-01"), 409, "lot_id")
    assert "not allocated to order" in err["message"] and "take lot L40 at DRY-01 (6 ea)" in err["message"]
    assert snapshot(session) == before
    app.config["ALLOW_PICK_SUBSTITUTES"] = True
    r = _pick(api, order, "L200", "2", location="COLD-01")
    assert r.status_code == 200 and r.json["substituted"], r.json
    assert _lots_of(api, order, "picked") == {"L200": "2"}
    assert _lots_of(api, order) == {"L40": "4"}


def test_a_lot_of_another_order_is_refused_naming_the_orders(api: Api, allocated: dict[str, Any]) -> None:
    big_number = api.get(f"/orders/{allocated['big_order']}").json["number"]
    deli_number = api.get(f"/orders/{allocated['deli_order']}").json["number"]
    err = refused(_pick(api, allocated["deli_order"], "L120", "1"), 409, "lot_id")
    assert big_number in err["message"] and deli_number in err["message"]


def test_a_pick_for_a_product_not_on_the_order_names_the_order(api: Api, allocated: dict[str, Any]) -> None:
    rasp = receive(api, allocated["supplier"], "RASP", "5", lot_code="R1")["lot_id"]
    number = api.get(f"/orders/{allocated['deli_order']}").json["number"]
    err = refused(api.post(f"/orders/{allocated['deli_order']}/picks",
                           {"lot_id": rasp, "location": "COLD-01", "quantity": "1"}), 409, "lot_id")
    assert number in err["message"]


def test_ship_picked_ships_what_was_picked_per_lot(api: Api, allocated: dict[str, Any]) -> None:
    order = allocated["deli_order"]
    _pick(api, order, "L40", "4")
    r = api.post(f"/orders/{order}/ship-picked")
    assert r.status_code == 201, r.json
    assert [(x["lot_code"], x["quantity"]) for x in r.json["lines"]] == [("L40", "4")]
    assert _lots_of(api, order, "shipped") == {"L40": "4"}
    assert _lots_of(api, order) == {"L40": "2"}
    got = api.get(f"/orders/{order}").json
    assert got["status"] == "partial" and got["lines"][0]["shipped_quantity"] == "4"
    lot = api.get(f"/lots/{allocated['L40']}").json
    assert sum(float(x["on_hand"]) for x in lot["stock"]) == 6


def test_the_pick_list_walks_the_locations_with_lot_barcodes(api: Api, allocated: dict[str, Any],
                                                             client: Any) -> None:
    big = allocated["big_order"]
    # A second line in COLD-01 so the list has two locations.
    deli2 = _order(api, allocated["deli"], "3")
    api.post(f"/orders/{deli2}/allocate")
    wave = api.get(f"/pick-lists/wave?ship_by={TODAY.isoformat()}").json
    assert [r["location"] for r in wave["rows"]] == sorted(r["location"] for r in wave["rows"])
    one = api.get(f"/orders/{big}/pick-list").json
    assert [(r["location"], r["lot_code"], r["quantity"]) for r in one["rows"]] == [("DRY-01", "L120", "4")]
    assert one["rows"][0]["barcode_text"].startswith("(01)09501101530003(17)")
    for paper in ("a4", "letter"):
        r = api.get(f"/orders/{big}/pick-list.pdf?paper={paper}")
        assert r.status_code == 200 and r.data.startswith(b"%PDF")
    refused(api.get(f"/orders/{big}/pick-list.pdf?paper=a3"), 422, "paper")


# --- bad input ----------------------------------------------------------------------------------


def test_bad_allocation_requests_are_refused_and_change_nothing(
        api: Api, two_lots: dict[str, Any], session: Session) -> None:
    deli = _order(api, two_lots["deli"], "5")
    cancelled = _order(api, two_lots["deli"], "5")
    assert api.post(f"/orders/{cancelled}/cancel").status_code == 200
    before = snapshot(session)
    refused(api.post("/orders/999999/allocate"), 404, "order_id")
    refused(api.post(f"/orders/{cancelled}/allocate"), 409, "order_id")
    refused(api.post(f"/orders/{cancelled}/deallocate"), 409, "order_id")
    refused(api.post("/allocations/wave", {"ship_by": (TODAY - timedelta(days=1)).isoformat()}), 422, "ship_by")
    refused(api.post("/allocations/wave", {"ship_by": TODAY.isoformat(), "sku": "NOPE"}), 404, "sku")
    refused(_pick(api, deli, "L40", "0"), 422, "quantity")
    refused(_pick(api, deli, "L40", "-1"), 422, "quantity")
    refused(_pick(api, 999999, "L40", "1"), 404, "order_id")
    refused(api.post(f"/orders/{deli}/ship-picked"), 409, "order_id")
    assert snapshot(session) == before


def test_a_shipped_order_cannot_be_allocated(api: Api, two_lots: dict[str, Any], session: Session) -> None:
    deli = _order(api, two_lots["deli"], "5")
    api.post(f"/orders/{deli}/allocate")
    _pick(api, deli, "L40", "5")
    assert api.post(f"/orders/{deli}/ship-picked").status_code == 201
    before = snapshot(session)
    refused(api.post(f"/orders/{deli}/allocate"), 409, "order_id")
    refused(_pick(api, deli, "L40", "1"), 409, "order_id")
    assert snapshot(session) == before


def test_cancelling_an_order_gives_its_stock_back(api: Api, two_lots: dict[str, Any]) -> None:
    first = _order(api, two_lots["deli"], "10")
    api.post(f"/orders/{first}/allocate")
    api.post(f"/orders/{first}/cancel")
    second = _order(api, two_lots["deli"], "10")
    assert api.post(f"/orders/{second}/allocate").json["allocated"] == "10"
    assert _lots_of(api, second) == {"L40": "10"}


def test_deallocate_gives_back_unpicked_stock_only(api: Api, allocated: dict[str, Any]) -> None:
    order = allocated["deli_order"]
    _pick(api, order, "L40", "2")
    r = api.post(f"/orders/{order}/deallocate")
    assert r.status_code == 200 and [x["quantity"] for x in r.json["released"]] == ["4"]
    assert _lots_of(api, order, "picked") == {"L40": "2"}
    assert _lots_of(api, order) == {}


def test_picks_replayed_from_a_handheld_are_each_users_own_and_rechecked_at_the_gate(
        api: Api, api_as: Any, allocated: dict[str, Any], session: Session) -> None:
    order = allocated["deli_order"]
    picker = api_as(Role.OPERATOR)
    first = _pick(api, order, "L40", "2", key="hh-1")
    assert first.status_code == 200 and first.json["left_to_pick"] == "4"
    # Another picker's device happened on the same key: its pick is its own and books.
    theirs = _pick(picker, order, "L40", "2", key="hh-1")
    assert theirs.status_code == 200 and theirs.json["left_to_pick"] == "2", theirs.json
    # Each replay gets its sender's first answer; nothing more is booked.
    assert _pick(api, order, "L40", "2", key="hh-1").json == first.json
    assert _pick(picker, order, "L40", "2", key="hh-1").json == theirs.json
    refused(_pick(api, order, "L40", "1", key="hh-1"), 422, "Idempotency-Key")
    picked = api.get(f"/orders/{order}/allocations").json["allocations"]
    assert [(a["lot_code"], a["quantity"], a["picked_quantity"]) for a in picked] == [("L40", "6", "4")]

    # A pick saved offline and sent after the lot went on hold is refused with the reason; nothing is booked.
    lot = api.get("/lots?sku=JAM-RASP&code=L40").json[0]
    assert api.post(f"/lots/{lot['id']}/hold", {"reason": "seal damaged"}).status_code == 200
    before = snapshot(session)
    err = refused(_pick(picker, order, "L40", "2", key="hh-2"), 409, "lot_id")
    assert "on hold: seal damaged" in err["message"]
    assert snapshot(session) == before
