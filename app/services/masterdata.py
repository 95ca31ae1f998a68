"""Master data use cases: products, suppliers, customers, warehouses and locations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_or_404
from app.errors import Conflict, NotFound
from app.models import Balance, Customer, Location, PackagingLevel, Product, Supplier, Warehouse
from app.schemas import (
    CustomerIn,
    CustomerPatch,
    LocationIn,
    LocationPatch,
    PackagingIn,
    ProductIn,
    ProductPatch,
    SupplierIn,
    SupplierPatch,
    WarehouseIn,
)
from app.services.base import transactional
from app.services.gtins import auto_assign
from app.services.lookups import ensure_unique, warehouse_by_code


def _gtin_free(session: Session, gtin: str | None, *, product_id: int | None = None,
               packaging_id: int | None = None) -> None:
    """A GTIN names one thing: one product, or one case or pallet of one product."""
    if gtin is None:
        return
    owner = session.scalar(select(Product.sku).where(Product.gtin == gtin, Product.id != (product_id or 0)))
    if owner is not None:
        raise Conflict(f"GTIN {gtin} is already the GTIN of product {owner}", "gtin")
    pack = session.execute(select(PackagingLevel.level, Product.sku).join(Product)
                           .where(PackagingLevel.gtin == gtin, PackagingLevel.id != (packaging_id or 0))).first()
    if pack is not None:
        raise Conflict(f"GTIN {gtin} is already the GTIN of a {pack.level} of {pack.sku}", "gtin")


def _apply(obj: Any, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(obj, key, value)


@transactional
def create_product(session: Session, cmd: ProductIn) -> Product:
    ensure_unique(session, Product, "sku", cmd.sku, None, "product")
    _gtin_free(session, cmd.gtin)
    product = Product(**cmd.model_dump())
    session.add(product)
    session.flush()
    # With the site's GS1 company prefix set, a product of ours is born with a GTIN: its labels are GS1.
    auto_assign(session, product)
    return product


@transactional
def update_product(session: Session, product_id: int, cmd: ProductPatch) -> Product:
    product: Product = get_or_404(session, Product, product_id, "id", "product")
    data = cmd.model_dump(exclude_unset=True)
    for key in ("sku", "name", "kind", "unit", "lot_tracked", "active"):
        if key in data and data[key] is None:
            data.pop(key)
    ensure_unique(session, Product, "sku", data.get("sku"), product.id, "product")
    _gtin_free(session, data.get("gtin"), product_id=product.id)
    _apply(product, data)
    session.flush()
    return product


@transactional
def set_product_gtin(session: Session, product_id: int, gtin: str) -> Product:
    """Remember a GTIN scanned at receiving for a product that had none."""
    product: Product = get_or_404(session, Product, product_id, "product_id", "product")
    cmd = ProductPatch(gtin=gtin)
    _gtin_free(session, cmd.gtin, product_id=product.id)
    product.gtin = cmd.gtin
    return product


@transactional
def add_packaging(session: Session, product_id: int, cmd: PackagingIn) -> PackagingLevel:
    """Give a product a case or pallet GTIN, so that a scan of that pack books its content."""
    product: Product = get_or_404(session, Product, product_id, "product_id", "product")
    _gtin_free(session, cmd.gtin)
    pack = PackagingLevel(product_id=product.id, **cmd.model_dump())
    session.add(pack)
    session.flush()
    return pack


@transactional
def remove_packaging(session: Session, product_id: int, packaging_id: int) -> None:
    # Nothing refers to a packaging level: receipts were booked in the product's unit.
    pack = session.get(PackagingLevel, packaging_id)
    if pack is None or pack.product_id != product_id:
        raise NotFound(f"product {product_id} has no packaging level {packaging_id}", "packaging_id")
    session.delete(pack)
    session.flush()


@transactional
def create_supplier(session: Session, cmd: SupplierIn) -> Supplier:
    ensure_unique(session, Supplier, "name", cmd.name, None, "supplier")
    supplier = Supplier(**cmd.model_dump())
    session.add(supplier)
    session.flush()
    return supplier


@transactional
def update_supplier(session: Session, supplier_id: int, cmd: SupplierPatch) -> Supplier:
    supplier: Supplier = get_or_404(session, Supplier, supplier_id, "id", "supplier")
    data = cmd.model_dump(exclude_unset=True)
    if data.get("name") is None:
        data.pop("name", None)
    ensure_unique(session, Supplier, "name", data.get("name"), supplier.id, "supplier")
    _apply(supplier, data)
    session.flush()
    return supplier


@transactional
def create_customer(session: Session, cmd: CustomerIn) -> Customer:
    ensure_unique(session, Customer, "name", cmd.name, None, "customer")
    customer = Customer(**cmd.model_dump())
    session.add(customer)
    session.flush()
    return customer


@transactional
def update_customer(session: Session, customer_id: int, cmd: CustomerPatch) -> Customer:
    customer: Customer = get_or_404(session, Customer, customer_id, "id", "customer")
    data = cmd.model_dump(exclude_unset=True)
    for key in ("name", "transit_days", "no_date_reversal"):
        if key in data and data[key] is None:
            data.pop(key)
    ensure_unique(session, Customer, "name", data.get("name"), customer.id, "customer")
    _apply(customer, data)
    session.flush()
    return customer


@transactional
def create_warehouse(session: Session, cmd: WarehouseIn) -> Warehouse:
    ensure_unique(session, Warehouse, "code", cmd.code, None, "warehouse")
    warehouse = Warehouse(**cmd.model_dump())
    session.add(warehouse)
    session.flush()
    return warehouse


@transactional
def create_location(session: Session, cmd: LocationIn) -> Location:
    warehouse = warehouse_by_code(session, cmd.warehouse)
    ensure_unique(session, Location, "code", cmd.code, None, "location")
    location = Location(warehouse_id=warehouse.id, code=cmd.code, name=cmd.name, kind=cmd.kind,
                        active=cmd.active)
    session.add(location)
    session.flush()
    return location


@transactional
def update_location(session: Session, location_id: int, cmd: LocationPatch) -> Location:
    location: Location = get_or_404(session, Location, location_id, "id", "location")
    data = {k: v for k, v in cmd.model_dump(exclude_unset=True).items() if v is not None}
    if data.get("active") is False and location.active:
        # Stock in an inactive location could no longer be moved, shipped or used.
        lots = session.scalar(select(func.count()).select_from(Balance)
                              .where(Balance.location_id == location.id, Balance.on_hand > 0))
        if lots:
            raise Conflict(f"{location.code} still holds stock of {lots} lot(s); move it out first", "active")
    _apply(location, data)
    session.flush()
    return location
