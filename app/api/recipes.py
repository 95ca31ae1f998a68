"""API for recipes (bills of materials) and the plan of a batch made from one."""

from __future__ import annotations

from app.api import endpoint
from app.models import Role, User
from app.queries import recipes as q
from app.schemas import RecipeIn, RecipeOut, RecipePlanOut, RecipePlanQuery
from app.services import recipes
from app.web import db, today


@endpoint("/products/<sku>/recipe", summary="Get a product's recipe (bill of materials)", tag="recipes",
          response=RecipeOut, errors=(404,))
def get_recipe(user: User, sku: str) -> RecipeOut:
    return q.recipe_out(q.recipe_for(db(), sku))


@endpoint("/products/<sku>/recipe", "PUT", summary=(
    "Set a product's recipe: inputs per unit of output or per batch, the batch's expected output, "
    "the run cost per batch"), tag="recipes", role=Role.MANAGER, body=RecipeIn, response=RecipeOut,
    errors=(404, 422))
def put_recipe(user: User, sku: str, body: RecipeIn) -> RecipeOut:
    recipes.save_recipe(db(), sku, body)
    return q.recipe_out(q.recipe_for(db(), sku))


@endpoint("/products/<sku>/recipe/plan", summary=(
    "Scale the recipe to a batch size and propose input lots, first expiry first out, among stock "
    "production may use"), tag="recipes", query=RecipePlanQuery, response=RecipePlanOut, errors=(404, 422))
def plan_recipe(user: User, sku: str, query: RecipePlanQuery) -> RecipePlanOut:
    session = db()
    recipe = q.recipe_for(session, sku)
    location = q.location_for(session, query.location) if query.location is not None else None
    return q.plan(session, recipe, query.quantity, today=today(), location=location)
