"""Expiring stock: alert windows, who could still take a lot under its shelf-life rules, holds, never shipping it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.queries.expiry import Filters, expired_stock, expiring_stock, expiry_summary
from app.schemas import ExpiredWriteOffIn, HoldIn
from app.services import stock, writeoffs
from tests.helpers.api import TODAY, Api

D = Decimal
ON = date(2026, 3, 1)


def test_lots_within_their_window_and_expired_lots_are_listed_per_location(shelf: dict[str, int],
                                                                           session: Session) -> None:
    rows = expiring_stock(session, today=ON, default_alert_days=30)
    assert [(r.lot_code, r.location, r.on_hand, r.days_left, r.expired, r.alert_days) for r in rows] == [
        ("R0", "COLD-01", D(30), -9, True, 30),
        ("R1", "COLD-01", D(40), 14, False, 30),
        ("J1", "DOCK", D(50), 40, False, 45),
        ("J1", "KITCHEN", D(250), 40, False, 45),
    ]
    assert [r.value for r in rows] == [D(120), D(168), D("38.5"), D("192.5")]
    # RASP follows the site default: with 10 days R1 (14 days away) drops out; the jam keeps its own 45.
    assert [r.lot_code for r in expiring_stock(session, today=ON, default_alert_days=10)] == ["R0", "J1", "J1"]
    summary = expiry_summary(session, Filters(ON, 30))
    assert (summary.expired_lots, summary.expired_value, summary.expiring_lots, summary.expiring_value) == (
        1, D(120), 2, D(399))
    assert [r.lot_code for r in expiring_stock(session, today=ON, default_alert_days=30, expired_only=True)] == ["R0"]
    assert [r.location for r in expiring_stock(session, today=ON, default_alert_days=30, sku="JAM-RASP")] == [
        "DOCK", "KITCHEN"]
    # Sugar (2027) never shows; a longer site default brings nothing else in.
    assert "S1" not in [r.lot_code for r in expiring_stock(session, today=ON, default_alert_days=300)]


def test_customers_who_could_still_take_each_lot_and_until_when(shelf: dict[str, int], session: Session) -> None:
    rows = {(r.lot_code, r.location): r for r in expiring_stock(session, today=ON, default_alert_days=30)}
    # Expired: nobody. R1 has 14 days left: only the cafe, which has no rule, until the expiry day itself.
    assert rows["R0", "COLD-01"].customers == []
    assert [(c.name, c.until) for c in rows["R1", "COLD-01"].customers] == [("Quick Cafe", date(2026, 3, 15))]
    # J1 expires 10 Apr: the deli needs 30 days → ship by 11 Mar, and it buys the jam, so it comes first;
    # Big Box needs 92 days and Pct Shop half of the 90-day life (ship by 24 Feb): both too late.
    jam = rows["J1", "KITCHEN"].customers
    assert [(c.name, c.until, c.buys_it) for c in jam] == [
        ("Corner Deli", date(2026, 3, 11), True), ("Quick Cafe", date(2026, 4, 10), False)]
    on_the_24th = expiring_stock(session, today=date(2026, 2, 24), default_alert_days=30, sku="JAM-RASP")
    assert ("Pct Shop", date(2026, 2, 24)) in [(c.name, c.until) for c in on_the_24th[0].customers]
    limited = expiring_stock(session, today=ON, default_alert_days=30, sku="JAM-RASP", max_customers=1)
    assert ([c.name for c in limited[0].customers], limited[0].more_customers) == (["Corner Deli"], 1)


def test_a_held_lot_has_no_takers_until_released(shelf: dict[str, int], session: Session) -> None:
    stock.hold_lot(session, shelf["J1"], HoldIn(reason="check the seals"), user=None)
    rows = expiring_stock(session, today=ON, default_alert_days=30, sku="JAM-RASP")
    assert [(r.status.value, r.customers) for r in rows] == [("hold", []), ("hold", [])]


def test_the_api_lists_expiring_stock_for_today(api: Api, site: dict[str, Any]) -> None:
    def lot(code: str, received: int, expires: int) -> int:
        r = api.post("/receipts", {"supplier_id": site["supplier"], "received_on": str(TODAY - timedelta(received)),
                                   "lines": [{"sku": "RASP", "quantity": "10", "location": "COLD-01",
                                              "lot_code": code, "unit_cost": "2",
                                              "expiry": str(TODAY + timedelta(expires))}]})
        assert r.status_code == 201, r.json
        return int(r.json["lines"][0]["lot_id"])

    api.post("/customers", {"name": "Quick Cafe"})
    lot("OLD", 40, -1)
    lot("SOON", 40, 10)
    lot("LATER", 5, 100)
    r = api.get("/expiring")
    assert r.status_code == 200
    assert [(x["lot_code"], x["expired"], x["on_hand"], x["value"]) for x in r.json] == [
        ("OLD", True, "10", "20"), ("SOON", False, "10", "20")]
    assert [(c["name"], c["until"]) for c in r.json[1]["customers"]] == [("Quick Cafe", str(TODAY + timedelta(10)))]
    assert r.json[0]["customers"] == []
    assert [x["lot_code"] for x in api.get("/expiring?expired_only=true").json] == ["OLD"]
    assert api.get("/expiring?warehouse=NOPE").json == []
    assert api.get("/expiring?bogus=1").status_code == 422
    # Pages in urgency order, and the stock that can still be sold on its own.
    assert [x["lot_code"] for x in api.get("/expiring?limit=1&offset=1").json] == ["SOON"]
    assert [x["lot_code"] for x in api.get("/expiring?expiring_only=true").json] == ["SOON"]
    both = api.get("/expiring?expired_only=true&expiring_only=true")
    assert both.status_code == 422 and "expiring_only" in both.json["error"]["message"]
    assert api.get("/expiring?limit=0").json["error"]["field"] == "limit"
    summary = api.get("/expiring/summary").json
    assert (summary["expired_lots"], summary["expired_value"], summary["expiring_lots"], summary["expiring_value"]) \
        == (1, "20", 1, "20")
    monday = TODAY + timedelta(10) - timedelta((TODAY + timedelta(10)).weekday())
    assert [(w["sku"], w["expired"], w["week"], w["lots"], w["on_hand"]) for w in summary["weeks"]] == [
        ("RASP", True, str(TODAY - timedelta(1) - timedelta((TODAY - timedelta(1)).weekday())), 1, "10"),
        ("RASP", False, str(monday), 1, "10")]
    assert summary["rows"] == [] and summary["more_weeks"] == 0


def test_expired_lots_are_never_shipped_or_consumed(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "received_on": str(TODAY - timedelta(30)),
                               "lines": [{"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "OLD",
                                          "expiry": str(TODAY - timedelta(1))}]})
    old = r.json["lines"][0]["lot_id"]
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN",
                                      "inputs": [{"lot_id": old, "quantity": "1"}]})
    assert r.status_code == 409 and "expired" in r.json["error"]["message"]
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": str(TODAY),
                                 "lines": [{"sku": "RASP", "quantity": "5"}]}).json
    r = api.post("/shipments", {"order_id": order["id"], "lines": [
        {"lot_id": old, "location": "COLD-01", "quantity": "5"}]})
    assert r.status_code == 409 and "expired" in r.json["error"]["message"]
    assert api.get(f"/lots/{old}").json["on_hand"] == "10"


def test_the_bulk_write_off_lists_the_oldest_rows_and_confirms_them_against_all_expired_stock(
        shelf: dict[str, int], session: Session) -> None:
    later = date(2026, 4, 20)  # R0, R1 and both J1 rows are past their expiry
    everything = expired_stock(session, today=later)
    first = expired_stock(session, today=later, limit=2)
    assert [(r.lot_code, r.location) for r in first.rows] == [("R0", "COLD-01"), ("R1", "COLD-01")]
    assert (first.total_rows, first.version, first.all_value) == (4, everything.version, everything.total_value)
    assert first.total_value == D(120) + D(168)
    rows = [{"lot_id": r.lot_id, "location_id": r.location_id, "quantity": r.on_hand} for r in first.rows]
    batch = writeoffs.write_off_expired(session, ExpiredWriteOffIn.model_validate(
        {"version": first.version, "rows": rows}), user=None, today=later)
    assert len(batch.write_offs) == 2
    assert [r.lot_code for r in expired_stock(session, today=later, limit=2).rows] == ["J1", "J1"]
