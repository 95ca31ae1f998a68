"""Dashboard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, send_from_directory
from sqlalchemy import func, select

from app.models import Order, OrderStatus, Recall, RecallStatus
from app.queries.expiry import Filters, expiring_stock, expiry_summary
from app.queries.lots import on_hand_by_product
from app.queries.recall import recall_detail
from app.web import db, login_required, today

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required()
def dashboard() -> Any:
    s = db()
    on_hand = on_hand_by_product(s)
    day, alert = today(), int(current_app.config["EXPIRY_ALERT_DAYS"])
    expiry_tile = expiry_summary(s, Filters(day, alert), show=0, max_weeks=0)
    # The oldest expired rows (to write off), then the stock still sellable with who could take it.
    expired = expiring_stock(s, today=day, default_alert_days=alert, expired_only=True, with_customers=False,
                             limit=3)
    expiry_tile.rows = expired + expiring_stock(s, today=day, default_alert_days=alert, expiring_only=True,
                                                max_customers=3, limit=8 - len(expired))
    is_open = Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIAL])
    # Overdue orders first (they sort first by ship date), then the next ones due; the rest on the Orders page.
    open_orders = list(s.scalars(select(Order).where(is_open).order_by(Order.ship_date, Order.id).limit(12)))
    open_count = s.scalar(select(func.count(Order.id)).where(is_open)) or 0
    overdue = s.scalar(select(func.count(Order.id)).where(is_open, Order.ship_date < day)) or 0
    # An open recall comes first: how far it got and who has not answered.
    open_recalls = [recall_detail(s, r) for r in s.scalars(
        select(Recall).where(Recall.status == RecallStatus.OPEN).order_by(Recall.id.desc()).limit(3))]
    return render_template("dashboard.html", on_hand=on_hand, expiry_tile=expiry_tile, open_orders=open_orders,
                           open_count=open_count, overdue=overdue, open_recalls=open_recalls)


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for it at the root whatever the page says; public, like the static files."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
