"""money totals as 64-bit integers (issue 11: bad input)

Revision ID: b11a00000001
Revises: 35ffa9840a16
Create Date: 2026-12-07 15:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b11a00000001'
down_revision = '35ffa9840a16'
branch_labels = None
depends_on = None

# Totals and sums of money: a 32-bit integer ends at 2,147,483,647 đồng, which one large order or a day's sales
# of a busy point can pass. Unit prices stay 32-bit.
MONEY_TOTALS = {
    'customer_order': ('subtotal_vnd', 'total_vnd', 'paid_vnd', 'refunded_vnd'),
    'counter_sale': ('total_vnd',),
    'counter_return': ('refund_vnd',),
    'card_payment': ('amount_vnd',),
    'cash_collection': ('amount_vnd',),
    'refund': ('amount_vnd',),
}


def _retype(old, new):
    # batch_alter_table: SQLite cannot change a column's type in place, so the table is copied (no-op elsewhere).
    for table, columns in MONEY_TOTALS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    _retype(sa.BigInteger(), sa.Integer())
