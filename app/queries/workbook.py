"""What Lotwise holds, as the rows of the onboarding workbook (the export that imports back unchanged)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exports.cells import Cell
from app.models import (
    Balance,
    Customer,
    Location,
    Lot,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Supplier,
    Warehouse,
)
from app.schemas import SheetName

Row = Sequence[Cell | bool]

_STREAM = 1000
"""Rows fetched from the database at a time, so an export of every lot on hand streams."""


def products(session: Session) -> Iterator[Row]:
    for p in session.scalars(select(Product).order_by(Product.sku)):
        yield (p.sku, p.name, p.kind.value, p.unit, _printed(p.gtin), p.shelf_life_days, p.expiry_alert_days)


def _printed(gtin: str | None) -> str | None:
    """A GTIN as printed under the barcode: stored as 14 digits, an EAN-13 or UPC's leading zero is not printed."""
    return gtin[1:] if gtin is not None and gtin.startswith("0") else gtin


def suppliers(session: Session) -> Iterator[Row]:
    for s in session.scalars(select(Supplier).order_by(Supplier.name)):
        yield (s.name, s.gln, s.contact_name, s.phone, s.email, s.address)


def customers(session: Session) -> Iterator[Row]:
    for c in session.scalars(select(Customer).order_by(Customer.name)):
        yield (c.name, c.gln, c.contact_name, c.phone, c.email, c.address, c.min_remaining_days,
               c.min_remaining_pct, c.transit_days, c.max_lots_per_line, c.no_date_reversal)


def locations(session: Session) -> Iterator[Row]:
    for loc, warehouse in session.execute(select(Location, Warehouse.code).join(Warehouse).order_by(Location.code)):
        yield (loc.code, loc.name, loc.kind.value, warehouse)


def stock(session: Session) -> Iterator[Row]:
    """Every lot on hand, per location: what an opening-stock sheet would say today."""
    rows = session.execute(
        select(Product.sku, Lot.code, Balance.on_hand, Location.code, Lot.expiry, Lot.made_on, Supplier.name,
               Lot.supplier_lot_code, Lot.unit_cost)
        .join(Lot, Balance.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, Balance.location_id == Location.id).outerjoin(Supplier, Lot.supplier_id == Supplier.id)
        .where(Balance.on_hand > 0)
        .order_by(Product.sku, Lot.code, Location.code)
        .execution_options(yield_per=_STREAM))
    for row in rows:
        yield tuple(row)


def orders(session: Session) -> Iterator[Row]:
    """Open and part-shipped orders, a row per line; the reference is the customer's, else our number."""
    rows = session.execute(
        select(Order.customer_reference, Order.number, Customer.name, Product.sku, OrderLine.quantity,
               Order.ship_date, Warehouse.code)
        .join(Order, OrderLine.order_id == Order.id).join(Customer, Order.customer_id == Customer.id)
        .join(Product, OrderLine.product_id == Product.id).join(Warehouse, Order.warehouse_id == Warehouse.id)
        .where(Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIAL]))
        .order_by(func.coalesce(Order.customer_reference, Order.number), Order.number, OrderLine.line_no)
        .execution_options(yield_per=_STREAM))
    for ref, number, customer, sku, quantity, ship_date, warehouse in rows:
        yield (ref or number, customer, sku, quantity, ship_date, warehouse)


def workbook_rows(session: Session) -> dict[SheetName, Iterator[Row]]:
    return {SheetName.PRODUCTS: products(session), SheetName.SUPPLIERS: suppliers(session),
            SheetName.CUSTOMERS: customers(session), SheetName.LOCATIONS: locations(session),
            SheetName.STOCK: stock(session), SheetName.ORDERS: orders(session)}
