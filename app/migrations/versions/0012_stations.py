"""stations: where a handheld works and the locations its pages start from

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("dock", "kitchen", "dispatch", "other", name="station_kind", native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("receiving_location_id", sa.Integer(), nullable=True),
        sa.Column("production_location_id", sa.Integer(), nullable=True),
        sa.Column("shipping_location_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["receiving_location_id"], ["location.id"],
                                name=op.f("fk_station_receiving_location_id_location")),
        sa.ForeignKeyConstraint(["production_location_id"], ["location.id"],
                                name=op.f("fk_station_production_location_id_location")),
        sa.ForeignKeyConstraint(["shipping_location_id"], ["location.id"],
                                name=op.f("fk_station_shipping_location_id_location")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("code", name=op.f("uq_station_code")),
    )


def downgrade() -> None:
    op.drop_table("station")
