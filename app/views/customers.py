"""Customer pages: list, new, edit — with each customer's shelf-life rule."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.formatting import qty
from app.models import Customer, Role
from app.queries.documents import get
from app.schemas import CustomerIn, CustomerPatch
from app.services import masterdata
from app.views import parties
from app.views.forms import Form, attempt
from app.web import db, login_required

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.get("", endpoint="index")
@login_required()
def customer_index() -> Any:
    return parties.listing(Customer, "parties/customers.html", "customer")


def _customer_page(form: Form, customer: Customer | None) -> Any:
    return render_template("parties/form.html", form=form, party=customer, kind="customer",
                           back=url_for("customers.index")), form.status


def _customer_cmd(form: Form, model: type[CustomerIn]) -> Any:
    if not form.value("transit_days").strip():
        form.values["transit_days"] = "0"  # blank means no transit time
    CustomerIn.model_validate(form.data(CustomerIn, checkboxes=("no_date_reversal",)))
    return model.model_validate(form.data(model, checkboxes=("no_date_reversal",)))


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@login_required(Role.MANAGER)
def new_customer() -> Any:
    if request.method == "GET":
        return _customer_page(Form({"transit_days": "0"}), None)
    form = Form.posted(parties.LABELS)
    customer = attempt(form, lambda: masterdata.create_customer(db(), _customer_cmd(form, CustomerIn)))
    if customer is None:
        return _customer_page(form, None)
    flash(f"Customer {customer.name} created.", "success")
    return redirect(url_for("customers.index", q=customer.name))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required(Role.MANAGER)
def edit_customer(customer_id: int) -> Any:
    customer = get(db(), Customer, customer_id, "customer")
    if request.method == "GET":
        values = parties.values(customer, parties.PARTY_FIELDS + parties.RULE_FIELDS)
        if customer.min_remaining_pct is not None:
            values["min_remaining_pct"] = qty(customer.min_remaining_pct)
        values["no_date_reversal"] = str(customer.no_date_reversal).lower()
        return _customer_page(Form(values), customer)
    form = Form.posted(parties.LABELS)
    saved = attempt(form, lambda: masterdata.update_customer(db(), customer_id, _customer_cmd(form, CustomerPatch)))
    if saved is None:
        return _customer_page(form, get(db(), Customer, customer_id, "customer"))
    flash(f"Customer {saved.name} saved.", "success")
    return redirect(url_for("customers.index", q=saved.name))
