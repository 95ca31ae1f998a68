"""Dashboard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from app.models import Balance, Lot, Order, OrderStatus, Product
from app.queries.expiry import expiring_stock, expiry_summary
from app.web import db, login_required, today

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required()
def dashboard() -> Any:
    s = db()
    on_hand = s.execute(
        select(Product.sku, Product.name, Product.unit, func.sum(Balance.on_hand))
        .join(Lot, Lot.product_id == Product.id).join(Balance, Balance.lot_id == Lot.id)
        .group_by(Product.sku, Product.name, Product.unit).having(func.sum(Balance.on_hand) > 0)
        .order_by(Product.sku)
    ).all()
    expiry_tile = expiry_summary(expiring_stock(s, today=today(), max_customers=3,
                                                default_alert_days=int(current_app.config["EXPIRY_ALERT_DAYS"])))
    open_orders = list(s.scalars(
        select(Order).where(Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIAL]))
        .order_by(Order.ship_date, Order.id).limit(50)
    ))
    return render_template("dashboard.html", on_hand=on_hand, expiry_tile=expiry_tile, open_orders=open_orders)
