"""public recall: consignee notices (the sending queue), their deliveries and answers, effectiveness level

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recall_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('status', sa.Enum('prepared', 'queued', 'sending', 'sent', 'refused', 'failed', name='notice_status',
                                native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_recall_notice_customer_id_customer')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_notice_recall_id_recall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_notice')),
    sa.UniqueConstraint('recall_id', 'customer_id', name=op.f('uq_recall_notice_recall_id_customer_id'))
    )
    with op.batch_alter_table('recall_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_notice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_notice_recall_id'), ['recall_id'], unique=False)
        batch_op.create_index('ix_recall_notice_status_next_attempt_at', ['status', 'next_attempt_at'],
                              unique=False)

    op.create_table('recall_notice_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['recall_notice.id'],
                            name=op.f('fk_recall_notice_delivery_notice_id_recall_notice')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_recall_notice_delivery_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_notice_delivery')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_recall_notice_delivery_token_hash'))
    )
    with op.batch_alter_table('recall_notice_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_notice_delivery_notice_id'), ['notice_id'], unique=False)

    op.create_table('recall_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('answered_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received', sa.Boolean(), nullable=False),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                            name=op.f('fk_recall_response_customer_id_customer')),
    sa.ForeignKeyConstraint(['notice_id'], ['recall_notice.id'],
                            name=op.f('fk_recall_response_notice_id_recall_notice')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_response_recall_id_recall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_response'))
    )
    with op.batch_alter_table('recall_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_response_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_response_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_response_recall_id'), ['recall_id'], unique=False)

    op.create_table('recall_response_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', app.db.Exact(precision=24, scale=6), nullable=False),
    sa.Column('destroyed', app.db.Exact(precision=24, scale=6), nullable=False),
    sa.Column('returned', app.db.Exact(precision=24, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_recall_response_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['response_id'], ['recall_response.id'],
                            name=op.f('fk_recall_response_line_response_id_recall_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_response_line'))
    )
    with op.batch_alter_table('recall_response_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_response_line_response_id'), ['response_id'], unique=False)

    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_level', sa.Enum('A', 'B', 'C', 'D', 'E', name='check_level',
                                                            native_enum=False, create_constraint=True, length=20),
                                      server_default='A', nullable=False))
        batch_op.add_column(sa.Column('check_pct', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.drop_column('check_pct')
        batch_op.drop_column('check_level')

    with op.batch_alter_table('recall_response_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_response_line_response_id'))

    op.drop_table('recall_response_line')
    with op.batch_alter_table('recall_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_response_recall_id'))
        batch_op.drop_index(batch_op.f('ix_recall_response_notice_id'))
        batch_op.drop_index(batch_op.f('ix_recall_response_customer_id'))

    op.drop_table('recall_response')
    with op.batch_alter_table('recall_notice_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_notice_delivery_notice_id'))

    op.drop_table('recall_notice_delivery')
    with op.batch_alter_table('recall_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_recall_notice_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_recall_notice_recall_id'))
        batch_op.drop_index(batch_op.f('ix_recall_notice_customer_id'))

    op.drop_table('recall_notice')
