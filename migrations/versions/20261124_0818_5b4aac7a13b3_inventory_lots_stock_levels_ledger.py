"""inventory: lots, stock levels, ledger

Revision ID: 5b4aac7a13b3
Revises: 94a1b495c474
Create Date: 2026-11-24 08:18:22.829757

"""
import sqlalchemy as sa
from alembic import op

import shop.core.models

# revision identifiers, used by Alembic.
revision = '5b4aac7a13b3'
down_revision = '94a1b495c474'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('counter_sale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('total_vnd', sa.Integer(), nullable=False),
    sa.Column('payment_method', sa.Enum('cash', 'card', 'bank_transfer', name='paymentmethod', native_enum=False,
                                        create_constraint=True, length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('created_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_vnd >= 0', name=op.f('ck_counter_sale_total_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_counter_sale_actor_id_user')),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_counter_sale_point_id_sales_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_sale')),
    sa.UniqueConstraint('number', name=op.f('uq_counter_sale_number'))
    )
    with op.batch_alter_table('counter_sale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_sale_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_counter_sale_point_id'), ['point_id'], unique=False)

    op.create_table('document_counter',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_document_counter_point_id_sales_point')),
    sa.PrimaryKeyConstraint('point_id', 'kind', name=op.f('pk_document_counter'))
    )
    op.create_table('lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=60), nullable=False),
    sa.Column('production_date', sa.Date(), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('recalled_at', shop.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recall_reason', sa.Text(), nullable=True),
    sa.Column('created_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expiry_date IS NULL OR expiry_date >= production_date',
                       name=op.f('ck_lot_expiry_after_production')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_lot_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot')),
    sa.UniqueConstraint('product_id', 'lot_code', name='uq_lot_product_code')
    )
    op.create_table('counter_sale_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('lot_code', sa.String(length=60), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_vnd', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_counter_sale_line_quantity_positive')),
    sa.CheckConstraint('unit_price_vnd >= 0', name=op.f('ck_counter_sale_line_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_counter_sale_line_lot_id_lot')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_counter_sale_line_product_id_product')),
    sa.ForeignKeyConstraint(['sale_id'], ['counter_sale.id'], name=op.f('fk_counter_sale_line_sale_id_counter_sale'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_sale_line'))
    )
    with op.batch_alter_table('counter_sale_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_sale_line_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_counter_sale_line_sale_id'), ['sale_id'], unique=False)

    op.create_table('stock_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_level_on_hand_not_negative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_stock_level_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_level_reserved_not_negative')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_stock_level_lot_id_lot')),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_stock_level_point_id_sales_point')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_level_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('point_id', 'product_id', 'lot_id', name='uq_stock_level_point_product_lot')
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_level_product_id'), ['product_id'], unique=False)

    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('receipt', 'transfer_out', 'transfer_in', 'counter_sale', 'order_fulfilment', 'return',
                              'adjustment', 'recall', name='movementkind', native_enum=False, create_constraint=True),
              nullable=False),
    sa.Column('reason', sa.Enum('count_correction', 'damaged', 'expired_write_off', 'sample_promotion', 'lost',
                                name='adjustmentreason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('unit_cost_vnd', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'adjustment' AND reason IS NOT NULL) OR (kind <> 'adjustment' AND reason IS NULL)",
                       name=op.f('ck_stock_movement_reason_for_adjustments')),
    sa.CheckConstraint('quantity <> 0', name=op.f('ck_stock_movement_quantity_not_zero')),
    sa.CheckConstraint('unit_cost_vnd IS NULL OR unit_cost_vnd >= 0',
                       name=op.f('ck_stock_movement_unit_cost_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_stock_movement_actor_id_user')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_stock_movement_lot_id_lot')),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_stock_movement_point_id_sales_point')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_movement_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_stock_movement_level', ['point_id', 'product_id', 'lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('ix_stock_movement_point_time', ['point_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_reference'), ['reference'], unique=False)



def downgrade():
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_reference'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_product_id'))
        batch_op.drop_index('ix_stock_movement_point_time')
        batch_op.drop_index(batch_op.f('ix_stock_movement_lot_id'))
        batch_op.drop_index('ix_stock_movement_level')
        batch_op.drop_index(batch_op.f('ix_stock_movement_actor_id'))

    op.drop_table('stock_movement')
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_level_product_id'))
        batch_op.drop_index(batch_op.f('ix_stock_level_lot_id'))

    op.drop_table('stock_level')
    with op.batch_alter_table('counter_sale_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_sale_line_sale_id'))
        batch_op.drop_index(batch_op.f('ix_counter_sale_line_product_id'))

    op.drop_table('counter_sale_line')
    op.drop_table('lot')
    op.drop_table('document_counter')
    with op.batch_alter_table('counter_sale', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_sale_point_id'))
        batch_op.drop_index(batch_op.f('ix_counter_sale_created_at'))

    op.drop_table('counter_sale')
