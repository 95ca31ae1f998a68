"""Finding lots (every filter) and a lot's detail: stock per location, history, genealogy, shipments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import LotStatus
from app.queries.lots import lot_rows
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused


def _day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
def lots(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """Raspberry lots R1 (expires in 10 days), R2 (in 40), R3 (used up); sugar S1 (on hold); jars without expiry."""
    assert api.post("/products", {"sku": "JAR", "name": "Jar 340 g", "kind": "material"}).status_code == 201
    ids = {
        "R1": receive(api, site["supplier"], "RASP", "10", lot_code="R1", expiry=_day(10),
                      supplier_lot_code="RB-1")["lot_id"],
        "R2": receive(api, site["supplier"], "RASP", "20", lot_code="R2", expiry=_day(40),
                      supplier_lot_code="RB-2")["lot_id"],
        "R3": receive(api, site["supplier"], "RASP", "5", lot_code="R3", expiry=_day(40),
                      supplier_lot_code="RB-1")["lot_id"],
        "S1": receive(api, site["sugar_supplier"], "SUGAR", "50", location="DRY-01", lot_code="S1",
                      expiry=_day(5))["lot_id"],
        "JAR1": receive(api, site["sugar_supplier"], "JAR", "500", location="DRY-01", lot_code="JAR1")["lot_id"],
    }
    assert api.post("/adjustments", {"lot_id": ids["R3"], "location": "COLD-01", "quantity": "-5",
                                     "reason": "thawed, binned"}).status_code == 201
    assert api.post(f"/lots/{ids['S1']}/hold", {"reason": "bag torn"}).status_code == 200
    return {**site, **ids}


def _codes(api: Api, query: str = "") -> list[str]:
    r = api.get("/lots" + query)
    assert r.status_code == 200, r.json
    return [x["code"] for x in r.json]


def test_lots_come_soonest_expiry_first_and_undated_last(api: Api, lots: dict[str, Any]) -> None:
    assert _codes(api) == ["S1", "R1", "R2", "R3", "JAR1"]


@pytest.mark.parametrize(("query", "codes"), [
    ("?sku=RASP", ["R1", "R2", "R3"]),
    ("?sku=NOPE", []),
    ("?code=R2", ["R2"]),
    ("?sku=SUGAR&code=R2", []),
    ("?status=hold", ["S1"]),
    ("?status=released&sku=SUGAR", []),
    ("?expiring_before=" + _day(10), ["S1"]),
    ("?expiring_before=" + _day(11), ["S1", "R1"]),
    ("?in_stock=true", ["S1", "R1", "R2", "JAR1"]),
    ("?in_stock=false", ["R3"]),
    ("?supplier_lot_code=RB-1", ["R1", "R3"]),
    ("?supplier_lot_code=RB-1&in_stock=true", ["R1"]),
    ("?limit=2&offset=1", ["R1", "R2"]),
    # Pages across the end of the dated lots, and past it, into the undated ones.
    ("?limit=2&offset=3", ["R3", "JAR1"]),
    ("?limit=2&offset=4", ["JAR1"]),
    ("?limit=2&offset=5", []),
    ("?in_stock=true&limit=1&offset=3", ["JAR1"]),
])
def test_the_lot_filters(api: Api, lots: dict[str, Any], query: str, codes: list[str]) -> None:
    assert _codes(api, query) == codes


@pytest.mark.parametrize(("query", "field"), [("?status=lost", "status"), ("?expiring_before=2026-02-30",
                                                                            "expiring_before"),
                                              ("?in_stock=perhaps", "in_stock"), ("?colour=red", "colour"),
                                              ("?limit=5000", "limit")])
def test_bad_lot_filters_are_refused(api: Api, lots: dict[str, Any], query: str, field: str) -> None:
    refused(api.get("/lots" + query), 422, field, "invalid")


def test_a_listed_lot_carries_what_a_picker_needs(api: Api, lots: dict[str, Any]) -> None:
    row = next(x for x in api.get("/lots?code=S1").json)
    assert {k: row[k] for k in ("sku", "product_name", "code", "origin", "supplier_name", "expiry", "unit",
                                "status", "hold_reason", "on_hand")} == {
        "sku": "SUGAR", "product_name": "Cane sugar", "code": "S1", "origin": "receipt",
        "supplier_name": "Sugar Co", "expiry": _day(5), "unit": "kg", "status": "hold",
        "hold_reason": "bag torn", "on_hand": "50"}


def test_the_lot_detail_tells_the_whole_story(api: Api, lots: dict[str, Any]) -> None:
    r1 = lots["R1"]
    assert api.post("/transfers", {"lot_id": r1, "from_location": "COLD-01", "to_location": "KITCHEN",
                                   "quantity": "6"}).status_code == 201
    run = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "40", "location": "KITCHEN",
                                        "lot_code": "J1", "expiry": (TODAY + timedelta(days=365)).isoformat(),
                                        "expiry_reason": "cooked fruit keeps a year: shelf-life study",
                                        "inputs": [{"lot_id": r1, "quantity": "8"},
                                                                     {"lot_id": lots["JAR1"], "quantity": "40"}]})
    assert run.status_code == 201, run.json
    j1 = run.json["output_lot_id"]
    for customer, qty in [("deli", "12"), ("bigbox", "10")]:
        order = api.post("/orders", {"customer_id": lots[customer], "warehouse": "MAIN",
                                     "ship_date": TODAY.isoformat(),
                                     "lines": [{"sku": "JAM-RASP", "quantity": qty}]}).json
        shipped = api.post("/shipments", {"order_id": order["id"], "lines": [
            {"lot_id": j1, "location": "KITCHEN", "quantity": "5"},
            {"lot_id": j1, "location": "KITCHEN", "quantity": str(int(qty) - 5)}]})
        assert shipped.status_code == 201, shipped.json

    raspberry = api.get(f"/lots/{r1}").json
    assert (raspberry["on_hand"], raspberry["supplier_lot_code"]) == ("2", "RB-1")
    assert [(s["location"], s["on_hand"]) for s in raspberry["stock"]] == [("COLD-01", "2")]
    assert [(m["kind"], m["location"], m["quantity"], m["ref_type"]) for m in raspberry["history"]] == [
        ("receive", "COLD-01", "10", "receipt"),
        ("transfer", "COLD-01", "-6", "transfer"),
        ("transfer", "KITCHEN", "6", "transfer"),
        ("consume", "KITCHEN", "-6", "production_run"),
        ("consume", "COLD-01", "-2", "production_run"),
    ]
    assert all(m["user"] == "admin" for m in raspberry["history"])
    assert raspberry["inputs"] == []
    assert [(o["sku"], o["lot_code"], o["quantity"], o["run_number"]) for o in raspberry["outputs"]] == [
        ("JAM-RASP", "J1", "8", "P-000001")]
    assert raspberry["shipments"] == []

    jam = api.get(f"/lots/{j1}").json
    assert [(i["sku"], i["lot_code"], i["quantity"]) for i in jam["inputs"]] == [
        ("RASP", "R1", "8"), ("JAR", "JAR1", "40")]
    assert jam["outputs"] == []
    assert [(s["customer_name"], s["quantity"], s["shipped_on"]) for s in jam["shipments"]] == [
        ("Corner Deli", "12", TODAY.isoformat()), ("Big Box", "10", TODAY.isoformat())]
    assert [(s["location"], s["on_hand"]) for s in jam["stock"]] == [("KITCHEN", "18")]
    assert jam["on_hand"] == "18"

    used_up = api.get(f"/lots/{lots['R3']}").json
    assert (used_up["on_hand"], used_up["stock"]) == ("0", [])
    assert [m["reason"] for m in used_up["history"]] == [None, "thawed, binned"]


# The planner's statistics of a five-year database (`ANALYZE` on benchmarks/dataset.py at scale 1):
# 149,916 lots of 500 products. With them SQLite once chose to loop over the products and sort every
# lot for each page of the lot list (0.6 s at that size) instead of walking the expiry index.
FIVE_YEAR_STATS = [
    ("lot", "ix_lot_product_id", "149916 300"), ("lot", "ix_lot_expiry", "149916 73"),
    ("lot", "ix_lot_code", "149916 39"), ("lot", "ix_lot_supplier_id", "149916 829"),
    ("lot", "ix_lot_supplier_lot_code", "149916 3"), ("lot", "sqlite_autoindex_lot_1", "149916 300 1"),
    ("product", "sqlite_autoindex_product_1", "500 4"), ("product", "sqlite_autoindex_product_2", "500 1"),
    ("balance", "sqlite_autoindex_balance_1", "149916 1 1"),
]


@pytest.mark.parametrize("filters", [{}, {"in_stock": True}, {"in_stock": False}, {"status": LotStatus.HOLD},
                                     {"offset": 200}])
def test_with_five_years_of_statistics_a_page_of_lots_walks_the_expiry_index(
        lots: dict[str, Any], session: Session, filters: dict[str, Any]) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("about SQLite's query planner; PostgreSQL plans this list by its own statistics")
    conn = session.connection()
    conn.exec_driver_sql("ANALYZE")
    conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    for row in FIVE_YEAR_STATS:
        conn.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", row)
    conn.exec_driver_sql("ANALYZE sqlite_schema")  # this connection plans with those statistics now
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        lot_rows(session, limit=100, **filters)
    finally:
        event.remove(conn, "before_cursor_execute", record)
    statement, parameters = seen[0]
    plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert "SEARCH lot USING INDEX ix_lot_expiry (expiry>?)" in plan, plan
    assert not any(step.startswith("SCAN product") for step in plan), plan
