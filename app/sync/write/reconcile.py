"""Reconciliation: a link whose create may or may not have happened (no reply, an error reply,
a crash) is settled against the target before anything is sent again. The target's orders
created since the attempt began (less the store's measured skew and its bound) are listed in
every status, trash included, and searched for the link's `_wcsync_origin`: the replica found is
adopted, a leftover of a rejected create is trashed, and only when none exists is the link
queued again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app.db import session_scope
from app.errors import OrderRejected, ReplicaNotConfirmed
from app.models import Link, Store, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.events import link_event
from app.sync.health import note_store_health
from app.sync.plan.mapping import ORIGIN_META, meta_value, origin_key
from app.sync.storetime import store_clock
from app.sync.write.outcomes import (
    ReplicationStats,
    adopt_replica,
    schedule_retry,
)
from app.woocommerce.client import ALL_ORDER_STATUSES, WooCommerceClient
from app.woocommerce.errors import WooCommerceError

# What a copy found is read for: whose it is, and its version (its status is wcsync's own write).
REPLICA_FIELDS = ("id", "status", "date_modified_gmt", "meta_data")


async def find_replicas(client: WooCommerceClient, since: datetime | None) -> dict[str, list[dict[str, Any]]]:
    """Orders created on a store since `since` (None: all), in every status including trash, by
    origin."""
    found: dict[str, list[dict[str, Any]]] = {}
    async for page in client.iter_orders(
        after=since,
        status=ALL_ORDER_STATUSES,
        fields=REPLICA_FIELDS,
        orderby="id",
        order="asc",
    ):
        for order in page:
            key = meta_value(order, ORIGIN_META)
            if isinstance(key, str):
                found.setdefault(key, []).append(order)
    return found


# Past this many links, one listing of recent orders costs fewer requests than one each.
ORIGIN_FILTER_MAX_LINKS = 20


async def _lookup_replicas(
    client: WooCommerceClient, target: Store, links: Sequence[Link], stores: dict[int, Store], since: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Replicas by origin key: with the wcsync-admin plugin's filter, one request per link; else
    one listing of every order created since the earliest attempt (less skew and a margin)."""
    if not target.origin_filter or len(links) > ORIGIN_FILTER_MAX_LINKS:
        return await find_replicas(client, since)
    found: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        key = origin_key(stores[link.origin_store_id].name, link.origin_order_id)
        page = await client.list_orders(
            wcsync_origin=key, status=ALL_ORDER_STATUSES, fields=REPLICA_FIELDS, orderby="id"
        )
        if any(meta_value(order, ORIGIN_META) != key for order in page.items):
            # The filter was switched off since the check (stock WooCommerce lists everything).
            return await find_replicas(client, since)
        if page.items:
            found[key] = page.items
    return found


async def reconcile_target(
    ctx: SyncContext, target: Store, *, run_id: int | None, only_ids: Sequence[int] | None = None
) -> ReplicationStats:
    """Settle every in-flight link whose lease ran out: adopt the replica the store made, trash
    what a rejected create left behind, or queue the link again."""
    assert target.id is not None
    stats = ReplicationStats()
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        ids = await repo.claim_expired_in_flight(
            session,
            target_store_id=target.id,
            owner=ctx.owner,
            lease_seconds=ctx.settings.lease_seconds,
            now=now,
            settled_before=now - timedelta(seconds=ctx.settings.store_timeout_seconds),
            only_ids=only_ids,
        )
        links = await repo.links_by_ids(session, ids)
        stores = await repo.stores_by_id(session)
    if not links:
        return stats
    client = ctx.clients.get(target)
    started = min(ln.attempt_started_at or now for ln in links)
    try:
        # The window is on the store's clock: its skew is read first if not read lately (after a
        # restart nothing has measured it, and a store minutes behind would hide its copy).
        skew = await store_clock(ctx, target)
        since = (
            skew.to_store(started) - skew.margin - timedelta(seconds=ctx.settings.reconcile_margin_seconds)
        )
        found = await _lookup_replicas(client, target, links, stores, since)
    except WooCommerceError as exc:
        # Cannot look now: leave them in flight (lease expired) for the next pass.
        async with session_scope(ctx.session_factory) as session:
            for link in await repo.links_by_ids(session, ids):
                link.lease_until, link.last_error = (
                    now,
                    f"reconciliation could not list orders: {exc}",
                )
        stats.errors.append(f"store {target.name}: reconciliation: {exc}")
        await note_store_health(ctx, target, str(exc))
        return stats

    trash_ids: list[int] = []
    decisions: dict[int, tuple[str, list[int]]] = {}
    adopted: dict[int, dict[str, Any]] = {}
    for link in links:
        assert link.id is not None
        key = origin_key(stores[link.origin_store_id].name, link.origin_order_id)
        candidates = sorted(found.get(key, []), key=lambda o: o["id"])
        live = [o for o in candidates if o.get("status") != "trash"]
        if link.attempt_outcome == "rejected":
            leftovers = [o["id"] for o in live]
            trash_ids += leftovers
            decisions[link.id] = ("rejected", leftovers)
        elif candidates:
            adopted[link.id] = (live or candidates)[0]
            decisions[link.id] = ("adopt", [adopted[link.id]["id"]])
        else:
            decisions[link.id] = ("retry", [])
    for order_id in trash_ids:
        try:
            await client.delete_order(order_id)
        except WooCommerceError as exc:
            log.warning("sync.reconcile.trash_failed %s", kv(store=target.name, order=order_id, error=exc))
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        rows = await repo.links_by_ids(session, ids)
        for link in rows:
            assert link.id is not None
            action, order_ids = decisions[link.id]
            stats.done += 1
            if action == "adopt":
                # The copy holds the version that was sent, which may be older than the origin is
                # now: it is queued to be read and made equal (nothing is written if it is). Its
                # status is wcsync's own write, recorded so that it is not taken for one set on
                # its store and sent back to the origin.
                adopt_replica(link, adopted[link.id], now)
                link_event(
                    session,
                    link,
                    "adopted",
                    f"found order {order_ids[0]} on store {target.name} made by an earlier attempt",
                    run_id,
                )
                stats.adopted += 1
            elif action == "rejected":
                if order_ids:
                    link_event(
                        session,
                        link,
                        "trashed_leftover",
                        f"trashed order {', '.join(map(str, order_ids))} that the rejected create "
                        f"left on store {target.name}",
                        run_id,
                    )
                rejected = OrderRejected(
                    target.name, link.last_error or "no reason given", link.last_error_code
                )
                schedule_retry(session, ctx, link, rejected, now, run_id, stats, retriable=False)
            else:
                retry = ReplicaNotConfirmed(target.name, link.last_error)
                schedule_retry(session, ctx, link, retry, now, run_id, stats, retriable=True)
    log.info(
        "sync.reconcile.done %s",
        kv(store=target.name, links=len(rows), adopted=stats.adopted, trashed=len(trash_ids)),
    )
    return stats
