"""Read side of recipes: a product's recipe, and the plan of a batch scaled from it with input lots
proposed first expiry first out among the stock the gate lets production consume."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import allocation as fefo
from app.errors import NotFound
from app.models import Balance, Location, Lot, Product, ProductionRun, Recipe, RecipeInput
from app.rules.gate import Purpose, Take, judge
from app.schemas import (
    PlanInputOut,
    ProposedLotOut,
    RecipeInputOut,
    RecipeOut,
    RecipePlanOut,
    RunPlanOut,
)

ZERO = Decimal(0)


def product_for(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with sku {sku!r}", "sku")
    return product


def location_for(session: Session, code: str) -> Location:
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise NotFound(f"no location with code {code!r}", "location")
    return location


def recipe_of(session: Session, product: Product) -> Recipe | None:
    return session.scalar(select(Recipe).where(Recipe.product_id == product.id)
                          .options(selectinload(Recipe.inputs).selectinload(RecipeInput.product)))


def recipe_for(session: Session, sku: str) -> Recipe:
    """The recipe of product `sku`, or a 404 naming the sku."""
    recipe = recipe_of(session, product_for(session, sku))
    if recipe is None:
        raise NotFound(f"{sku} has no recipe", "sku")
    return recipe


def recipe_out(recipe: Recipe) -> RecipeOut:
    p = recipe.product
    return RecipeOut(
        sku=p.sku, name=p.name, unit=p.unit, batch_quantity=recipe.batch_quantity, run_cost=recipe.run_cost,
        note=recipe.note,
        inputs=[RecipeInputOut(sku=x.product.sku, name=x.product.name, unit=x.product.unit, quantity=x.quantity,
                               basis=x.basis) for x in recipe.inputs],
    )


def skus_with_recipes(session: Session) -> set[str]:
    return set(session.scalars(select(Product.sku).join(Recipe, Recipe.product_id == Product.id)))


def plan(session: Session, recipe: Recipe, planned: Decimal, *, today: date,
         location: Location | None = None) -> RecipePlanOut:
    """The recipe scaled to `planned` units of output, each input's lots proposed by FEFO.

    Only stock the gate would let production consume today is proposed (no hold, recall,
    quarantine or expiry; free of other orders' allocations); a lot with too little is used up and
    the next one taken, and whatever usable stock cannot cover is reported as short.
    """
    product_ids = [x.product_id for x in recipe.inputs]
    q = (select(Lot, Location, Balance.on_hand)
         .join(Balance, Balance.lot_id == Lot.id).join(Location, Balance.location_id == Location.id)
         .where(Lot.product_id.in_(product_ids), Balance.on_hand > 0)
         .options(selectinload(Lot.product)))
    if location is not None:
        q = q.where(Location.warehouse_id == location.warehouse_id)
    rows = session.execute(q).all()
    verdicts = judge(session, [Take(lot, loc, ZERO) for lot, loc, _ in rows], Purpose.CONSUME, on=today)
    stock: dict[int, list[tuple[fefo.StockLot, Lot, Location]]] = defaultdict(list)
    for (lot, loc, _), verdict in zip(rows, verdicts, strict=True):
        if verdict.refusals or verdict.free <= 0:
            continue
        key = fefo.StockLot(lot_id=lot.id, lot_code=lot.code, sku=lot.product.sku, expiry=lot.expiry,
                            made_on=lot.made_on, available=verdict.free, location_id=loc.id,
                            location_code=loc.code)
        stock[lot.product_id].append((key, lot, loc))
    inputs = []
    for item in recipe.inputs:
        need = recipe.need(item, planned)
        left = need
        lots = []
        for key, lot, loc in sorted(stock[item.product_id], key=lambda s: fefo.fefo_key(s[0])):
            if left <= 0:
                break
            take = min(left, key.available)
            lots.append(ProposedLotOut(lot_id=lot.id, lot_code=lot.code, expiry=lot.expiry, location=loc.code,
                                       available=key.available, quantity=take))
            left -= take
        inputs.append(PlanInputOut(sku=item.product.sku, name=item.product.name, unit=item.product.unit,
                                   basis=item.basis, planned=need, short=max(left, ZERO), lots=lots))
    return RecipePlanOut(sku=recipe.product.sku, unit=recipe.product.unit, planned_quantity=planned,
                         batches=recipe.batches(planned).quantize(Decimal("0.001")), run_cost=recipe.cost(planned),
                         inputs=inputs)


def run_plan(run: ProductionRun) -> tuple[list[RunPlanOut], Decimal | None]:
    """Planned against actual per input product, and the yield (actual ÷ planned output, in %)."""
    if run.planned_quantity is None:
        return [], None
    actual: dict[int, Decimal] = defaultdict(Decimal)
    products: dict[int, Product] = {}
    for x in run.inputs:
        actual[x.lot.product_id] += x.quantity
        products[x.lot.product_id] = x.lot.product
    lines = [RunPlanOut(sku=p.product.sku, name=p.product.name, unit=p.product.unit,
                        planned=p.planned_quantity, actual=actual.pop(p.product_id, ZERO)) for p in run.plan]
    # Inputs the recipe does not name were still consumed: planned nothing, used something.
    lines += [RunPlanOut(sku=products[pid].sku, name=products[pid].name, unit=products[pid].unit,
                         planned=ZERO, actual=q) for pid, q in actual.items()]
    yield_pct = (run.output_quantity * 100 / run.planned_quantity).quantize(Decimal("0.01"))
    return lines, yield_pct
