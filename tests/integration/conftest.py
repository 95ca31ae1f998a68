"""Fixtures shared by integration tests: stock histories built through the services on fixed days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.queries.expiry import expired_stock
from app.schemas import ExpiredWriteOffIn, OrderIn, ProductionRunIn, ShipmentIn, TransferIn, WriteOffIn
from app.services import orders, production, stock
from app.services.writeoffs import write_off, write_off_expired
from tests.helpers.api import Api
from tests.helpers.ledger import PATTERN, receive_lots

D = Decimal


@pytest.fixture
def shelf(site: dict[str, Any], session: Session, api: Api) -> dict[str, int]:
    """Stock as it stands on 1 March 2026.

    R0 RASP 30 kg expired 20 Feb; R1 RASP 40 kg left, expires 15 Mar; S1 SUGAR expires 2027;
    J1 jam (made 10 Jan, expires 10 Apr, alert window 45 days) 250 jars in the kitchen, 50 at the dock.
    Customers: Corner Deli (≥ 30 days, has bought the jam), Big Box (≥ 90 days + 2 days transit),
    Quick Cafe (no rule) and Pct Shop (≥ 50 % of the lot's life left).
    """
    assert api.patch(f"/products/{site['JAM-RASP']}", {"expiry_alert_days": 45}).status_code == 200
    site["cafe"] = api.post("/customers", {"name": "Quick Cafe"}).json["id"]
    site["pct"] = api.post("/customers", {"name": "Pct Shop", "min_remaining_pct": "50"}).json["id"]
    lots = receive_lots(session, site["supplier"], date(2026, 1, 2), [
        {"sku": "RASP", "quantity": "30", "location": "COLD-01", "lot_code": "R0", "unit_cost": "4.00",
         "expiry": "2026-02-20"}])
    lots |= receive_lots(session, site["supplier"], date(2026, 1, 5), [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1", "unit_cost": "4.20",
         "expiry": "2026-03-15"}])
    lots |= receive_lots(session, site["sugar_supplier"], date(2026, 1, 5), [
        {"sku": "SUGAR", "quantity": "500", "location": "DRY-01", "lot_code": "S1", "unit_cost": "0.90",
         "expiry": "2027-12-31"}])
    run = production.produce(session, ProductionRunIn.model_validate({
        "sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN", "lot_code": "J1", "expiry": "2026-04-10",
        "extra_cost": "20",
        "inputs": [{"lot_id": lots["R1"], "quantity": "60"}, {"lot_id": lots["S1"], "quantity": "40"}]}),
        user=None, today=date(2026, 1, 10), lot_code_pattern=PATTERN)
    lots["J1"] = run.output_lot_id
    order = orders.create_order(session, OrderIn.model_validate({
        "customer_id": site["deli"], "warehouse": "MAIN", "ship_date": "2026-02-01",
        "lines": [{"sku": "JAM-RASP", "quantity": "100"}]}), user=None, today=date(2026, 2, 1))
    orders.ship(session, ShipmentIn.model_validate({"order_id": order.id, "lines": [
        {"lot_id": lots["J1"], "location": "KITCHEN", "quantity": "100"}]}), user=None, today=date(2026, 2, 1))
    stock.transfer(session, TransferIn(lot_id=lots["J1"], from_location="KITCHEN", to_location="DOCK",
                                       quantity=D(50)), user=None, today=date(2026, 2, 2))
    return lots


def _bulk(session: Session, on: date) -> Any:
    preview = expired_stock(session, today=on)
    cmd = ExpiredWriteOffIn(version=preview.version, rows=[
        {"lot_id": r.lot_id, "location_id": r.location_id, "quantity": r.on_hand} for r in preview.rows])
    return write_off_expired(session, cmd, user=None, today=on)


@pytest.fixture
def history(site: dict[str, Any], session: Session) -> dict[str, int]:
    """Six months of a jam kitchen in 2026.

    RASP R1 100 kg @ 4.20 (expires 15 Mar), R2 50 kg @ 5.00 (20 Apr); SUGAR S1 500 kg @ 0.90.
    J1 = 400 jars from R1 60 kg + S1 40 kg + 20 extra → (252 + 36 + 20) / 400 = 0.77, expires 10 Apr.
    J2 = 100 jars from R2 10 kg + S1 20 kg → (50 + 18) / 100 = 0.68, expires 30 Jun.
    """
    lots = receive_lots(session, site["supplier"], date(2026, 1, 5), [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1", "unit_cost": "4.20",
         "expiry": "2026-03-15"},
        {"sku": "RASP", "quantity": "50", "location": "COLD-01", "lot_code": "R2", "unit_cost": "5.00",
         "expiry": "2026-04-20"},
    ])
    lots |= receive_lots(session, site["sugar_supplier"], date(2026, 1, 5), [
        {"sku": "SUGAR", "quantity": "500", "location": "DRY-01", "lot_code": "S1", "unit_cost": "0.90",
         "expiry": "2027-12-31"},
    ])
    for code, on, expiry, inputs, extra in [
        ("J1", date(2026, 1, 10), "2026-04-10", [("R1", "60"), ("S1", "40")], "20"),
        ("J2", date(2026, 2, 15), "2026-06-30", [("R2", "10"), ("S1", "20")], "0"),
    ]:
        run = production.produce(session, ProductionRunIn.model_validate({
            "sku": "JAM-RASP", "quantity": "400" if code == "J1" else "100", "location": "KITCHEN",
            "lot_code": code, "expiry": expiry, "extra_cost": extra,
            "inputs": [{"lot_id": lots[c], "quantity": q} for c, q in inputs]}),
            user=None, today=on, lot_code_pattern=PATTERN)
        lots[code] = run.output_lot_id

    # Sold: 100 jars of J1 in February, 50 of J2 in May — sales are not waste.
    for lot, qty, on in [("J1", "100", date(2026, 2, 1)), ("J2", "50", date(2026, 5, 10))]:
        order = orders.create_order(session, OrderIn.model_validate({
            "customer_id": site["deli"], "warehouse": "MAIN", "ship_date": on.isoformat(),
            "lines": [{"sku": "JAM-RASP", "quantity": qty}]}), user=None, today=on)
        orders.ship(session, ShipmentIn.model_validate({"order_id": order.id, "lines": [
            {"lot_id": lots[lot], "location": "KITCHEN", "quantity": qty}]}), user=None, today=on)

    def single(lot: str, location: str, qty: str, reason: str, on: date) -> None:
        write_off(session, WriteOffIn.model_validate({"lot_id": lots[lot], "location": location, "quantity": qty,
                                                      "reason": reason}), user=None, today=on)

    _bulk(session, date(2026, 3, 16))                       # R1: 40 kg × 4.20 = 168.00
    single("J1", "KITCHEN", "12", "damaged", date(2026, 3, 20))   # 12 × 0.77 = 9.24
    _bulk(session, date(2026, 4, 21))                       # J1: 288 × 0.77 = 221.76; R2: 40 × 5.00 = 200.00
    single("J2", "KITCHEN", "30", "quality", date(2026, 5, 5))    # 30 × 0.68 = 20.40
    single("S1", "DRY-01", "5", "sample", date(2026, 5, 20))      # 5 × 0.90 = 4.50
    return lots
