"""webhook_delivery and webhook_throttle: replays and bad signatures, remembered in the ledger

Revision ID: 0011_webhook_deliveries
Revises: 0010_inventory_since
Create Date: 2026-12-08 00:40:00.000000

A signed delivery could be replayed without limit: its de-duplication lived in one process's
memory and was forgotten on restart (and `order.deleted`, which carries no date, was never
de-duplicated). The changes already accepted now live in `webhook_delivery`, for a retention
period. Bad signatures are counted per store and client address in `webhook_throttle`.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "0011_webhook_deliveries"
down_revision: Union[str, None] = "0010_inventory_since"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "webhook_delivery",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("change", sa.String(length=40), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "order_id", "change"),
    )
    op.create_index(op.f("ix_webhook_delivery_received_at"), "webhook_delivery", ["received_at"], unique=False)
    op.create_table(
        "webhook_throttle",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store", "client"),
    )
    op.create_index(op.f("ix_webhook_throttle_updated_at"), "webhook_throttle", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_throttle_updated_at"), table_name="webhook_throttle")
    op.drop_table("webhook_throttle")
    op.drop_index(op.f("ix_webhook_delivery_received_at"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
