"""gs1 company prefix: the site's own GTINs, made from the prefix GS1 gave it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("label_settings") as batch:
        batch.add_column(sa.Column("gs1_company_prefix", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("gs1_next_item_reference", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("label_settings") as batch:
        batch.drop_column("gs1_next_item_reference")
        batch.drop_column("gs1_company_prefix")
