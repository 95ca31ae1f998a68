"""Resolving the natural keys people type or scan (sku, location code, lot code) to rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import Location, Lot, Product, Warehouse
from app.schemas import LotRef
from labels.gs1 import read_plain


def ensure_unique(session: Session, model: type[Any], column: str, value: Any, ident: int | None, label: str) -> None:
    """Refuse a natural key (sku, code, name) that another row of `model` already has (409 naming it)."""
    if value is None:
        return
    existing = session.scalar(select(model.id).where(getattr(model, column) == value))
    if existing is not None and existing != ident:
        raise Conflict(f"a {label} with {column} {value!r} already exists", column)


def product_by_sku(session: Session, sku: str, field: str = "sku") -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with sku {sku!r}", field)
    if not product.active:
        raise Invalid(f"product {sku} is inactive", field)
    return product


def location_by_code(session: Session, code: str, field: str = "location") -> Location:
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise NotFound(f"no location with code {code!r}", field)
    if not location.active:
        raise Invalid(f"location {code} is inactive", field)
    return location


def warehouse_by_code(session: Session, code: str, field: str = "warehouse") -> Warehouse:
    warehouse = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if warehouse is None:
        raise NotFound(f"no warehouse with code {code!r}", field)
    return warehouse


def lot_by_ref(session: Session, ref: LotRef, prefix: str = "") -> Lot:
    """The lot a request names; `prefix` (e.g. "inputs.2.") locates the fields in error messages."""
    if ref.lot_id is not None:
        lot = session.get(Lot, ref.lot_id)
        if lot is None:
            raise NotFound(f"lot {ref.lot_id} does not exist", f"{prefix}lot_id")
        if ref.sku and lot.product.sku != ref.sku:
            raise Invalid(f"lot {lot.code} is {lot.product.sku}, not {ref.sku}", f"{prefix}sku")
        if ref.lot_code and lot.code != ref.lot_code:
            raise Invalid(f"lot {ref.lot_id} is lot {lot.code}, not {ref.lot_code}", f"{prefix}lot_code")
        return lot
    assert ref.sku and ref.lot_code
    product = session.scalar(select(Product).where(Product.sku == ref.sku))
    if product is None:
        raise NotFound(f"no product with sku {ref.sku!r}", f"{prefix}sku")
    lot = session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == ref.lot_code))
    if lot is None:
        raise NotFound(f"{ref.sku} has no lot {ref.lot_code!r}", f"{prefix}lot_code")
    return lot


def lot_by_sku_and_code(session: Session, sku: str, code: str) -> Lot | None:
    """The lot `code` of the product `sku`, or None."""
    return session.scalar(select(Lot).join(Product, Lot.product_id == Product.id)
                          .where(Product.sku == sku, Lot.code == code))


def lot_by_label(session: Session, text: str) -> Lot | None:
    """The lot a plain label of ours names ("SKU LOT" in its Code 128 or DataMatrix, the lot finder URL in
    its QR code), or None when the text is not one or names no lot here."""
    read = read_plain(text)
    return None if read is None else lot_by_sku_and_code(session, *read)
