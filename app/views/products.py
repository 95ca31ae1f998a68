"""Product pages: search, create and edit (edits need the manager role)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.formatting import qty_unit
from app.models import PackagingLevel, Product, ProductKind, Role
from app.queries.documents import get
from app.schemas import CompanyPrefixIn, PackagingIn, ProductIn, ProductPatch
from app.services import gtins, masterdata
from app.views.forms import Form, Pager, attempt
from app.web import db, login_required

bp = Blueprint("products", __name__, url_prefix="/products")

LABELS = {"sku": "SKU", "gtin": "GTIN", "shelf_life_days": "Shelf life (days)",
          "expiry_alert_days": "Expiry alert (days)"}
CHECKBOXES = ("lot_tracked", "active")


@bp.get("")
@login_required()
def index() -> Any:
    pager = Pager.from_request()
    text = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    q = select(Product).order_by(Product.sku)
    if text:
        q = q.where(Product.sku.ilike(f"%{text}%") | Product.name.ilike(f"%{text}%"))
    if kind in {k.value for k in ProductKind}:
        q = q.where(Product.kind == ProductKind(kind))
    rows, more = pager.cut(list(db().scalars(q.limit(pager.fetch).offset(pager.offset))))
    return render_template("products/index.html", products=rows, more=more, pager=pager, text=text, kind=kind,
                           kinds=list(ProductKind))


PACK_LABELS = {"level": "Pack", "gtin": "Pack GTIN", "content": "Content"}


def _form_page(form: Form, product: Product | None, pack_form: Form | None = None) -> Any:
    packs = [] if product is None else list(db().scalars(
        select(PackagingLevel).where(PackagingLevel.product_id == product.id)
        .order_by(PackagingLevel.content, PackagingLevel.id)))
    pack_form = pack_form or Form({"level": "case"}, PACK_LABELS)
    status = form.status if form.status != 200 else pack_form.status
    return render_template("products/form.html", form=form, product=product, packs=packs, pack_form=pack_form,
                           kinds=[(k.value, k.value) for k in ProductKind]), status


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new() -> Any:
    if request.method == "GET":
        return _form_page(Form({"kind": "product", "unit": "ea", "lot_tracked": "true", "active": "true"}), None)
    form = Form.posted(LABELS)
    product = attempt(form, lambda: masterdata.create_product(
        db(), ProductIn.model_validate(form.data(ProductIn, checkboxes=CHECKBOXES))))
    if product is None:
        return _form_page(form, None)
    flash(f"Product {product.sku} created.", "success")
    return redirect(url_for("products.index", q=product.sku))


def _values(product: Product) -> dict[str, str]:
    return {
        "sku": product.sku, "name": product.name, "gtin": product.gtin or "", "kind": product.kind.value,
        "unit": product.unit, "shelf_life_days": str(product.shelf_life_days or ""),
        "expiry_alert_days": "" if product.expiry_alert_days is None else str(product.expiry_alert_days),
        "lot_tracked": str(product.lot_tracked).lower(), "active": str(product.active).lower(),
    }


def _patch(form: Form) -> ProductPatch:
    ProductIn.model_validate(form.data(ProductIn, checkboxes=CHECKBOXES))  # every field is sent: check them all
    return ProductPatch.model_validate(form.data(ProductPatch, checkboxes=CHECKBOXES))


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def edit(product_id: int) -> Any:
    product = get(db(), Product, product_id, "product")
    if request.method == "GET":
        return _form_page(Form(_values(product)), product)
    form = Form.posted(LABELS)
    saved = attempt(form, lambda: masterdata.update_product(db(), product_id, _patch(form)))
    if saved is None:
        return _form_page(form, get(db(), Product, product_id, "product"))
    flash(f"Product {saved.sku} saved.", "success")
    return redirect(url_for("products.index", q=saved.sku))


@bp.post("/<int:product_id>/packaging")
@login_required(Role.MANAGER)
def add_packaging(product_id: int) -> Any:
    product = get(db(), Product, product_id, "product")
    pack_form = Form.posted(PACK_LABELS)
    pack = attempt(pack_form, lambda: masterdata.add_packaging(
        db(), product_id, PackagingIn.model_validate(pack_form.data(PackagingIn))))
    if pack is None:
        product = get(db(), Product, product_id, "product")
        return _form_page(Form(_values(product)), product, pack_form)
    flash(f"{pack.level.capitalize()} GTIN {pack.gtin} of {product.sku} added: one holds "
          f"{qty_unit(pack.content, product.unit)}.", "success")
    return redirect(url_for("products.edit", product_id=product_id) + "#packaging")


@bp.post("/<int:product_id>/packaging/<int:packaging_id>/remove")
@login_required(Role.MANAGER)
def remove_packaging(product_id: int, packaging_id: int) -> Any:
    masterdata.remove_packaging(db(), product_id, packaging_id)
    flash("Packaging level removed.", "success")
    return redirect(url_for("products.edit", product_id=product_id) + "#packaging")


# --- the site's GS1 company prefix and the GTINs made from it (admins) ---------------------------


def _gtins_page(prefix_form: Form | None = None, assign_form: Form | None = None) -> Any:
    s = db()
    state = gtins.company_prefix(s)
    prefix_form = prefix_form or Form({"company_prefix": state.company_prefix or ""},
                                      {"company_prefix": "GS1 company prefix"})
    assign_form = assign_form or Form()
    without = list(s.scalars(select(Product).where(
        Product.gtin.is_(None), Product.active.is_(True), Product.kind == ProductKind.PRODUCT).order_by(Product.sku)))
    status = prefix_form.status if prefix_form.status != 200 else assign_form.status
    return render_template("products/gtins.html", state=state, prefix_form=prefix_form, assign_form=assign_form,
                           without=without), status


@bp.get("/gtins")
@login_required(Role.ADMIN)
def gtins_page() -> Any:
    return _gtins_page()


@bp.post("/gtins/prefix")
@login_required(Role.ADMIN)
def set_company_prefix() -> Any:
    form = Form.posted({"company_prefix": "GS1 company prefix"})
    saved = attempt(form, lambda: gtins.set_company_prefix(db(), CompanyPrefixIn.model_validate(
        {"company_prefix": form.value("company_prefix").strip() or None})))
    if saved is None:
        return _gtins_page(prefix_form=form)
    flash(f"GS1 company prefix set to {saved.gs1_company_prefix}." if saved.gs1_company_prefix
          else "GS1 company prefix cleared: products without a GTIN get plain labels.", "success")
    return redirect(url_for("products.gtins_page"))


@bp.post("/gtins/assign")
@login_required(Role.ADMIN)
def assign_gtins() -> Any:
    form = Form.posted()
    products = attempt(form, lambda: gtins.assign_gtins(db()))
    if products is None:
        return _gtins_page(assign_form=form)
    flash(f"{len(products)} product{'' if len(products) == 1 else 's'} got a GTIN: "
          + ", ".join(f"{p.sku} {p.gtin}" for p in products[:10]) + (" …" if len(products) > 10 else "")
          if products else "Every product already has a GTIN.", "success")
    return redirect(url_for("products.gtins_page"))
