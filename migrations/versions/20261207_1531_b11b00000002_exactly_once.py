"""one-time keys of creating forms, the order's version, buyers' orders by phone and email (issue 11: exactly once)

Revision ID: b11b00000002
Revises: b11a00000001
Create Date: 2026-12-07 15:31:00

"""
import sqlalchemy as sa
from alembic import op

import shop.core.models

# revision identifiers, used by Alembic.
revision = 'b11b00000002'
down_revision = 'b11a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('once_key',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('result_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_once_key'))
    )
    with op.batch_alter_table('once_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_once_key_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('customer_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_customer_order_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_order_email'), ['email'], unique=False)
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.alter_column('actor_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.alter_column('actor_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('customer_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_order_email'))
        batch_op.drop_index(batch_op.f('ix_customer_order_phone'))
        batch_op.drop_column('version')
    with op.batch_alter_table('once_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_once_key_created_at'))
    op.drop_table('once_key')
