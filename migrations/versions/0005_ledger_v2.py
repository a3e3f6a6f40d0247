"""ledger v2: level-triggered writes (no remembered line map or content hash; a link is claimed
once a run) and store time (the skew's bound, the new-orders floor on the store's clock) and remembered
stores (archived, restored, their replicas taken into the ledger before the first create)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('store', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('clock_skew_bound', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('clock_measured_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('orders_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('inventory_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # recreate='never': rebuilding `link` on SQLite would cascade-delete every event row.
    with op.batch_alter_table('link', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('claimed_run', sa.Integer(), nullable=True))
        batch_op.drop_column('target_lines')
        batch_op.drop_column('pushed_content_hash')


def downgrade() -> None:
    # recreate='never': rebuilding `link` on SQLite would cascade-delete every event row.
    with op.batch_alter_table('link', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('pushed_content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('target_lines', sa.JSON(), nullable=True))
        batch_op.drop_column('claimed_run')
    with op.batch_alter_table('store', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('inventory_at')
        batch_op.drop_column('archived_at')
        batch_op.drop_column('orders_since')
        batch_op.drop_column('clock_measured_at')
        batch_op.drop_column('clock_skew_bound')
