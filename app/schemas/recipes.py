"""Recipes (bills of materials) and the plan of a batch made from one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from app.models import RecipeBasis
from app.schemas.common import Amount, Code, Command, LongText, Money, Out, PositiveQty, blank_to_none


class RecipeInputIn(Command):
    sku: Code = Field(description="the input product: an existing, active product other than the recipe's own")
    quantity: PositiveQty = Field(description="how much of the input, in the input product's unit")
    basis: RecipeBasis = Field(default=RecipeBasis.PER_UNIT, description=(
        "`per_unit`: the quantity is needed for each unit of output; `per_batch`: for each batch "
        "of `batch_quantity`"))


class RecipeIn(Command):
    batch_quantity: PositiveQty = Field(description=(
        "the expected output of one batch, in the product's unit (the recipe's yield)"))
    run_cost: Money = Field(default=Decimal(0), description=(
        "extra cost of one batch (labour, energy); becomes the run's extra cost, scaled to the batch size"))
    note: LongText | None = None
    inputs: Annotated[list[RecipeInputIn], Field(min_length=1, max_length=100, description=(
        "each input product at most once"))]

    _blank = field_validator("note", mode="before")(classmethod(lambda cls, v: blank_to_none(v)))


class RecipeInputOut(Out):
    sku: str
    name: str
    unit: str
    quantity: Amount
    basis: RecipeBasis


class RecipeOut(Out):
    sku: str
    name: str
    unit: str
    batch_quantity: Amount
    run_cost: Amount
    note: str | None
    inputs: list[RecipeInputOut]


class RecipePlanQuery(Command):
    quantity: PositiveQty = Field(description="the planned output (batch size), in the product's unit")
    location: Code | None = Field(default=None, description=(
        "where the batch is made: lots are proposed from that location's warehouse (default: every warehouse)"))


class ProposedLotOut(Out):
    lot_id: int
    lot_code: str
    expiry: date | None
    location: str
    available: Amount = Field(description="usable stock of the lot there, free of other orders' allocations")
    quantity: Amount = Field(description="how much of it the plan takes")


class PlanInputOut(Out):
    sku: str
    name: str
    unit: str
    basis: RecipeBasis
    planned: Amount
    short: Amount = Field(description="what usable stock cannot cover (0 when it can)")
    lots: list[ProposedLotOut] = Field(description="first expiry first out, among stock the gate lets production use")


class RecipePlanOut(Out):
    sku: str
    unit: str
    planned_quantity: Amount
    batches: Amount
    run_cost: Amount
    inputs: list[PlanInputOut]


class RunPlanOut(Out):
    sku: str
    name: str
    unit: str
    planned: Amount
    actual: Amount
