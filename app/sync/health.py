"""A store's health as wcsync last found it: when it last answered, and its last error. The
badge and the dashboard read it; a store whose last error is newer than its last success is
failing."""

from __future__ import annotations

from app.db import session_scope
from app.models import Store, utcnow
from app.sync.context import SyncContext


async def note_store_health(ctx: SyncContext, store: Store, error: str | None) -> None:
    async with session_scope(ctx.session_factory) as session:
        fresh = await session.get(Store, store.id)
        if fresh is None:
            return
        now = utcnow()
        client = ctx.clients.get(store)
        if client.clock_skew is not None:
            fresh.clock_skew_seconds = client.clock_skew
        if error is None:
            fresh.last_success_at = now
        else:
            fresh.last_error, fresh.last_error_at = error, now
