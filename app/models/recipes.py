"""Recipes (bills of materials) and what a production run planned from one.

A recipe makes `batch_quantity` of its product per batch (the expected yield). Each input is
needed either per unit of output or per batch; a run planned for P units is P / batch_quantity
batches, so a per-unit input needs quantity × P and a per-batch input quantity × P / batch_quantity.
The optional run cost is per batch and becomes the run's extra cost, scaled the same way.
"""

from __future__ import annotations

import enum
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact
from app.models.common import TimestampMixin, enum_column
from app.models.parties import Product

# Planned quantities are kept to the gram/millilitre a kitchen scale shows; costs to the cent.
QTY_PLACES = Decimal("0.001")
COST_PLACES = Decimal("0.01")


class RecipeBasis(enum.StrEnum):
    PER_UNIT = "per_unit"
    PER_BATCH = "per_batch"


class Recipe(TimestampMixin, Base):
    __tablename__ = "recipe"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), unique=True)
    # Expected output of one batch, in the product's unit.
    batch_quantity: Mapped[Decimal] = mapped_column(Exact())
    # Extra cost of one batch (labour, energy), added to the run's cost.
    run_cost: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    note: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Product] = relationship()
    inputs: Mapped[list[RecipeInput]] = relationship(back_populates="recipe", order_by="RecipeInput.line_no",
                                                     cascade="all, delete-orphan")

    def batches(self, planned: Decimal) -> Decimal:
        return planned / self.batch_quantity

    def need(self, item: RecipeInput, planned: Decimal) -> Decimal:
        """How much of `item` a run planned for `planned` units of output needs."""
        scale = planned if item.basis is RecipeBasis.PER_UNIT else self.batches(planned)
        return (item.quantity * scale).quantize(QTY_PLACES, ROUND_HALF_UP)

    def cost(self, planned: Decimal) -> Decimal:
        """The run cost of a run planned for `planned` units of output."""
        return (self.run_cost * self.batches(planned)).quantize(COST_PLACES, ROUND_HALF_UP)


class RecipeInput(Base):
    __tablename__ = "recipe_input"
    __table_args__ = (UniqueConstraint("recipe_id", "product_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact())
    basis: Mapped[RecipeBasis] = mapped_column(enum_column(RecipeBasis, "recipe_basis"))
    recipe: Mapped[Recipe] = relationship(back_populates="inputs")
    product: Mapped[Product] = relationship()


class RunPlanLine(Base):
    """One input product of a run made from a recipe: how much the recipe asked for."""

    __tablename__ = "run_plan_line"
    __table_args__ = (UniqueConstraint("run_id", "product_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    planned_quantity: Mapped[Decimal] = mapped_column(Exact())
    product: Mapped[Product] = relationship()
