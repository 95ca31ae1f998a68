"""waste: write-offs and bulk write-off batches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_off_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("written_off_on", sa.Date(), nullable=False),
        sa.Column("preview_version", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_write_off_batch_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_off_batch")),
        sa.UniqueConstraint("number", name=op.f("uq_write_off_batch_number")),
    )
    op.create_table(
        "write_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "expired",
                "damaged",
                "quality",
                "recall",
                "sample",
                "other",
                name="write_off_reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("written_off_on", sa.Date(), nullable=False),
        sa.Column("unit_cost", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("value", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_write_off_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["write_off_batch.id"], name=op.f("fk_write_off_batch_id_write_off_batch")
        ),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_write_off_location_id_location")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_write_off_lot_id_lot")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_write_off_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_off")),
        sa.UniqueConstraint("number", name=op.f("uq_write_off_number")),
    )
    with op.batch_alter_table("write_off", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_write_off_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_write_off_date_lot", ["written_off_on", "lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_off_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_off_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("write_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_write_off_lot_id"))
        batch_op.drop_index(batch_op.f("ix_write_off_location_id"))
        batch_op.drop_index("ix_write_off_date_lot")
        batch_op.drop_index(batch_op.f("ix_write_off_batch_id"))

    op.drop_table("write_off")
    op.drop_table("write_off_batch")
