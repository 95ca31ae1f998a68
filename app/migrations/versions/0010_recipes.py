"""recipes: a product's bill of materials, and the plan a production run was made to

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("batch_quantity", app.db.Exact(), nullable=False),
        sa.Column("run_cost", app.db.Exact(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_recipe_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe")),
        sa.UniqueConstraint("product_id", name=op.f("uq_recipe_product_id")),
    )
    op.create_table(
        "recipe_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", app.db.Exact(), nullable=False),
        sa.Column("basis", sa.Enum("per_unit", "per_batch", name="recipe_basis", native_enum=False,
                                   create_constraint=True, length=20), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_recipe_input_product_id_product")),
        sa.ForeignKeyConstraint(["recipe_id"], ["recipe.id"], name=op.f("fk_recipe_input_recipe_id_recipe")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_input")),
        sa.UniqueConstraint("recipe_id", "product_id", name=op.f("uq_recipe_input_recipe_id_product_id")),
    )
    op.create_index(op.f("ix_recipe_input_recipe_id"), "recipe_input", ["recipe_id"], unique=False)
    op.create_index(op.f("ix_recipe_input_product_id"), "recipe_input", ["product_id"], unique=False)
    op.create_table(
        "run_plan_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("planned_quantity", app.db.Exact(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_run_plan_line_product_id_product")),
        sa.ForeignKeyConstraint(["run_id"], ["production_run.id"], name=op.f("fk_run_plan_line_run_id_production_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_plan_line")),
        sa.UniqueConstraint("run_id", "product_id", name=op.f("uq_run_plan_line_run_id_product_id")),
    )
    op.create_index(op.f("ix_run_plan_line_run_id"), "run_plan_line", ["run_id"], unique=False)
    op.create_index(op.f("ix_run_plan_line_product_id"), "run_plan_line", ["product_id"], unique=False)
    with op.batch_alter_table("production_run") as batch:
        batch.add_column(sa.Column("planned_quantity", app.db.Exact(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("production_run") as batch:
        batch.drop_column("planned_quantity")
    op.drop_index(op.f("ix_run_plan_line_product_id"), table_name="run_plan_line")
    op.drop_index(op.f("ix_run_plan_line_run_id"), table_name="run_plan_line")
    op.drop_table("run_plan_line")
    op.drop_index(op.f("ix_recipe_input_product_id"), table_name="recipe_input")
    op.drop_index(op.f("ix_recipe_input_recipe_id"), table_name="recipe_input")
    op.drop_table("recipe_input")
    op.drop_table("recipe")
