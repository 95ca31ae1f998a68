"""Receipt pages: list, book a delivery (one lot per line), and one receipt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from app.models import LocationKind, Receipt, Role
from app.queries import documents as q
from app.schemas import ReceiptIn, ReceiptLineIn
from app.services import stock
from app.views import choices
from app.views.forms import Form, Pager, attempt, date_range, query_id, require
from app.web import current_user, db, login_required, today

bp = Blueprint("receipts", __name__, url_prefix="/receipts")

LABELS = {"supplier_id": "Supplier", "received_on": "Receipt date", "sku": "SKU", "lot_code": "lot code",
          "supplier_lot_code": "supplier lot code", "unit_cost": "unit cost", "top_up": "top up"}
BLANK_ROWS = 5


@bp.get("")
@login_required()
def index() -> Any:
    pager = Pager.from_request()
    filters, shown = date_range(Receipt.received_on)
    supplier_id = query_id("supplier_id")
    supplier = "" if supplier_id is None else str(supplier_id)
    if supplier_id is not None:
        filters.append(Receipt.supplier_id == supplier_id)
    rows, more = pager.cut(q.listing(db(), Receipt, filters=filters, limit=pager.fetch, offset=pager.offset))
    return render_template("receipts/index.html", receipts=rows, more=more, pager=pager, shown=shown,
                           supplier=supplier, suppliers=choices.suppliers())


def _form_page(form: Form) -> Any:
    return render_template(
        "receipts/new.html", form=form, suppliers=choices.suppliers(), products=choices.products(),
        locations=choices.locations(), default_location=choices.first_location(LocationKind.RECEIVING),
        rows=form.row_indices("lines", BLANK_ROWS),
    ), form.status


def _receive(form: Form) -> Receipt:
    require(form, "supplier_id", "Choose the supplier the goods came from.")
    data = form.data(ReceiptIn)
    data["lines"] = form.rows("lines", ReceiptLineIn, keys=("sku", "quantity", "lot_code", "supplier_lot_code",
                                                             "expiry", "unit_cost"), checkboxes=("top_up",))
    return stock.receive(db(), ReceiptIn.model_validate(data), user=current_user(), today=today(),
                         lot_code_pattern=current_app.config["LOT_CODE_PATTERN"], request_key=form.idempotency_key)


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.OPERATOR)
def new() -> Any:
    if request.method == "GET":
        return _form_page(Form({"received_on": today().isoformat(),
                                "supplier_id": request.args.get("supplier_id", "")}))
    form = Form.posted(LABELS)
    receipt = attempt(form, lambda: _receive(form))
    if receipt is None:
        return _form_page(form)
    lots = ", ".join(line.lot.code for line in receipt.lines)
    flash(f"Receipt {receipt.number} booked: lot {lots}." if len(receipt.lines) == 1
          else f"Receipt {receipt.number} booked: lots {lots}.", "success")
    return redirect(url_for("receipts.detail", receipt_id=receipt.id))


@bp.get("/<int:receipt_id>")
@login_required()
def detail(receipt_id: int) -> Any:
    receipt = q.receipt_out(q.get(db(), Receipt, receipt_id, "receipt"))
    total = sum((line.quantity * line.unit_cost for line in receipt.lines), Decimal(0))
    return render_template("receipts/detail.html", receipt=receipt, total=total)
