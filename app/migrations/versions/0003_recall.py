"""recall: recalls, their lots and consignee notifications, and mock recall drills

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recall",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="recall_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column(
            "scope",
            sa.Enum("forward", "upstream", name="recall_scope", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "keep_recalled", "release", name="recall_outcome", native_enum=False, create_constraint=True, length=20
            ),
            nullable=True,
        ),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user_account.id"], name=op.f("fk_recall_closed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["user_account.id"], name=op.f("fk_recall_opened_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall")),
        sa.UniqueConstraint("number", name=op.f("uq_recall_number")),
    )
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recall_status"), ["status"], unique=False)

    op.create_table(
        "recall_drill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("forward", "upstream", name="drill_scope", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("lot_count", sa.Integer(), nullable=False),
        sa.Column("consignee_count", sa.Integer(), nullable=False),
        sa.Column("unbalanced_count", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_recall_drill_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_drill")),
        sa.UniqueConstraint("number", name=op.f("uq_recall_drill_number")),
    )
    with op.batch_alter_table("recall_drill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recall_drill_started_at"), ["started_at"], unique=False)

    op.create_table(
        "recall_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "start", "input", "output", name="recall_lot_role", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column(
            "previous_status",
            sa.Enum(
                "released",
                "hold",
                "recalled",
                name="previous_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("previous_hold_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_recall_lot_lot_id_lot")),
        sa.ForeignKeyConstraint(["recall_id"], ["recall.id"], name=op.f("fk_recall_lot_recall_id_recall")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_lot")),
        sa.UniqueConstraint("recall_id", "lot_id", name=op.f("uq_recall_lot_recall_id_lot_id")),
    )
    with op.batch_alter_table("recall_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recall_lot_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recall_lot_recall_id"), ["recall_id"], unique=False)

    op.create_table(
        "recall_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("quantity_returned", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("quantity_destroyed", app.db.Exact(precision=24, scale=6), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_recall_notification_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["recall_id"], ["recall.id"], name=op.f("fk_recall_notification_recall_id_recall")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_recall_notification_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_notification")),
    )
    with op.batch_alter_table("recall_notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recall_notification_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recall_notification_recall_id"), ["recall_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recall_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recall_notification_recall_id"))
        batch_op.drop_index(batch_op.f("ix_recall_notification_customer_id"))

    op.drop_table("recall_notification")
    with op.batch_alter_table("recall_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recall_lot_recall_id"))
        batch_op.drop_index(batch_op.f("ix_recall_lot_lot_id"))

    op.drop_table("recall_lot")
    with op.batch_alter_table("recall_drill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recall_drill_started_at"))

    op.drop_table("recall_drill")
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recall_status"))

    op.drop_table("recall")
