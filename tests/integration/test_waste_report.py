"""The waste report against a hand-computed answer: lots of different costs, sold, consumed and written off."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.exports.waste import report_csv, report_xlsx
from app.models import Lot
from app.queries.check import check_ledger
from app.queries.costing import cost_breakdown, stock_valuation
from app.queries.waste import waste_report
from tests.helpers.api import Api
from tests.helpers.ledger import receive_lots

D = Decimal
def test_unit_costs_are_built_from_inputs_and_reproduced_by_the_breakdown(history: dict[str, int],
                                                                           session: Session) -> None:
    j1 = cost_breakdown(session, history["J1"])
    assert j1.unit_cost == j1.computed_unit_cost == D("0.77")
    assert [(i.lot_code, i.quantity, i.unit_cost, i.amount) for i in j1.inputs] == [
        ("R1", D(60), D("4.20"), D(252)), ("S1", D(40), D("0.90"), D(36))]
    assert (j1.inputs_total, j1.extra_cost, j1.total, j1.quantity) == (D(288), D(20), D(308), D(400))
    j2 = cost_breakdown(session, history["J2"])
    assert j2.unit_cost == j2.computed_unit_cost == D("0.68")
    r1 = cost_breakdown(session, history["R1"])
    assert r1.unit_cost == r1.computed_unit_cost == D("4.20")
    assert [(r.quantity, r.unit_cost) for r in r1.receipts] == [(D(100), D("4.20"))]


def test_waste_by_month_and_product_is_exactly_the_hand_computed_answer(history: dict[str, int],
                                                                         session: Session) -> None:
    report = waste_report(session, date_from=date(2026, 1, 1), date_to=date(2026, 6, 30))
    assert report.months == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert [(r.month, r.sku, r.quantity, r.value) for r in report.by_month_product] == [
        ("2026-03", "JAM-RASP", D(12), D("9.24")),
        ("2026-03", "RASP", D(40), D("168.00")),
        ("2026-04", "JAM-RASP", D(288), D("221.76")),
        ("2026-04", "RASP", D(40), D("200.00")),
        ("2026-05", "JAM-RASP", D(30), D("20.40")),
        ("2026-05", "SUGAR", D(5), D("4.50")),
    ]
    assert [(m.month, m.value) for m in report.by_month] == [
        ("2026-01", 0), ("2026-02", 0), ("2026-03", D("177.24")), ("2026-04", D("421.76")),
        ("2026-05", D("24.90")), ("2026-06", 0)]
    assert report.total.current == D("623.90")
    assert report.write_offs == 6
    # Received 420 + 250 + 450, produced 308 + 68: 1496.00; 623.90 / 1496 = 41.70 %.
    assert report.intake_value == D("1496")
    assert report.share_pct == D("41.70")
    assert [(m.month, m.intake_value) for m in report.by_month[:2]] == [("2026-01", D(1428)), ("2026-02", D(68))]
    by_product = {r.sku: r for r in report.by_product}
    assert (by_product["RASP"].quantity, by_product["RASP"].value, by_product["RASP"].intake_quantity,
            by_product["RASP"].share_pct) == (D(80), D("368.00"), D(150), D("53.33"))
    assert (by_product["JAM-RASP"].quantity, by_product["JAM-RASP"].value,
            by_product["JAM-RASP"].share_pct) == (D(330), D("251.40"), D("66.00"))
    assert (by_product["SUGAR"].value, by_product["SUGAR"].share_pct) == (D("4.50"), D("1.00"))
    assert [(r.reason.value, r.write_offs, r.value) for r in report.by_reason] == [
        ("expired", 3, D("589.76")), ("damaged", 1, D("9.24")), ("quality", 1, D("20.40")),
        ("sample", 1, D("4.50"))]
    assert [(r.location, r.write_offs, r.value) for r in report.by_location] == [
        ("COLD-01", 2, D("368.00")), ("DRY-01", 1, D("4.50")), ("KITCHEN", 3, D("251.40"))]
    # Nothing was wasted in the six months before.
    assert (report.previous_from, report.previous_to) == (date(2025, 7, 1), date(2025, 12, 31))
    assert (report.total.previous, report.total.change, report.total.change_pct) == (0, D("623.90"), None)
    assert check_ledger(session) == []


def test_change_from_the_previous_period_of_the_same_number_of_months(history: dict[str, int],
                                                                       session: Session) -> None:
    report = waste_report(session, date_from=date(2026, 4, 1), date_to=date(2026, 5, 31))
    assert (report.previous_from, report.previous_to) == (date(2026, 2, 1), date(2026, 3, 31))
    # April + May = 421.76 + 24.90; February + March = 177.24; +269.42 = +152.01 %.
    assert report.total == report.total.model_copy(update={
        "current": D("446.66"), "previous": D("177.24"), "change": D("269.42"), "change_pct": D("152.01")})
    expired = next(r for r in report.by_reason if r.reason.value == "expired")
    assert (expired.value, expired.value_change.previous) == (D("421.76"), D("168.00"))
    damaged = next(r for r in report.by_reason if r.reason.value == "damaged")
    assert (damaged.write_offs, damaged.value, damaged.value_change.change) == (0, 0, D("-9.24"))
    # A range that is not whole months is compared with the same number of days just before it.
    days = waste_report(session, date_from=date(2026, 3, 16), date_to=date(2026, 3, 25))
    assert (days.previous_from, days.previous_to) == (date(2026, 3, 6), date(2026, 3, 15))
    assert days.total.current == D("177.24")


def test_stock_valuation_at_actual_lot_cost_on_a_past_day(history: dict[str, int], session: Session) -> None:
    valuation = stock_valuation(session, on=date(2026, 2, 28))
    rows = {r.sku: (r.quantity, r.value) for r in valuation.rows}
    # R1 40 × 4.20 + R2 40 × 5.00; S1 440 × 0.90; J1 300 × 0.77 + J2 100 × 0.68.
    assert rows == {"RASP": (D(80), D("368.00")), "SUGAR": (D(440), D("396.00")), "JAM-RASP": (D(400), D("299.00"))}
    assert valuation.total_value == D("1063.00")
    now = stock_valuation(session, on=date(2026, 6, 30))
    # Left: S1 435 kg; J2 20 jars.
    assert {r.sku: (r.quantity, r.value) for r in now.rows} == {
        "SUGAR": (D(435), D("391.50")), "JAM-RASP": (D(20), D("13.60"))}
    # A product lists its first lots, soonest expiry first; its totals still cover them all.
    short = {r.sku: r for r in stock_valuation(session, on=date(2026, 2, 28), lots_per_product=1).rows}
    assert [(r.sku, r.quantity, r.value, r.lot_count, len(r.lots)) for r in short.values()] == [
        (r.sku, r.quantity, r.value, len(r.lots), min(1, len(r.lots))) for r in valuation.rows]
    assert [lot.lot_code for lot in short["RASP"].lots] == ["R1"]


def test_the_same_report_in_the_api_and_the_exports(history: dict[str, int], api: Api, session: Session) -> None:
    r = api.get("/reports/waste?from=2026-01-01&to=2026-06-30")
    assert r.status_code == 200, r.json
    assert [(x["month"], x["sku"], x["quantity"], x["value"]) for x in r.json["by_month_product"]] == [
        ("2026-03", "JAM-RASP", "12", "9.24"), ("2026-03", "RASP", "40", "168"),
        ("2026-04", "JAM-RASP", "288", "221.76"), ("2026-04", "RASP", "40", "200"),
        ("2026-05", "JAM-RASP", "30", "20.4"), ("2026-05", "SUGAR", "5", "4.5")]
    assert r.json["total"]["current"] == "623.9"
    r = api.get(f"/lots/{history['J1']}/cost")
    assert r.status_code == 200
    assert (r.json["unit_cost"], r.json["computed_unit_cost"], r.json["extra_cost"]) == ("0.77", "0.77", "20")
    r = api.get("/reports/stock-valuation?on=2026-02-28")
    assert r.json["total_value"] == "1063"

    report = waste_report(session, date_from=date(2026, 1, 1), date_to=date(2026, 6, 30))
    rows = list(csv.reader(io.StringIO(report_csv(report, "EUR"))))
    block = rows.index(["By month and product"])
    assert rows[block + 1] == ["month", "sku", "product", "quantity", "unit", "value (EUR)"]
    assert rows[block + 2] == ["2026-03", "JAM-RASP", "Raspberry jam 340 g", "12", "ea", "9.24"]
    book = load_workbook(io.BytesIO(report_xlsx(report, "EUR")))
    sheet = book["Month and product"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(m, s, float(q), float(v)) for m, s, _n, q, _u, v in values] == [
        ("2026-03", "JAM-RASP", 12, 9.24), ("2026-03", "RASP", 40, 168), ("2026-04", "JAM-RASP", 288, 221.76),
        ("2026-04", "RASP", 40, 200), ("2026-05", "JAM-RASP", 30, 20.4), ("2026-05", "SUGAR", 5, 4.5)]
    assert float(book["Summary"]["B3"].value) == 623.9


def test_a_backwards_range_is_refused(api: Api) -> None:
    r = api.get("/reports/waste?from=2026-05-01&to=2026-04-01")
    assert r.status_code == 422
    assert "backwards" in r.json["error"]["message"]
    assert api.get("/reports/waste?from=2026-05-01").status_code == 422


def test_past_waste_keeps_the_cost_the_lot_had_when_it_was_written_off(history: dict[str, int], site: dict[str, Any],
                                                                       session: Session) -> None:
    # Topping S1 up at another price moves its average cost: 435 × 0.90 + 65 × 1.50 over 500 → 0.978.
    receive_lots(session, site["sugar_supplier"], date(2026, 6, 1), [
        {"sku": "SUGAR", "quantity": "65", "location": "DRY-01", "lot_code": "S1", "unit_cost": "1.50",
         "top_up": True}])
    assert session.get_one(Lot, history["S1"]).unit_cost != D("0.90")
    report = waste_report(session, date_from=date(2026, 5, 1), date_to=date(2026, 5, 31))
    assert {r.sku: r.value for r in report.by_product}["SUGAR"] == D("4.50")
    breakdown = cost_breakdown(session, history["S1"])
    assert breakdown.computed_unit_cost == breakdown.unit_cost
