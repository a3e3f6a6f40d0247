"""Throttling of webhook deliveries with a bad signature, per store and client address, kept in
the database (for the reasons the token throttle is: several processes, restarts).

The signature is the webhook route's only credential, so a caller without the secret could
otherwise try signatures as fast as it can send bodies. After `max_failures` bad signatures for
one store from one address within the window, that address is refused (429 with Retry-After)
for that store before its body is read, for a lockout that doubles up to the maximum, with the
token throttle's policy. The store's real deliveries come from its own address, so a caller
elsewhere cannot lock them out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.throttle import ThrottlePolicy, count_failure_on
from app.models import WebhookThrottle, utcnow

FORGET_AFTER = timedelta(days=1)


async def seconds_blocked(
    session: AsyncSession, store: str, client: str, now: datetime | None = None
) -> float:
    """How long this address is still refused for this store; 0 when it is not."""
    now = now or utcnow()
    row = await session.get(WebhookThrottle, (store[:64], client))
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0.0
    return (row.blocked_until - now).total_seconds()


async def record_bad_signature(
    session: AsyncSession, store: str, client: str, policy: ThrottlePolicy, now: datetime | None = None
) -> float:
    """Count one bad signature; return how long the address is now refused (0: not yet)."""
    now = now or utcnow()
    store = store[:64]
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.exec(
        insert(WebhookThrottle)  # type: ignore[call-overload]
        .values(store=store, client=client, failures=0, window_started_at=now, lockouts=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["store", "client"])
    )
    row = (
        await session.exec(
            select(WebhookThrottle)
            .where(WebhookThrottle.store == store, WebhookThrottle.client == client)
            .with_for_update()
            # The row as it is now, not as this session may have read it before the lock.
            .execution_options(populate_existing=True)
        )
    ).one()
    _, blocked = count_failure_on(row, policy, now)
    session.add(row)
    await session.flush()
    await session.exec(
        delete(WebhookThrottle).where(
            (col(WebhookThrottle.updated_at) < now - FORGET_AFTER)
            & ((col(WebhookThrottle.blocked_until).is_(None)) | (col(WebhookThrottle.blocked_until) < now))
        )
    )
    return blocked
