"""packaging levels: a product's case and pallet GTINs with how much of the product each holds

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "packaging_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("content", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_packaging_level_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packaging_level")),
        sa.UniqueConstraint("gtin", name=op.f("uq_packaging_level_gtin")),
    )
    with op.batch_alter_table("packaging_level", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packaging_level_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("packaging_level", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packaging_level_product_id"))
    op.drop_table("packaging_level")
