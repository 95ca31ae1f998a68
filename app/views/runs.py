"""Production run pages: list, record a batch (inputs consumed, output lot made), and one run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.errors import Invalid
from app.formatting import qty
from app.models import LocationKind, LotStatus, ProductionRun, Role
from app.queries import documents as q
from app.queries import recipes as recipe_q
from app.queries.lots import lot_rows
from app.schemas import ProductionRunIn, RecipePlanOut, RecipePlanQuery, RunInputIn
from app.services import production
from app.views import choices
from app.views.forms import Form, Pager, attempt, date_range, require
from app.web import current_user, db, login_required, today

bp = Blueprint("runs", __name__, url_prefix="/runs")

LABELS = {"sku": "Product", "produced_on": "Production date", "lot_code": "Lot code", "extra_cost": "Extra cost",
          "quantity": "Quantity", "location": "Location", "planned_quantity": "Batch size"}
PLAN = "plan"
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


def _form_page(form: Form, plan: RecipePlanOut | None = None) -> Any:
    return render_template(
        "runs/new.html", form=form, products=choices.product_groups(), locations=choices.locations(),
        default_location=choices.first_location(LocationKind.PRODUCTION), lots=choices.stocked_lots(),
        rows=form.row_indices("inputs", BLANK_ROWS), plan=plan,
        with_recipes=sorted(recipe_q.skus_with_recipes(db())),
    ), form.status


def _plan(form: Form) -> RecipePlanOut:
    """Scale the product's recipe to the batch size and fill the input rows with the lots it proposes.

    Nothing is booked: the operator sees each input's planned quantity, the lots first expiry first
    out among stock production may use, and changes any actual quantity before recording the run.
    """
    require(form, "sku", "Choose the product this batch makes.")
    require(form, "planned_quantity", "Enter the batch size to plan from the recipe.")
    session = db()
    try:
        query = RecipePlanQuery.model_validate({"quantity": form.value("planned_quantity")})
    except ValidationError:
        raise Invalid("the batch size must be a number above 0", "planned_quantity") from None
    recipe = recipe_q.recipe_of(session, recipe_q.product_for(session, form.value("sku")))
    if recipe is None:
        raise Invalid(f"{form.value('sku')} has no recipe to plan from: set one on its recipe page, or "
                      "leave the batch size blank and fill in the inputs", "planned_quantity")
    code = form.value("location").strip()
    location = recipe_q.location_for(session, code) if code else None
    plan = recipe_q.plan(session, recipe, query.quantity, today=today(), location=location)
    kept = {k: v for k, v in form.values.items() if not k.startswith("inputs.") and k != "action"}
    rows = [lot for need in plan.inputs for lot in need.lots]
    by_lot = {lot.lot_id: need.sku for need in plan.inputs for lot in need.lots}
    for i, lot in enumerate(rows):
        kept[f"inputs.{i}.lot"] = f"{by_lot[lot.lot_id]} / {lot.lot_code}"
        kept[f"inputs.{i}.quantity"] = qty(lot.quantity)
        kept[f"inputs.{i}.location"] = lot.location
    if not kept.get("quantity", "").strip():
        kept["quantity"] = qty(plan.planned_quantity)
    form.values = kept
    return plan


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
    if form.value("action") == PLAN:
        plan = attempt(form, lambda: _plan(form))
        if plan is not None:
            form.status = 200
        return _form_page(form, plan)
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
