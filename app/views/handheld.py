"""Handheld pages under /h/: scan-driven lookup, receiving, production and picking for phones and scanners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.formatting import qty
from app.models import Location, LocationKind, Order, OrderStatus, PackagingLevel, Product, Role, Supplier, Warehouse
from app.queries import recipes
from app.queries.stations import stations
from app.web import current_user, db, login_required

bp = Blueprint("handheld", __name__, url_prefix="/h")

# Where sw.js takes the build's version (see `app.version`).
SW_VERSION_MARK = "__LOTWISE_BUILD__"

PAGES = [("handheld.receive", "Receive", Role.OPERATOR), ("handheld.produce", "Produce", Role.OPERATOR),
         ("handheld.pick", "Pick", Role.OPERATOR), ("handheld.lookup", "Look up", Role.VIEWER)]


def _products() -> list[dict[str, Any]]:
    rows = db().scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku))
    return [{"id": p.id, "sku": p.sku, "name": p.name, "gtin": p.gtin, "unit": p.unit, "kind": p.kind.value}
            for p in rows]


def _locations() -> list[dict[str, Any]]:
    rows = db().execute(select(Location, Warehouse.code).join(Warehouse, Location.warehouse_id == Warehouse.id)
                        .where(Location.active.is_(True)).order_by(Warehouse.code, Location.code))
    return [{"code": loc.code, "name": loc.name, "kind": loc.kind.value, "warehouse": wh} for loc, wh in rows]


def _default_location(locations: list[dict[str, Any]], kind: LocationKind) -> str | None:
    """Where a page without a station starts: the first location of the kind the work belongs in."""
    return next((loc["code"] for loc in locations if loc["kind"] == kind.value), None)


def _render(template: str, title: str, **data: Any) -> str:
    user = current_user()
    assert user is not None
    page_data = {"separator": current_app.config["GS1_SEPARATOR"], "user": user.username,
                 "operator": user.has_role(Role.OPERATOR),
                 "stations": [s.model_dump(mode="json") for s in stations(db(), active_only=True)], **data}
    return render_template(template, title=title, page_data=page_data, build=current_app.config["BUILD_VERSION"],
                           pages=[(e, label) for e, label, role in PAGES if user.has_role(role)])


@bp.get("/")
@login_required()
def index() -> str:
    return _render("handheld/index.html", "Scan")


@bp.get("/lookup")
@login_required()
def lookup() -> str:
    return _render("handheld/lookup.html", "Lookup")


@bp.get("/receive")
@login_required(Role.OPERATOR)
def receive() -> str:
    suppliers = [{"id": s.id, "name": s.name} for s in db().scalars(select(Supplier).order_by(Supplier.name))]
    # Cases and pallets, so that a case label read offline still books its content.
    rows = db().execute(select(PackagingLevel.gtin, Product.sku, PackagingLevel.level, PackagingLevel.content)
                        .join(Product).where(Product.active.is_(True)))
    packs = [{"gtin": g, "sku": sku, "level": level, "content": qty(content)} for g, sku, level, content in rows]
    locations = _locations()
    return _render("handheld/receive.html", "Receive", products=_products(), suppliers=suppliers,
                   locations=locations, default_location=_default_location(locations, LocationKind.RECEIVING),
                   packs=packs)


@bp.get("/produce")
@login_required(Role.OPERATOR)
def produce() -> str:
    with_recipe = recipes.skus_with_recipes(db())
    products = [{**p, "recipe": p["sku"] in with_recipe} for p in _products()]
    locations = _locations()
    return _render("handheld/produce.html", "Produce", products=products, locations=locations,
                   default_location=_default_location(locations, LocationKind.PRODUCTION))


@bp.get("/pick")
@login_required(Role.OPERATOR)
def pick() -> str:
    open_orders = Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIAL])
    rows = db().scalars(select(Order).where(open_orders).order_by(Order.ship_date, Order.id).limit(200))
    orders = [{"id": o.id, "number": o.number, "customer": o.customer.name, "warehouse": o.warehouse.code}
              for o in rows]
    # The station's pick-and-ship location says which warehouse this handheld works in: its orders first.
    return _render("handheld/pick.html", "Pick", orders=orders, locations=_locations())


@bp.get("/sw.js")
def service_worker() -> Response:
    # Served from /h/ so that the worker's scope covers every handheld page and nothing else. The
    # build's version is written into it, so a release changes its bytes and the browser installs it
    # at the next page load; no-cache makes the browser ask every time.
    source = Path(current_app.static_folder or "static", "handheld", "sw.js").read_text(encoding="utf-8")
    body = source.replace(SW_VERSION_MARK, current_app.config["BUILD_VERSION"])
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
