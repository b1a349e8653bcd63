"""sales points registry

Revision ID: 55f65d38e605
Revises: 5b4aac7a13b3
Create Date: 2026-11-24 08:26:38.491343

"""
import sqlalchemy as sa
from alembic import op

import shop.core.models

# revision identifiers, used by Alembic.
revision = '55f65d38e605'
down_revision = '5b4aac7a13b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('point_location_type',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('location_type', sa.Enum('station_airport_port', 'highway_rest_stop', 'shopping_centre_market',
                                       'tourist_restaurant_hotel', 'craft_village', 'commercial_centre_industrial',
                                       'fair_exhibition', 'post_office', name='locationtype', native_enum=False,
                                       create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_point_location_type_point_id_sales_point'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('point_id', 'location_type', name=op.f('pk_point_location_type'))
    )
    op.create_table('point_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('planned', 'open', 'suspended', 'closed', name='from_status', native_enum=False,
                                     create_constraint=True, length=16), nullable=False),
    sa.Column('to_status', sa.Enum('planned', 'open', 'suspended', 'closed', name='to_status', native_enum=False,
                                   create_constraint=True, length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', shop.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['sales_point.id'], name=op.f('fk_point_status_change_point_id_sales_point'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_status_change'))
    )
    with op.batch_alter_table('point_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_status_change_point_id'), ['point_id'], unique=False)

    with op.batch_alter_table('sales_point', schema=None) as batch_op:
        batch_op.add_column(sa.Column('floor_area_m2', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('operator_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('operator_kind', sa.Enum('organisation', 'person', name='operatorkind',
                                                               native_enum=False, create_constraint=True, length=16),
                                      nullable=True))
        batch_op.add_column(sa.Column('operator_registration_no', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('opened_on', sa.Date(), nullable=True))
        # Autogenerate does not see CHECK constraints: added by hand, named as the metadata names them.
        batch_op.create_check_constraint(op.f('ck_sales_point_floor_area_positive'),
                                         'floor_area_m2 IS NULL OR floor_area_m2 > 0')


def downgrade():
    with op.batch_alter_table('sales_point', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sales_point_floor_area_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_sales_point_operatorkind'), type_='check')
        batch_op.drop_column('opened_on')
        batch_op.drop_column('operator_registration_no')
        batch_op.drop_column('operator_kind')
        batch_op.drop_column('operator_name')
        batch_op.drop_column('floor_area_m2')

    with op.batch_alter_table('point_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_status_change_point_id'))

    op.drop_table('point_status_change')
    op.drop_table('point_location_type')
