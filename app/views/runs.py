"""Production run pages: list, record a batch (inputs consumed, output lot made), and one run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from app.models import LocationKind, LotStatus, ProductionRun, Role
from app.queries import documents as q
from app.queries.lots import lot_rows
from app.schemas import ProductionRunIn, RunInputIn
from app.services import production
from app.views import choices
from app.views.forms import Form, Pager, attempt, date_range, require
from app.web import current_user, db, login_required, today

bp = Blueprint("runs", __name__, url_prefix="/runs")

LABELS = {"sku": "Product", "produced_on": "Production date", "lot_code": "Lot code", "extra_cost": "Extra cost",
          "quantity": "Quantity", "location": "Location"}
INPUT_ALIASES = {"sku": "lot", "lot_code": "lot", "lot_id": "lot", "": "lot"}
BLANK_ROWS = 4


@bp.get("")
@login_required()
def index() -> Any:
    pager = Pager.from_request()
    filters, shown = date_range(ProductionRun.produced_on)
    rows, more = pager.cut(q.listing(db(), ProductionRun, filters=filters, limit=pager.fetch, offset=pager.offset))
    return render_template("runs/index.html", runs=rows, more=more, pager=pager, shown=shown)


def _lot_ref(raw: dict[str, str]) -> dict[str, str]:
    """"SKU / lot code" as sku and lot_code; a bare lot code is accepted when one lot in stock has it."""
    text = raw.pop("lot", "").strip()
    sep = " / " if " / " in text else "/"
    if sep in text:
        sku, code = text.split(sep, 1)
        raw["sku"], raw["lot_code"] = sku.strip(), code.strip()
    elif text:
        raw["lot_code"] = text
        found = lot_rows(db(), code=text, status=LotStatus.RELEASED, in_stock=True, limit=2)
        if len(found) == 1:
            raw["sku"] = found[0].sku
    return raw


def _form_page(form: Form) -> Any:
    return render_template(
        "runs/new.html", form=form, products=choices.product_groups(), locations=choices.locations(),
        default_location=choices.first_location(LocationKind.PRODUCTION), lots=choices.stocked_lots(),
        rows=form.row_indices("inputs", BLANK_ROWS),
    ), form.status


def _produce(form: Form) -> ProductionRun:
    require(form, "sku", "Choose the product this batch makes.")
    data = form.data(ProductionRunIn, checkboxes=("take_allocated",))
    data["inputs"] = form.rows("inputs", RunInputIn, keys=("lot", "quantity"), label="Input",
                               aliases=INPUT_ALIASES, convert=_lot_ref)
    return production.produce(db(), ProductionRunIn.model_validate(data), user=current_user(), today=today(),
                              lot_code_pattern=current_app.config["LOT_CODE_PATTERN"],
                              request_key=form.idempotency_key)


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.OPERATOR)
def new() -> Any:
    if request.method == "GET":
        return _form_page(Form({"produced_on": today().isoformat(), "sku": request.args.get("sku", "")}))
    form = Form.posted(LABELS)
    run = attempt(form, lambda: _produce(form))
    if run is None:
        return _form_page(form)
    flash(f"Run {run.number} recorded: lot {run.output_lot.code} of {run.product.sku}.", "success")
    for taken in getattr(run, "taken_from_orders", []):
        flash(f"Allocated stock used: {taken.message}.", "warning")
    return redirect(url_for("runs.detail", run_id=run.id))


@bp.get("/<int:run_id>")
@login_required()
def detail(run_id: int) -> Any:
    orm = q.get(db(), ProductionRun, run_id, "production run")
    run = q.run_out(orm)
    input_cost = sum((x.quantity * x.unit_cost for x in run.inputs), Decimal(0))
    return render_template("runs/detail.html", run=run, product=orm.product, input_cost=input_cost,
                           total=input_cost + run.extra_cost)
