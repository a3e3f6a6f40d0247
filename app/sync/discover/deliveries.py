"""The order changes signed webhook deliveries were accepted for, kept in the ledger so that a
replay is recognised by every process and after a restart (issue 18).

A change is the order's `date_modified_gmt` (WooCommerce's delivery id is not unique, API-NOTES
6), or `deleted` for an `order.deleted` delivery, which carries only the order id. A later
accepted change of the order clears its `deleted`, so trash, restore, trash again each count,
while the same trash sent twice does not. Rows are kept for RETENTION, then deleted: a replay
older than that costs one idempotent Sync Order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import WebhookDelivery, utcnow

RETENTION = timedelta(days=7)
DELETED = "deleted"


async def first_time(
    session: AsyncSession, store_id: int, order_id: int, change: str, now: datetime | None = None
) -> bool:
    """Record this change of the order; False if it was already recorded (within RETENTION).
    Concurrent deliveries of one change: the database lets exactly one of them through."""
    now = now or utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(WebhookDelivery)
        .values(store_id=store_id, order_id=order_id, change=change[:40], received_at=now)
        .on_conflict_do_update(
            index_elements=["store_id", "order_id", "change"],
            set_={"received_at": now},
            # A row past its retention that the clean-up has not reached yet counts as gone.
            where=col(WebhookDelivery.received_at) < now - RETENTION,
        )
        .returning(col(WebhookDelivery.order_id))
    )
    recorded = (await session.exec(statement)).first()  # type: ignore[call-overload]
    if recorded is None:
        return False
    if change != DELETED:
        await session.exec(
            delete(WebhookDelivery).where(  # type: ignore[call-overload]
                col(WebhookDelivery.store_id) == store_id,
                col(WebhookDelivery.order_id) == order_id,
                col(WebhookDelivery.change) == DELETED,
            )
        )
    await forget_expired(session, now)
    return True


async def forget_expired(session: AsyncSession, now: datetime | None = None) -> None:
    """Delete what is past its retention (an indexed range; run with each accepted delivery)."""
    now = now or utcnow()
    await session.exec(
        delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < now - RETENTION)  # type: ignore[call-overload]
    )
