"""Shipment pages: the list and one shipment with its lines."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from app.models import Shipment
from app.queries import documents as q
from app.views.forms import Pager, date_range
from app.web import db, login_required

bp = Blueprint("shipments", __name__, url_prefix="/shipments")


@bp.get("", endpoint="index")
@login_required()
def shipment_index() -> Any:
    pager = Pager.from_request()
    filters, shown = date_range(Shipment.shipped_on)
    rows, more = pager.cut(q.listing(db(), Shipment, filters=filters, limit=pager.fetch, offset=pager.offset))
    return render_template("shipments/index.html", shipments=rows, more=more, pager=pager, shown=shown)


@bp.get("/<int:shipment_id>", endpoint="detail")
@login_required()
def shipment_detail(shipment_id: int) -> Any:
    orm = q.get(db(), Shipment, shipment_id, "shipment")
    line_numbers = {x.id: x.line_no for x in orm.order.lines}
    return render_template("shipments/detail.html", shipment=q.shipment_out(orm), customer=orm.customer,
                           warehouse=orm.order.warehouse, line_numbers=line_numbers)
