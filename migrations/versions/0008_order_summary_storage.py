"""order summaries in the ledger, and each store's order storage

Revision ID: 0008_order_summary_storage
Revises: 0007_counts_keyset_notes
Create Date: 2026-11-30 06:20:00.000000

`source_order` keeps, beside the body discovery read, what a list of orders shows: customer,
total, currency and date placed, so that the dashboard's pages never load bodies. Rows already
there are filled from their bodies. `store.order_storage` ("posts" or "hpos", from the store
check) says which admin screen an order has.
"""
from datetime import UTC, datetime
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0008_order_summary_storage'
down_revision: Union[str, None] = '0007_counts_keyset_notes'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 500


def order_summary(order: dict[str, Any]) -> dict[str, Any]:
    """As app.sync.orderinfo.order_summary was at this revision (a migration keeps its own copy,
    so that it still runs the same when the app's code moves on)."""

    def name(section: Any) -> str:
        if not isinstance(section, dict):
            return ""
        parts = (section.get("first_name"), section.get("last_name"))
        full = " ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())
        return full or str(section.get("company") or "").strip()

    def gmt(value: Any) -> datetime | None:
        if not isinstance(value, str) or not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    customer = name(order.get("billing")) or name(order.get("shipping"))
    total, currency = order.get("total"), order.get("currency")
    return {
        "customer": customer[:200] or None,
        "total": str(total)[:32] if isinstance(total, str | int | float) and total != "" else None,
        "currency": str(currency)[:8] if isinstance(currency, str) and currency else None,
        "created_gmt": gmt(order.get("date_created_gmt")),
    }


def upgrade() -> None:
    with op.batch_alter_table('store', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_storage', sa.String(length=8), nullable=True))
    with op.batch_alter_table('source_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('total', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('created_gmt', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    _fill_summaries()


def _fill_summaries() -> None:
    """The summaries of the orders already read, from their bodies, a batch at a time."""
    bind = op.get_bind()
    table = sa.table(
        'source_order',
        sa.column('id', sa.Integer()),
        sa.column('body', sa.JSON()),
        sa.column('customer', sa.String()),
        sa.column('total', sa.String()),
        sa.column('currency', sa.String()),
        sa.column('created_gmt', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.body).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        updates: list[dict[str, Any]] = []
        for row in rows:
            body = row.body if isinstance(row.body, dict) else {}
            updates.append({'row_id': row.id, **order_summary(body)})
        bind.execute(
            table.update()
            .where(table.c.id == sa.bindparam('row_id'))
            .values(
                customer=sa.bindparam('customer'),
                total=sa.bindparam('total'),
                currency=sa.bindparam('currency'),
                created_gmt=sa.bindparam('created_gmt'),
            ),
            updates,
        )
        last = rows[-1].id


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild of `store` would trip the
    # count triggers of 0007 and cascade into every table that references it.
    for column in ('created_gmt', 'currency', 'total', 'customer'):
        op.drop_column('source_order', column)
    op.drop_column('store', 'order_storage')
