"""Store time: every comparison of a store's time with wcsync's goes through the skew measured
from that store (its `Date` header against the middle of the round trip, with an error bound).
A skew is never assumed: when none was read lately, one cheap request reads it."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.db import session_scope
from app.models import Store, utcnow
from app.sync.context import SyncContext
from app.woocommerce.clock import Skew


def max_age(ctx: SyncContext) -> timedelta:
    return timedelta(seconds=ctx.settings.clock_max_age_seconds)


async def store_clock(ctx: SyncContext, store: Store) -> Skew:
    """The store's clock against ours, read within the last few minutes (measured now if not).
    Raises the client's error when the store cannot be reached."""
    client = ctx.clients.get(store)
    skew = client.skew(since=utcnow() - max_age(ctx))
    if skew is None:
        skew = await client.measure_clock()
        await remember_clock(ctx, store, skew)
    return skew


async def remember_clock(ctx: SyncContext, store: Store, skew: Skew) -> None:
    """Keep the latest reading on the store's row, for the store check and the dashboard."""
    async with session_scope(ctx.session_factory) as session:
        fresh = await session.get(Store, store.id)
        if fresh is not None:
            fresh.clock_skew_seconds = skew.seconds
            fresh.clock_skew_bound = skew.bound
            fresh.clock_measured_at = skew.measured_at


def new_orders_floor(store: Store, skew: Skew) -> datetime:
    """The moment, on the store's clock, from which its orders are new to wcsync: its backfill
    date as given (a date the admin read on the store), else when it was added, moved to the
    store's clock and widened by the skew's bound, so that no order placed after it is lost."""
    if store.backfill_since is not None:
        return store.backfill_since
    return skew.to_store(store.created_at) - skew.margin
