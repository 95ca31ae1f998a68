"""Recipe pages: a product's bill of materials, shown to everyone and edited by managers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from app.models import Product, RecipeBasis, Role
from app.queries import recipes as q
from app.queries.documents import get
from app.schemas import RecipeIn, RecipeInputIn
from app.services import recipes
from app.views import choices
from app.views.forms import Form, attempt
from app.web import db, login_required

bp = Blueprint("recipes", __name__, url_prefix="/products")

LABELS = {"batch_quantity": "Batch output", "run_cost": "Run cost per batch"}
BLANK_ROWS = 3
BASES = [(RecipeBasis.PER_UNIT.value, "per unit of output"), (RecipeBasis.PER_BATCH.value, "per batch")]


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 100, not 1E+2 or 100.000000


def _page(form: Form, product: Product) -> Any:
    return render_template("recipes/form.html", form=form, product=product, products=choices.product_groups(),
                           bases=BASES, rows=form.row_indices("inputs", BLANK_ROWS)), form.status


@bp.get("/<int:product_id>/recipe")
@login_required()
def show(product_id: int) -> Any:
    product = get(db(), Product, product_id, "product")
    recipe = q.recipe_of(db(), product)
    values: dict[str, str] = {}
    if recipe is not None:
        values = {"batch_quantity": _plain(recipe.batch_quantity), "run_cost": _plain(recipe.run_cost),
                  "note": recipe.note or ""}
        for i, x in enumerate(recipe.inputs):
            values |= {f"inputs.{i}.sku": x.product.sku, f"inputs.{i}.quantity": _plain(x.quantity),
                       f"inputs.{i}.basis": x.basis.value}
    return _page(Form(values), product)


@bp.post("/<int:product_id>/recipe")
@login_required(Role.MANAGER)
def save(product_id: int) -> Any:
    product = get(db(), Product, product_id, "product")
    form = Form.posted(LABELS)

    def _save() -> object:
        data = form.data(RecipeIn)
        data["inputs"] = form.rows("inputs", RecipeInputIn, keys=("sku", "quantity"), label="Input")
        return recipes.save_recipe(db(), product.sku, RecipeIn.model_validate(data))

    if attempt(form, _save) is None:
        return _page(form, product)
    flash(f"Recipe of {product.sku} saved.", "success")
    return redirect(url_for("recipes.show", product_id=product_id))
