"""fsma kde: our sites' business name and phone; harvest, cooling, packing and landing details on receipts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECEIPT_TEXT = ("harvest_location", "harvester", "cooling_location", "packing_location")
_RECEIPT_DATES = ("harvested_on", "cooled_on", "packed_on", "landed_on")


def upgrade() -> None:
    with op.batch_alter_table("warehouse") as batch:
        batch.add_column(sa.Column("business_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(length=50), nullable=True))
    with op.batch_alter_table("receipt") as batch:
        for name in _RECEIPT_DATES:
            batch.add_column(sa.Column(name, sa.Date(), nullable=True))
        for name in _RECEIPT_TEXT:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipt") as batch:
        for name in (*_RECEIPT_TEXT, *_RECEIPT_DATES):
            batch.drop_column(name)
    with op.batch_alter_table("warehouse") as batch:
        batch.drop_column("phone")
        batch.drop_column("business_name")
