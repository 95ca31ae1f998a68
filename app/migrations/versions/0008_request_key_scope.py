"""idempotency keys scoped to their user, fingerprinted, with the answer they gave, expiring

The request_key table is rebuilt: its identity becomes (user, key) instead of the key alone, and it
gains the request's fingerprint, the stored answer (status and document) and an index on its age
for purging. Existing rows are dropped, not migrated: they have no fingerprint to check a replay
against, and keys only ever protect a retry within minutes or hours of the first request.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("request_key")
    op.create_table(
        "request_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_request_key_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_key")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_request_key_user_id_key")),
    )
    with op.batch_alter_table("request_key") as batch:
        batch.create_index(batch.f("ix_request_key_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("request_key")
    op.create_table(
        "request_key",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_request_key_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_request_key")),
    )
