"""The small jam kitchen most database tests start from, set up through the services or through the API.

Both ways book the same master data in the same order, so a test sees the same ids whichever way its site was
made: warehouse MAIN; locations RCV, DRY-01, COLD-01, KITCHEN, QUAR, DOCK; products RASP, SUGAR, JAM-RASP;
suppliers Berry Farm and Sugar Co; customers Corner Deli (≥ 30 days) and Big Box (≥ 90 days, 2 days' transit).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.schemas import CustomerIn, LocationIn, ProductIn, SupplierIn, WarehouseIn
from app.services import masterdata
from tests.helpers.api import Api

WAREHOUSE = {"code": "MAIN", "name": "Main site"}
LOCATIONS: list[dict[str, Any]] = [{"code": code, "name": code.title(), "kind": kind, "warehouse": "MAIN"}
             for code, kind in [("RCV", "receiving"), ("DRY-01", "storage"), ("COLD-01", "storage"),
                                ("KITCHEN", "production"), ("QUAR", "quarantine"), ("DOCK", "shipping")]]
PRODUCTS: list[dict[str, Any]] = [
    {"sku": "RASP", "name": "Raspberries IQF", "kind": "material", "unit": "kg", "shelf_life_days": 180},
    {"sku": "SUGAR", "name": "Cane sugar", "kind": "material", "unit": "kg", "shelf_life_days": 720},
    {"sku": "JAM-RASP", "name": "Raspberry jam 340 g", "kind": "product", "unit": "ea",
     "shelf_life_days": 365, "gtin": "09501101530003"},
]
SUPPLIERS = {  # key in the site's ids -> supplier
    "supplier": {"name": "Berry Farm", "contact_name": "Ann Berry", "phone": "+44 1632 960001",
                 "email": "ann@berry.example"},
    "sugar_supplier": {"name": "Sugar Co"},
}
CUSTOMERS = {  # key in the site's ids -> customer
    "deli": {"name": "Corner Deli", "contact_name": "Dev Patel", "phone": "+44 1632 960002",
             "email": "dev@deli.example", "address": "1 High St", "min_remaining_days": 30},
    "bigbox": {"name": "Big Box", "min_remaining_days": 90, "transit_days": 2},
}


def build_site(session: Session) -> dict[str, Any]:
    """Set the kitchen up through the services; {sku or party key: id}."""
    ids: dict[str, Any] = {}
    masterdata.create_warehouse(session, WarehouseIn.model_validate(WAREHOUSE))
    for location in LOCATIONS:
        masterdata.create_location(session, LocationIn.model_validate(location))
    for product in PRODUCTS:
        ids[product["sku"]] = masterdata.create_product(session, ProductIn.model_validate(product)).id
    for key, supplier in SUPPLIERS.items():
        ids[key] = masterdata.create_supplier(session, SupplierIn.model_validate(supplier)).id
    for key, customer in CUSTOMERS.items():
        ids[key] = masterdata.create_customer(session, CustomerIn.model_validate(customer)).id
    return ids


def post_site(api: Api) -> dict[str, Any]:
    """Set the kitchen up through the JSON API as a manager would, checking every answer; {key: id}."""
    ids: dict[str, Any] = {}

    def created(path: str, body: dict[str, Any]) -> Any:
        r = api.post(path, body)
        assert r.status_code == 201, (path, r.json)
        return r.json["id"] if "id" in r.json else None

    created("/warehouses", WAREHOUSE)
    for location in LOCATIONS:
        created("/locations", location)
    for product in PRODUCTS:
        ids[product["sku"]] = created("/products", product)
    for key, supplier in SUPPLIERS.items():
        ids[key] = created("/suppliers", supplier)
    for key, customer in CUSTOMERS.items():
        ids[key] = created("/customers", customer)
    return ids
