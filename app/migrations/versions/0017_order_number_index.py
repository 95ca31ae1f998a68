"""order number index: a scanned or typed order number is found by its upper case without reading every order

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sales_order_number_upper", "sales_order", [sa.text("upper(number)")])


def downgrade() -> None:
    op.drop_index("ix_sales_order_number_upper", table_name="sales_order")
