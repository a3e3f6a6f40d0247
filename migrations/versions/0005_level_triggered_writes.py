"""level-triggered writes: no remembered line map or content hash; a link is claimed once a run

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_run', sa.Integer(), nullable=True))
        batch_op.drop_column('target_lines')
        batch_op.drop_column('pushed_content_hash')


def downgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pushed_content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('target_lines', sa.JSON(), nullable=True))
        batch_op.drop_column('claimed_run')
