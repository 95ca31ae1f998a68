"""printing: label printers, site label defaults and print jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_printer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("default_size", sa.String(length=20), nullable=False),
        sa.Column("check_status", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("dpi IN (203, 300)", name=op.f("ck_label_printer_dpi_supported")),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_label_printer_port_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_printer")),
        sa.UniqueConstraint("name", name=op.f("uq_label_printer_name")),
    )
    op.create_table(
        "label_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pdf_size", sa.String(length=20), nullable=False),
        sa.Column("zpl_size", sa.String(length=20), nullable=False),
        sa.Column("zpl_dpi", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("zpl_dpi IN (203, 300)", name=op.f("ck_label_settings_dpi_supported")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_settings")),
    )
    op.create_table(
        "label_print_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("printer_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("size", sa.String(length=20), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("bytes_sent", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["printer_id"], ["label_printer.id"], name=op.f("fk_label_print_job_printer_id_label_printer")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_label_print_job_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_print_job")),
    )
    with op.batch_alter_table("label_print_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_print_job_printer_id"), ["printer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("label_print_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_print_job_printer_id"))

    op.drop_table("label_print_job")
    op.drop_table("label_settings")
    op.drop_table("label_printer")
