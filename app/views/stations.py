"""Station pages: where handhelds work and which locations their pages start from (manager role to edit)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Location, Role, Station, StationKind
from app.queries.documents import get
from app.queries.stations import station_out, stations
from app.schemas import StationIn, StationPatch
from app.services import stations as svc
from app.views.forms import Form, attempt
from app.web import db, login_required

bp = Blueprint("stations", __name__, url_prefix="/stations")

KINDS = [(k.value, k.value) for k in StationKind]
FIELDS = ("receiving_location", "production_location", "shipping_location")


@bp.get("")
@login_required()
def index() -> Any:
    return render_template("stations/index.html", stations=stations(db()))


def _page(form: Form, station: Station | None) -> Any:
    locations = [(x.code, f"{x.code} · {x.name} ({x.kind.value})")
                 for x in db().scalars(select(Location).where(Location.active.is_(True)).order_by(Location.code))]
    return render_template("stations/form.html", form=form, station=station, kinds=KINDS,
                           locations=locations), form.status


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new() -> Any:
    if request.method == "GET":
        return _page(Form({"kind": "dock", "active": "true"}), None)
    form = Form.posted({"code": "Code"})
    station = attempt(form, lambda: svc.create_station(
        db(), StationIn.model_validate(form.data(StationIn, checkboxes=("active",)))))
    if station is None:
        return _page(form, None)
    flash(f"Station {station.code} created.", "success")
    return redirect(url_for("stations.index"))


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def edit(station_id: int) -> Any:
    station = get(db(), Station, station_id, "station")
    if request.method == "GET":
        out = station_out(station)
        return _page(Form({"name": out.name, "kind": out.kind.value, "active": str(out.active).lower(),
                           **{f: getattr(out, f) or "" for f in FIELDS}}), station)
    form = Form.posted()
    data = form.data(StationPatch, checkboxes=("active",))
    for f in FIELDS:  # a blank choice clears the default
        data.setdefault(f, None)
    saved = attempt(form, lambda: svc.update_station(db(), station_id, StationPatch.model_validate(data)))
    if saved is None:
        return _page(form, get(db(), Station, station_id, "station"))
    flash(f"Station {saved.code} saved.", "success")
    return redirect(url_for("stations.index"))
