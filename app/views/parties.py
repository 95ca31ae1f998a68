"""Supplier and customer pages: list with search, create and edit (edits need the manager role)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.formatting import qty
from app.models import Customer, Role, Supplier
from app.queries.documents import get
from app.schemas import CustomerIn, CustomerPatch, SupplierIn, SupplierPatch
from app.services import masterdata
from app.views.forms import Form, Pager, attempt
from app.web import db, login_required

suppliers = Blueprint("suppliers", __name__, url_prefix="/suppliers")
customers = Blueprint("customers", __name__, url_prefix="/customers")

LABELS = {"gln": "GLN", "contact_name": "Contact", "min_remaining_days": "Minimum remaining days",
          "min_remaining_pct": "Minimum remaining %", "transit_days": "Transit days",
          "max_lots_per_line": "Most lots per line", "no_date_reversal": "No date reversal"}
PARTY_FIELDS = ("name", "gln", "contact_name", "phone", "email", "address")
RULE_FIELDS = ("min_remaining_days", "min_remaining_pct", "transit_days", "max_lots_per_line")


def _values(obj: Supplier | Customer, fields: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = "" if value is None else str(value)
    return out


def _listing(model: type[Supplier] | type[Customer], template: str, kind: str) -> Any:
    pager = Pager.from_request()
    text = request.args.get("q", "").strip()
    q = select(model).order_by(model.name)
    if text:
        q = q.where(model.name.ilike(f"%{text}%"))
    rows, more = pager.cut(list(db().scalars(q.limit(pager.fetch).offset(pager.offset))))
    return render_template(template, parties=rows, more=more, pager=pager, text=text, kind=kind)


# --- suppliers ---


@suppliers.get("")
@login_required()
def index() -> Any:
    return _listing(Supplier, "parties/suppliers.html", "supplier")


def _supplier_page(form: Form, supplier: Supplier | None) -> Any:
    return render_template("parties/form.html", form=form, party=supplier, kind="supplier",
                           back=url_for("suppliers.index")), form.status


def _supplier_cmd(form: Form, model: type[SupplierIn]) -> Any:
    SupplierIn.model_validate(form.data(SupplierIn))  # the form sends every field: check them as a whole
    return model.model_validate(form.data(model))


@suppliers.route("/new", methods=["GET", "POST"], endpoint="new")
@login_required(Role.MANAGER)
def new_supplier() -> Any:
    if request.method == "GET":
        return _supplier_page(Form(), None)
    form = Form.posted(LABELS)
    supplier = attempt(form, lambda: masterdata.create_supplier(db(), _supplier_cmd(form, SupplierIn)))
    if supplier is None:
        return _supplier_page(form, None)
    flash(f"Supplier {supplier.name} created.", "success")
    return redirect(url_for("suppliers.index", q=supplier.name))


@suppliers.route("/<int:supplier_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required(Role.MANAGER)
def edit_supplier(supplier_id: int) -> Any:
    supplier = get(db(), Supplier, supplier_id, "supplier")
    if request.method == "GET":
        return _supplier_page(Form(_values(supplier, PARTY_FIELDS)), supplier)
    form = Form.posted(LABELS)
    saved = attempt(form, lambda: masterdata.update_supplier(db(), supplier_id, _supplier_cmd(form, SupplierPatch)))
    if saved is None:
        return _supplier_page(form, get(db(), Supplier, supplier_id, "supplier"))
    flash(f"Supplier {saved.name} saved.", "success")
    return redirect(url_for("suppliers.index", q=saved.name))


# --- customers ---


@customers.get("", endpoint="index")
@login_required()
def customer_index() -> Any:
    return _listing(Customer, "parties/customers.html", "customer")


def _customer_page(form: Form, customer: Customer | None) -> Any:
    return render_template("parties/form.html", form=form, party=customer, kind="customer",
                           back=url_for("customers.index")), form.status


def _customer_cmd(form: Form, model: type[CustomerIn]) -> Any:
    if not form.value("transit_days").strip():
        form.values["transit_days"] = "0"  # blank means no transit time
    CustomerIn.model_validate(form.data(CustomerIn, checkboxes=("no_date_reversal",)))
    return model.model_validate(form.data(model, checkboxes=("no_date_reversal",)))


@customers.route("/new", methods=["GET", "POST"], endpoint="new")
@login_required(Role.MANAGER)
def new_customer() -> Any:
    if request.method == "GET":
        return _customer_page(Form({"transit_days": "0"}), None)
    form = Form.posted(LABELS)
    customer = attempt(form, lambda: masterdata.create_customer(db(), _customer_cmd(form, CustomerIn)))
    if customer is None:
        return _customer_page(form, None)
    flash(f"Customer {customer.name} created.", "success")
    return redirect(url_for("customers.index", q=customer.name))


@customers.route("/<int:customer_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required(Role.MANAGER)
def edit_customer(customer_id: int) -> Any:
    customer = get(db(), Customer, customer_id, "customer")
    if request.method == "GET":
        values = _values(customer, PARTY_FIELDS + RULE_FIELDS)
        if customer.min_remaining_pct is not None:
            values["min_remaining_pct"] = qty(customer.min_remaining_pct)
        values["no_date_reversal"] = str(customer.no_date_reversal).lower()
        return _customer_page(Form(values), customer)
    form = Form.posted(LABELS)
    saved = attempt(form, lambda: masterdata.update_customer(db(), customer_id, _customer_cmd(form, CustomerPatch)))
    if saved is None:
        return _customer_page(form, get(db(), Customer, customer_id, "customer"))
    flash(f"Customer {saved.name} saved.", "success")
    return redirect(url_for("customers.index", q=saved.name))
