"""Lot costing: the breakdown rebuilds every lot's unit cost exactly, and stock is valued at each lot's own cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Lot, Movement
from app.queries.costing import cost_breakdown, stock_valuation
from app.schemas import ProductionRunIn, TransferIn
from app.services import production, stock
from tests.helpers.api import Api
from tests.helpers.ledger import PATTERN, receive_lots

D = Decimal


def test_a_lot_topped_up_at_three_prices_is_rebuilt_to_the_last_place(site: dict[str, Any], session: Session) -> None:
    on = date(2026, 1, 5)
    lots = receive_lots(session, site["supplier"], on, [
        {"sku": "RASP", "quantity": "3", "location": "COLD-01", "lot_code": "T", "unit_cost": "1.00"}])
    for qty, cost in [("7", "1.10"), ("11", "0.95"), ("0.333", "1.2345")]:
        receive_lots(session, site["supplier"], on, [{"sku": "RASP", "quantity": qty, "location": "COLD-01",
                                                 "lot_code": "T", "unit_cost": cost, "top_up": True}])
    lot = session.get_one(Lot, lots["T"])
    breakdown = cost_breakdown(session, lot.id)
    assert breakdown.computed_unit_cost == lot.unit_cost
    assert [(r.quantity, r.unit_cost) for r in breakdown.receipts] == [
        (D(3), D("1.00")), (D(7), D("1.10")), (D(11), D("0.95")), (D("0.333"), D("1.2345"))]
    assert breakdown.quantity == D("21.333")
    assert breakdown.total == D("3") + D("7.7") + D("10.45") + D("0.333") * D("1.2345")


def test_inputs_taken_from_two_locations_show_once_per_lot(site: dict[str, Any], session: Session) -> None:
    lots = receive_lots(session, site["supplier"], date(2026, 1, 5), [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R", "unit_cost": "3.333333"}])
    lots |= receive_lots(session, site["sugar_supplier"], date(2026, 1, 5), [
        {"sku": "SUGAR", "quantity": "50", "location": "DRY-01", "lot_code": "S", "unit_cost": "0.7"}])
    stock.transfer(session, TransferIn(lot_id=lots["R"], from_location="COLD-01", to_location="KITCHEN",
                                       quantity=D(4)), user=None, today=date(2026, 1, 6))
    run = production.produce(session, ProductionRunIn.model_validate({
        "sku": "JAM-RASP", "quantity": "7", "location": "KITCHEN", "lot_code": "J", "extra_cost": "1.01",
        "inputs": [{"lot_id": lots["R"], "quantity": "6"}, {"lot_id": lots["S"], "quantity": "3"}]}),
        user=None, today=date(2026, 1, 6), lot_code_pattern=PATTERN)
    breakdown = cost_breakdown(session, run.output_lot_id)
    # 6 × 3.333333 + 3 × 0.7 + 1.01 = 23.109998 over 7 jars = 3.301428 (rounded as the run rounded it).
    assert [(i.lot_code, i.quantity, i.amount) for i in breakdown.inputs] == [
        ("R", D(6), D("19.999998")), ("S", D(3), D("2.1"))]
    assert breakdown.total == D("23.109998")
    assert breakdown.computed_unit_cost == breakdown.unit_cost == D("3.301428")


def test_the_api_refuses_an_unknown_lot_and_values_stock_per_warehouse(api: Api, site: dict[str, Any],
                                                                       session: Session) -> None:
    assert api.get("/lots/999/cost").status_code == 404
    receive_lots(session, site["supplier"], date(2026, 1, 5), [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R", "unit_cost": "2.5"}])
    assert api.post("/warehouses", {"code": "NORTH", "name": "North"}).status_code == 201
    assert api.post("/locations", {"code": "N-01", "name": "North 1", "warehouse": "NORTH"}).status_code == 201
    receive_lots(session, site["supplier"], date(2026, 1, 6), [
        {"sku": "RASP", "quantity": "4", "location": "N-01", "lot_code": "R2", "unit_cost": "3"}])
    everywhere = api.get("/reports/stock-valuation?on=2026-01-06").json
    assert (everywhere["total_value"], [r["quantity"] for r in everywhere["rows"]]) == ("37", ["14"])
    north = api.get("/reports/stock-valuation?on=2026-01-06&warehouse=NORTH").json
    assert (north["total_value"], [lot["lot_code"] for lot in north["rows"][0]["lots"]]) == ("12", ["R2"])
    before = stock_valuation(session, on=date(2026, 1, 5))
    assert before.total_value == D(25)
    assert api.get("/reports/stock-valuation?on=someday").status_code == 422


def _brute_force(session: Session, on: date) -> dict[str, tuple[Decimal, Decimal, int, list[str]]]:
    """Stock at the end of `on` summed movement by movement in Python: {sku: (quantity, value, lots, lot codes)}."""
    held: dict[int, Decimal] = defaultdict(Decimal)
    for movement in session.scalars(select(Movement).where(Movement.booked_on <= on)):
        held[movement.lot_id] += movement.quantity
    per_product: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for lot_id, qty in held.items():
        if qty:
            lot = session.get_one(Lot, lot_id)
            per_product[lot.product.sku].append(
                (lot.expiry is None, lot.expiry, lot.code, qty, (qty * lot.unit_cost).quantize(D("0.000001"))))
    return {sku: (sum((x[3] for x in lots), D(0)), sum((x[4] for x in lots), D(0)), len(lots),
                  [x[2] for x in sorted(lots, key=lambda x: x[:3])]) for sku, lots in per_product.items()}


def test_totals_in_sql_match_a_sum_over_the_ledger_on_a_past_day_and_today(history: dict[str, int],
                                                                           site: dict[str, Any],
                                                                           session: Session) -> None:
    # Values that end in half a millionth round to even, as Decimal rounds a lot's value:
    # 0.5 × 1.000005 = 0.5000025 → 0.500002; 2.5 × 0.000003 = 0.0000075 → 0.000008; 0.5 × 0.000001 → 0.
    lots = receive_lots(session, site["supplier"], date(2026, 3, 1), [
        {"sku": "RASP", "quantity": "0.5", "location": "COLD-01", "lot_code": "H1", "unit_cost": "1.000005",
         "expiry": "2026-09-01"},
        {"sku": "RASP", "quantity": "2.5", "location": "COLD-01", "lot_code": "H2", "unit_cost": "0.000003"},
        {"sku": "RASP", "quantity": "0.5", "location": "COLD-01", "lot_code": "H3", "unit_cost": "0.000001",
         "expiry": "2026-08-01"}])
    stock.transfer(session, TransferIn(lot_id=lots["H1"], from_location="COLD-01", to_location="KITCHEN",
                                       quantity=D("0.2"), moved_on=date(2026, 3, 2)), user=None,
                   today=date(2026, 3, 2))
    for on in (date(2026, 1, 9), date(2026, 2, 28), date(2026, 3, 1), date(2026, 4, 30), date(2026, 12, 5)):
        expected = _brute_force(session, on)
        valuation = stock_valuation(session, on=on)
        assert {r.sku: (r.quantity, r.value, r.lot_count, [x.lot_code for x in r.lots]) for r in valuation.rows} \
            == expected, on
        assert valuation.total_value == sum((v for _q, v, _n, _c in expected.values()), D(0))
        first = stock_valuation(session, on=on, lots_per_product=1)
        assert {r.sku: (r.quantity, r.value, r.lot_count, [x.lot_code for x in r.lots]) for r in first.rows} == {
            sku: (q, v, n, codes[:1]) for sku, (q, v, n, codes) in expected.items()}
        # Page by page (one product a page, by SKU): the same rows, and every page carries the whole stock's totals.
        pages = [stock_valuation(session, on=on, limit=1, offset=i) for i in range(len(expected) + 1)]
        assert [r for page in pages for r in page.rows] == valuation.rows
        assert [r.sku for r in valuation.rows] == sorted(expected)
        assert {(p.total_value, p.product_count, p.lot_count) for p in pages} == {
            (valuation.total_value, len(expected), sum(n for _q, _v, n, _c in expected.values()))}
    rasp = next(r for r in stock_valuation(session, on=date(2026, 12, 5)).rows if r.sku == "RASP")
    assert {x.lot_code: x.value for x in rasp.lots} == {"H1": D("0.500002"), "H2": D("0.000008"), "H3": D(0)}
