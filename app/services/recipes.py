"""Recipe use cases: set a product's recipe (bill of materials)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import Product, Recipe, RecipeInput
from app.rules.gate import lock_products
from app.schemas import RecipeIn
from app.services.base import transactional
from app.services.lookups import product_by_sku


def _input_product(session: Session, sku: str, field: str) -> Product:
    # An unknown input is a 404 naming the field, as in every other booking that names products.
    return product_by_sku(session, sku, field)


@transactional
def save_recipe(session: Session, sku: str, cmd: RecipeIn) -> Recipe:
    """Create or replace the recipe of product `sku`: every input checked, nothing half-saved."""
    product = product_by_sku(session, sku)
    # Two managers saving the same product's first recipe at once: the second waits, then replaces.
    lock_products(session, [product.id])
    seen: dict[int, int] = {}
    inputs: list[RecipeInput] = []
    for i, item in enumerate(cmd.inputs):
        field = f"inputs.{i}.sku"
        material = _input_product(session, item.sku, field)
        if material.id == product.id:
            raise Invalid(f"a recipe for {product.sku} cannot use {product.sku} itself", field)
        if material.id in seen:
            raise Invalid(f"{material.sku} is already input {seen[material.id] + 1}; give each input once", field)
        seen[material.id] = i
        inputs.append(RecipeInput(line_no=i + 1, product_id=material.id, quantity=item.quantity, basis=item.basis))
    recipe = session.scalar(select(Recipe).where(Recipe.product_id == product.id))
    if recipe is None:
        recipe = Recipe(product_id=product.id, batch_quantity=cmd.batch_quantity)
        session.add(recipe)
    else:
        # The old lines go first: a kept input would otherwise meet itself in the unique constraint.
        recipe.inputs.clear()
        session.flush()
    recipe.batch_quantity = cmd.batch_quantity
    recipe.run_cost = cmd.run_cost
    recipe.note = cmd.note
    recipe.inputs.extend(inputs)
    session.flush()
    return recipe
