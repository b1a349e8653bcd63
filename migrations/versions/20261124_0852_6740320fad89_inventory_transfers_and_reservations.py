"""inventory: transfers and reservations

Transfers between points (transfer, transfer_line). Reservations need no table: they use stock_level.reserved.

Revision ID: 6740320fad89
Revises: 55f65d38e605
Create Date: 2026-11-24 08:52:45.237115

"""
import sqlalchemy as sa
from alembic import op

import shop.core.models

# revision identifiers, used by Alembic.
revision = '6740320fad89'
down_revision = '55f65d38e605'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('from_point_id', sa.Integer(), nullable=False),
    sa.Column('to_point_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'shipped', 'received', 'cancelled', name='transferstatus', native_enum=False,
                                create_constraint=True, length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', shop.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', shop.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', shop.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('from_point_id <> to_point_id', name=op.f('ck_transfer_transfer_between_two_points')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_transfer_created_by_id_user')),
    sa.ForeignKeyConstraint(['from_point_id'], ['sales_point.id'], name=op.f('fk_transfer_from_point_id_sales_point')),
    sa.ForeignKeyConstraint(['to_point_id'], ['sales_point.id'], name=op.f('fk_transfer_to_point_id_sales_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer')),
    sa.UniqueConstraint('number', name=op.f('uq_transfer_number'))
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_from_point_id'), ['from_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_to_point_id'), ['to_point_id'], unique=False)

    op.create_table('transfer_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity_shipped', sa.Integer(), nullable=False),
    sa.Column('quantity_accepted', sa.Integer(), nullable=True),
    sa.Column('quantity_rejected', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('quantity_accepted IS NULL OR quantity_accepted >= 0',
                       name=op.f('ck_transfer_line_accepted_not_negative')),
    sa.CheckConstraint('quantity_rejected IS NULL OR quantity_rejected >= 0',
                       name=op.f('ck_transfer_line_rejected_not_negative')),
    sa.CheckConstraint('quantity_shipped > 0', name=op.f('ck_transfer_line_quantity_shipped_positive')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_transfer_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_transfer_line_product_id_product')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], name=op.f('fk_transfer_line_transfer_id_transfer'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_line'))
    )
    with op.batch_alter_table('transfer_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_line_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_line_transfer_id'), ['transfer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('transfer_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_line_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_line_product_id'))

    op.drop_table('transfer_line')
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_to_point_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_from_point_id'))

    op.drop_table('transfer')
