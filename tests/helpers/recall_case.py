"""The hand-computed recall case shared by the trace, recall and export tests.

    R1 raspberries 100 kg (Berry Farm lot RB-7731)  ─60 kg→  J1 jam 400 ea  ─40 ea→  GB1 gift box 20 ea
                                                    ─30 kg→  J2 jam 200 ea
    S1 sugar 500 kg (Sugar Co)                      ─40 kg→  J1,  ─20 kg→  J2

    J1: 100 ea to Corner Deli, 120 ea to Big Box, 30 ea to Farm Shop; 20 ea written off; 5 ea short
        at a count; 50 ea moved to DRY-01 → on hand 35 at KITCHEN + 50 at DRY-01 = 85 ea.
    GB1: 10 ea to Corner Deli → 10 ea on hand.      J2: 50 ea to Cafe Uno → 150 ea on hand.
    R1: 90 kg consumed → 10 kg on hand at COLD-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Location, Lot, MovementKind
from app.services.base import book, transactional
from tests.helpers.api import TODAY, Api


@dataclass
class Case:
    ids: dict[str, Any]
    r1: int
    s1: int
    j1: int
    j2: int
    gb1: int
    deli: int
    bigbox: int
    farm: int
    cafe: int
    shipment_j1_deli: str


@transactional
def write_off(session: Session, lot_id: int, location: str, quantity: Decimal, on: date) -> None:
    """Book a write-off movement on the ledger, as any write-off document does."""
    lot = session.get_one(Lot, lot_id)
    loc = session.scalars(select(Location).where(Location.code == location)).one()
    book(session, lot=lot, location=loc, quantity=-quantity, kind=MovementKind.WRITE_OFF, ref_type="write_off",
         ref_id=lot_id, booked_on=on, user=None, reason="dropped pallet")


def _ok(r: Any, status: int = 201) -> Any:
    assert r.status_code == status, r.json
    return r.json


def ship(api: Api, customer: int, sku: str, lines: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Order `sku` for `customer` and ship it today from the given (lot, location, quantity) lines, through the API."""
    total = sum(Decimal(q) for _, _, q in lines)
    order = _ok(api.post("/orders", {"customer_id": customer, "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                     "customer_reference": f"PO-{customer}",
                                     "lines": [{"sku": sku, "quantity": str(total)}]}))
    return _ok(api.post("/shipments", {"order_id": order["id"], "carrier_reference": "TRK-1", "lines": [
        {"lot_id": lot, "location": loc, "quantity": q} for lot, loc, q in lines]}))


def build(api: Api, site: dict[str, Any], session: Session) -> Case:
    _ok(api.post("/products", {"sku": "GIFT", "name": "Jam gift box", "kind": "product", "unit": "ea",
                               "shelf_life_days": 300}))
    farm = _ok(api.post("/customers", {"name": "Farm Shop", "contact_name": "Flo Green", "phone": "+44 1632 960003",
                                       "email": "flo@farm.example", "address": "Lane End Farm"}))["id"]
    cafe = _ok(api.post("/customers", {"name": "Cafe Uno", "phone": "+44 1632 960004"}))["id"]
    r1 = _ok(api.post("/receipts", {"supplier_id": site["supplier"], "reference": "DN-551", "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1", "supplier_lot_code": "RB-7731",
         "unit_cost": "4.20"}]}))["lines"][0]["lot_id"]
    s1 = _ok(api.post("/receipts", {"supplier_id": site["sugar_supplier"], "lines": [
        {"sku": "SUGAR", "quantity": "500", "location": "DRY-01", "lot_code": "S1", "unit_cost": "0.90"}]}
    ))["lines"][0]["lot_id"]
    j1 = _ok(api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN",
                                           "lot_code": "J1", "inputs": [{"lot_id": r1, "quantity": "60"},
                                                                        {"lot_id": s1, "quantity": "40"}]}
                      ))["output_lot_id"]
    j2 = _ok(api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "200", "location": "KITCHEN",
                                           "lot_code": "J2", "inputs": [{"lot_id": r1, "quantity": "30"},
                                                                        {"lot_id": s1, "quantity": "20"}]}
                      ))["output_lot_id"]
    gb1 = _ok(api.post("/production-runs", {"sku": "GIFT", "quantity": "20", "location": "KITCHEN",
                                            "lot_code": "GB1", "inputs": [{"lot_id": j1, "quantity": "40"}]}
                       ))["output_lot_id"]
    deli_shipment = ship(api, site["deli"], "JAM-RASP", [(j1, "KITCHEN", "100")])
    ship(api, site["bigbox"], "JAM-RASP", [(j1, "KITCHEN", "70"), (j1, "KITCHEN", "50")])
    ship(api, farm, "JAM-RASP", [(j1, "KITCHEN", "30")])
    ship(api, site["deli"], "GIFT", [(gb1, "KITCHEN", "10")])
    ship(api, cafe, "JAM-RASP", [(j2, "KITCHEN", "50")])
    write_off(session, j1, "KITCHEN", Decimal(20), TODAY)
    _ok(api.post("/adjustments", {"lot_id": j1, "location": "KITCHEN", "quantity": "-5", "reason": "count short"}))
    _ok(api.post("/transfers", {"lot_id": j1, "from_location": "KITCHEN", "to_location": "DRY-01",
                                "quantity": "50"}))
    return Case(ids=site, r1=r1, s1=s1, j1=j1, j2=j2, gb1=gb1, deli=site["deli"], bigbox=site["bigbox"], farm=farm,
                cafe=cafe, shipment_j1_deli=deli_shipment["number"])
