"""Supplier pages: list, new, edit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.models import Role, Supplier
from app.queries.documents import get
from app.schemas import SupplierIn, SupplierPatch
from app.services import masterdata
from app.views import parties
from app.views.forms import Form, attempt
from app.web import db, login_required

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")


@bp.get("")
@login_required()
def index() -> Any:
    return parties.listing(Supplier, "parties/suppliers.html", "supplier")


def _supplier_page(form: Form, supplier: Supplier | None) -> Any:
    return render_template("parties/form.html", form=form, party=supplier, kind="supplier",
                           back=url_for("suppliers.index")), form.status


def _supplier_cmd(form: Form, model: type[SupplierIn]) -> Any:
    SupplierIn.model_validate(form.data(SupplierIn))  # the form sends every field: check them as a whole
    return model.model_validate(form.data(model))


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@login_required(Role.MANAGER)
def new_supplier() -> Any:
    if request.method == "GET":
        return _supplier_page(Form(), None)
    form = Form.posted(parties.LABELS)
    supplier = attempt(form, lambda: masterdata.create_supplier(db(), _supplier_cmd(form, SupplierIn)))
    if supplier is None:
        return _supplier_page(form, None)
    flash(f"Supplier {supplier.name} created.", "success")
    return redirect(url_for("suppliers.index", q=supplier.name))


@bp.route("/<int:supplier_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required(Role.MANAGER)
def edit_supplier(supplier_id: int) -> Any:
    supplier = get(db(), Supplier, supplier_id, "supplier")
    if request.method == "GET":
        return _supplier_page(Form(parties.values(supplier, parties.PARTY_FIELDS)), supplier)
    form = Form.posted(parties.LABELS)
    saved = attempt(form, lambda: masterdata.update_supplier(db(), supplier_id, _supplier_cmd(form, SupplierPatch)))
    if saved is None:
        return _supplier_page(form, get(db(), Supplier, supplier_id, "supplier"))
    flash(f"Supplier {saved.name} saved.", "success")
    return redirect(url_for("suppliers.index", q=saved.name))
