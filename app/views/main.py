"""Dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from app.models import Balance, Lot, Order, OrderStatus, Product
from app.queries.lots import lot_rows
from app.web import db, login_required, today

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required()
def dashboard() -> Any:
    s = db()
    horizon = today() + timedelta(days=int(current_app.config["EXPIRY_ALERT_DAYS"]))
    on_hand = s.execute(
        select(Product.sku, Product.name, Product.unit, func.sum(Balance.on_hand))
        .join(Lot, Lot.product_id == Product.id).join(Balance, Balance.lot_id == Lot.id)
        .group_by(Product.sku, Product.name, Product.unit).having(func.sum(Balance.on_hand) > 0)
        .order_by(Product.sku)
    ).all()
    expiring = lot_rows(s, expiring_before=horizon, in_stock=True, limit=50)
    open_orders = list(s.scalars(
        select(Order).where(Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIAL]))
        .order_by(Order.ship_date, Order.id).limit(50)
    ))
    return render_template("dashboard.html", on_hand=on_hand, expiring=expiring, open_orders=open_orders,
                           horizon=horizon)
