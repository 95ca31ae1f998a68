"""Our own Digital Link URLs for products without a GTIN (`/240/{sku}/10/{lot}`): staff only, they open the lot.

The GS1 form (`/01/{gtin}/10/{lot}`) is public: app/views/public.py resolves it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, url_for
from sqlalchemy import select

from app.errors import NotFound
from app.models import Lot, Product
from app.web import db, login_required

bp = Blueprint("digital_link", __name__)


def _lot_page(product: Product | None, lot_code: str, key: str) -> Any:
    lot = None if product is None else db().scalar(
        select(Lot).where(Lot.product_id == product.id, Lot.code == lot_code))
    if lot is None:
        raise NotFound(f"no lot {lot_code!r} of {key} is known here", None)
    return redirect(url_for("lots.detail", lot_id=lot.id))


@bp.get("/240/<sku>/10/<path:lot_code>")
@login_required()
def by_sku(sku: str, lot_code: str) -> Any:
    return _lot_page(db().scalar(select(Product).where(Product.sku == sku)), lot_code, f"sku {sku}")
