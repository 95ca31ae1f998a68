"""Warehouse and location pages: locations grouped by warehouse, create and edit (manager role)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.errors import Invalid
from app.models import Balance, Location, LocationKind, Role, Warehouse
from app.queries.documents import get
from app.schemas import LocationIn, LocationPatch, WarehouseIn
from app.services import masterdata
from app.views.forms import Form, attempt
from app.web import db, login_required

bp = Blueprint("locations", __name__, url_prefix="/locations")

KINDS = [(k.value, k.value) for k in LocationKind]


def warehouses() -> list[Warehouse]:
    return list(db().scalars(select(Warehouse).order_by(Warehouse.code)))


@bp.get("")
@login_required()
def index() -> Any:
    s = db()
    locations = list(s.scalars(select(Location).order_by(Location.code)))
    stock = dict(s.execute(
        select(Balance.location_id, func.count(Balance.lot_id)).where(Balance.on_hand > 0)
        .group_by(Balance.location_id)
    ).all())
    groups = [(w, [x for x in locations if x.warehouse_id == w.id]) for w in warehouses()]
    return render_template("locations/index.html", groups=groups, stock=stock)


@bp.route("/warehouses/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new_warehouse() -> Any:
    form = Form.posted() if request.method == "POST" else Form()
    if request.method == "POST":
        warehouse = attempt(form, lambda: masterdata.create_warehouse(
            db(), WarehouseIn.model_validate(form.data(WarehouseIn))))
        if warehouse is not None:
            flash(f"Warehouse {warehouse.code} created; now add its locations.", "success")
            return redirect(url_for("locations.new", warehouse=warehouse.code))
    return render_template("locations/warehouse_form.html", form=form), form.status


def _location_page(form: Form, location: Location | None) -> Any:
    options = [(w.code, f"{w.code} · {w.name}") for w in warehouses()]
    return render_template("locations/form.html", form=form, location=location, kinds=KINDS,
                           warehouses=options), form.status


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new() -> Any:
    if request.method == "GET":
        return _location_page(Form({"warehouse": request.args.get("warehouse", ""), "kind": "storage",
                                    "active": "true"}), None)
    form = Form.posted({"code": "Code"})
    location = attempt(form, lambda: masterdata.create_location(
        db(), LocationIn.model_validate(form.data(LocationIn, checkboxes=("active",)))))
    if location is None:
        return _location_page(form, None)
    flash(f"Location {location.code} created.", "success")
    return redirect(url_for("locations.index"))


def _patch(form: Form) -> LocationPatch:
    data = form.data(LocationPatch, checkboxes=("active",))
    if data.get("name") is None:
        raise Invalid("name must not be blank", "name")
    return LocationPatch.model_validate(data)


@bp.route("/<int:location_id>/edit", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def edit(location_id: int) -> Any:
    location = get(db(), Location, location_id, "location")
    if request.method == "GET":
        return _location_page(Form({"name": location.name, "kind": location.kind.value,
                                    "active": str(location.active).lower()}), location)
    form = Form.posted()
    saved = attempt(form, lambda: masterdata.update_location(db(), location_id, _patch(form)))
    if saved is None:
        return _location_page(form, get(db(), Location, location_id, "location"))
    flash(f"Location {saved.code} saved.", "success")
    return redirect(url_for("locations.index"))
