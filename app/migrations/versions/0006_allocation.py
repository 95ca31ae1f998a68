"""allocation: stock set aside for order lines, and the shortages of the last allocation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("picked_quantity", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "picked", "shipped", "released", name="allocation_state", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("released_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("picked_quantity >= 0 AND picked_quantity <= quantity",
                           name=op.f("ck_allocation_picked_within")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_allocation_positive")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_allocation_location_id_location")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_allocation_lot_id_lot")),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"],
                                name=op.f("fk_allocation_order_line_id_order_line")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
    )
    op.create_index("ix_allocation_line_state", "allocation", ["order_line_id", "state"], unique=False)
    op.create_index(op.f("ix_allocation_location_id"), "allocation", ["location_id"], unique=False)
    op.create_index("ix_allocation_lot_state", "allocation", ["lot_id", "state"], unique=False)
    op.create_table(
        "allocation_shortage",
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("missing", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"],
                                name=op.f("fk_allocation_shortage_order_line_id_order_line")),
        sa.PrimaryKeyConstraint("order_line_id", name=op.f("pk_allocation_shortage")),
    )


def downgrade() -> None:
    op.drop_table("allocation_shortage")
    op.drop_index("ix_allocation_lot_state", table_name="allocation")
    op.drop_index(op.f("ix_allocation_location_id"), table_name="allocation")
    op.drop_index("ix_allocation_line_state", table_name="allocation")
    op.drop_table("allocation")
