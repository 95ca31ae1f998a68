"""stock gate: managers' overrides of customer rules on shipments; reasons for a made lot's later expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipment") as batch:
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("override_rules", sa.Text(), nullable=True))
        batch.add_column(sa.Column("override_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("override_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_shipment_override_user_id_user_account"), "user_account",
                                 ["override_user_id"], ["id"])
    with op.batch_alter_table("production_run") as batch:
        batch.add_column(sa.Column("expiry_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("production_run") as batch:
        batch.drop_column("expiry_reason")
    with op.batch_alter_table("shipment") as batch:
        batch.drop_constraint(op.f("fk_shipment_override_user_id_user_account"), type_="foreignkey")
        batch.drop_column("override_at")
        batch.drop_column("override_user_id")
        batch.drop_column("override_rules")
        batch.drop_column("override_reason")
