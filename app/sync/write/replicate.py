"""Replication: lease due links, map their origin orders, push them in batches, record each
item's result; reconcile every link whose create may or may not have happened before it is
sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import session_scope
from app.errors import MappingError, OrderRejected, ReplicaNotConfirmed, UnknownSku
from app.models import Direction, Link, LinkState, Routing, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, clock_skew, kv, log, parse_gmt
from app.sync.discover.catalog import catalog, look_up_skus
from app.sync.events import link_event
from app.sync.plan.changes import UpdatePlan, content_hash, desired_status, lines_of, plan_update
from app.sync.plan.mapping import (
    ORIGIN_META,
    MappedOrder,
    map_order,
    meta_value,
    origin_key,
    origin_note,
)
from app.woocommerce.client import ALL_ORDER_STATUSES, WooCommerceClient
from app.woocommerce.errors import AuthenticationError, NotFoundError, RetriableError, WooCommerceError


@dataclass
class ReplicationStats:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    adopted: int = 0
    failed: int = 0
    done: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: ReplicationStats) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.adopted += other.adopted
        self.failed += other.failed
        self.done += other.done
        self.errors += other.errors


# Told each batch's counts as they land, so that a run's progress moves while it works.
ProgressHook: TypeAlias = Callable[[ReplicationStats], Awaitable[None]]


async def _note_store_health(ctx: SyncContext, store: Store, error: str | None) -> None:
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


def _schedule_retry(
    session: AsyncSession,
    ctx: SyncContext,
    link: Link,
    error: Exception,
    now: datetime,
    run_id: int | None,
    stats: ReplicationStats,
    *,
    retriable: bool,
) -> None:
    """Put a link back in the queue per the retry policy, or park it as failed."""
    retry_after = error.retry_after if isinstance(error, RetriableError) else None
    next_at = ctx.policy.decide(retriable=retriable, attempts=link.attempts, now=now, retry_after=retry_after)
    link.lease_until, link.lease_owner, link.attempt_outcome = None, None, None
    link.last_error = str(error)
    link.last_error_code = getattr(error, "code", None)
    link.updated_at = now
    if next_at is None:
        link.state, link.next_attempt_at = LinkState.failed, None
        link_event(session, link, "failed", str(error), run_id)
        stats.failed += 1
    else:
        link.state, link.next_attempt_at = LinkState.pending, next_at
        link_event(session, link, "retry_scheduled", str(error), run_id)


def _mark_synced(link: Link, target_order_id: int, snapshot: SourceOrder | None, now: datetime) -> None:
    link.state = LinkState.synced
    link.target_order_id = target_order_id
    link.pushed_modified_gmt = snapshot.modified_gmt if snapshot else link.source_modified_gmt
    link.synced_at = now
    link.lease_until = link.lease_owner = link.attempt_outcome = None
    link.last_error = link.last_error_code = None
    link.next_attempt_at = None
    link.updated_at = now


async def _map_links(
    ctx: SyncContext,
    target: Store,
    links: Sequence[Link],
    snapshots: dict[tuple[int, int], SourceOrder],
    stores: dict[int, Store],
) -> tuple[dict[int, MappedOrder], dict[int, MappingError]]:
    products = await catalog(ctx, target)
    only_sold = target.role == StoreRole.sub and target.routing == Routing.skus

    def attempt(link: Link) -> MappedOrder:
        snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
        if snapshot is None:
            raise MappingError("The origin order has not been read yet; it will be on the next pass.")
        body = snapshot.body
        if link.target_order_id is not None:
            body = {**body, "status": desired_status(str(body.get("status")))}
        return map_order(
            body,
            origin_store=stores[link.origin_store_id].name,
            target_store=target.name,
            catalog=products,
            only_sold=only_sold,
        )

    mapped: dict[int, MappedOrder] = {}
    failed: dict[int, MappingError] = {}
    missing: set[str] = set()
    for link in links:
        assert link.id is not None
        try:
            mapped[link.id] = attempt(link)
        except UnknownSku as exc:
            missing.update(exc.skus)
            failed[link.id] = exc
        except MappingError as exc:
            failed[link.id] = exc
    if missing:
        # The cached catalogue may be stale: ask the store for exactly these SKUs, then retry.
        if await look_up_skus(ctx, target, missing):
            products = await catalog(ctx, target)
            for link in links:
                assert link.id is not None
                if isinstance(failed.get(link.id), UnknownSku):
                    try:
                        mapped[link.id] = attempt(link)
                        del failed[link.id]
                    except MappingError as exc:
                        failed[link.id] = exc
    return mapped, failed


async def push_batch(
    ctx: SyncContext, target: Store, link_ids: Sequence[int], *, run_id: int | None
) -> tuple[ReplicationStats, bool]:
    """Push one claimed batch: creates for new replicas and updates for changed ones, in one
    batch request. Returns the stats and whether the store is usable (False stops the other
    workers for this target: a store that is down is not hammered)."""
    stats = ReplicationStats()
    client = ctx.clients.get(target)
    async with session_scope(ctx.session_factory) as session:
        links = await repo.links_by_ids(session, link_ids)
        stores = await repo.stores_by_id(session)
        snapshots = await repo.source_orders_for_links(session, links)
    try:
        mapped, mapping_errors = await _map_links(ctx, target, links, snapshots, stores)
    except WooCommerceError as exc:
        return await _release_unsent(ctx, target, link_ids, exc, run_id, stats), False

    creates = [ln for ln in links if ln.id in mapped and ln.target_order_id is None]
    plans: dict[int, UpdatePlan] = {}
    for link in links:
        if link.id in mapped and link.target_order_id is not None:
            snapshot: SourceOrder | None = snapshots[(link.origin_store_id, link.origin_order_id)]
            assert snapshot is not None
            plans[_id(link)] = plan_update(
                mapped[_id(link)].payload,
                origin=snapshot.body,
                replica_status=link.replica_status,
                pushed_content_hash=link.pushed_content_hash,
                target_lines=link.target_lines,
                refunds_done=link.refunds_done,
            )
    updates = [ln for ln in links if ln.id in plans and plans[ln.id].changes]
    usable = True
    result_error: WooCommerceError | None = None
    batch = None
    if creates or updates:
        try:
            batch = await client.batch_orders(
                create=[mapped[_id(ln)].payload for ln in creates],
                update=[
                    {"id": ln.target_order_id, **plans[ln.id].changes} for ln in updates if ln.id is not None
                ],
            )
        except WooCommerceError as exc:
            result_error, usable = exc, False

    now = utcnow()
    created: list[tuple[int, Link]] = []
    refund_work: list[tuple[int, list[dict[str, Any]]]] = []
    async with session_scope(ctx.session_factory) as session:
        fresh = {ln.id: ln for ln in await repo.links_by_ids(session, link_ids)}
        for link_id, error in mapping_errors.items():
            _schedule_retry(session, ctx, fresh[link_id], error, now, run_id, stats, retriable=False)
            stats.done += 1
        for link_id, plan in plans.items():
            row = fresh[link_id]
            if not plan.changes:
                # Nothing to write: the replica already matches (or only refunds are owed).
                snapshot = snapshots.get((row.origin_store_id, row.origin_order_id))
                _mark_synced(row, row.target_order_id or 0, snapshot, now)
                if plan.refunds:
                    refund_work.append((link_id, plan.refunds))
                else:
                    stats.skipped += 1
                stats.done += 1
        if result_error is not None:
            for link in creates:
                row = fresh[_id(link)]
                if result_error.ambiguous:
                    # The store may have created some of these: reconcile before any retry.
                    row.lease_until, row.attempt_outcome = now, "unknown"
                    row.last_error, row.last_error_code = str(result_error), result_error.code
                    link_event(session, row, "outcome_unknown", str(result_error), run_id)
                else:
                    retriable = isinstance(result_error, (RetriableError, AuthenticationError))
                    _schedule_retry(session, ctx, row, result_error, now, run_id, stats, retriable=retriable)
                    stats.done += 1
            for link in updates:
                # An update is idempotent: it is simply sent again later.
                retriable = isinstance(result_error, (RetriableError, AuthenticationError))
                _schedule_retry(
                    session, ctx, fresh[_id(link)], result_error, now, run_id, stats, retriable=retriable
                )
                stats.done += 1
        elif batch is not None:
            for item, link in zip(batch.create, creates, strict=True):
                row = fresh[_id(link)]
                snapshot = snapshots.get((row.origin_store_id, row.origin_order_id))
                if item.order is not None and isinstance(item.order.get("id"), int):
                    _mark_synced(row, item.order["id"], snapshot, now)
                    _record_replica(row, item.order, content_hash(mapped[_id(link)].payload))
                    link_event(
                        session, row, "created", f"order {item.order['id']} on store {target.name}", run_id
                    )
                    created.append((item.order["id"], row))
                    if snapshot is not None and snapshot.body.get("refunds"):
                        refunds = plan_update(
                            mapped[_id(link)].payload,
                            origin=snapshot.body,
                            replica_status=row.replica_status,
                            pushed_content_hash=row.pushed_content_hash,
                            target_lines=row.target_lines,
                            refunds_done={},
                        ).refunds
                        if refunds and row.id is not None:
                            refund_work.append((row.id, refunds))
                    stats.created += 1
                    stats.done += 1
                else:
                    # Real WooCommerce can leave a half-made order behind a rejected create
                    # (recorded case 43): reconcile (find it, trash it) before deciding.
                    message = str(item.error) if item.error else "the store returned no order"
                    row.lease_until, row.attempt_outcome = now, "rejected"
                    row.last_error = message
                    row.last_error_code = item.error.code if item.error else None
                    link_event(session, row, "rejected", message, run_id)
            for item, link in zip(batch.update, updates, strict=True):
                row = fresh[_id(link)]
                snapshot = snapshots.get((row.origin_store_id, row.origin_order_id))
                plan = plans[_id(link)]
                stats.done += 1
                if item.order is not None:
                    _mark_synced(row, row.target_order_id or 0, snapshot, now)
                    _record_replica(row, item.order, plan.content_hash)
                    changed = ", ".join(sorted(plan.changes))
                    link_event(
                        session,
                        row,
                        "updated",
                        f"order {row.target_order_id} on store {target.name}: {changed}",
                        run_id,
                    )
                    stats.updated += 1
                    if plan.refunds and row.id is not None:
                        refund_work.append((row.id, plan.refunds))
                elif isinstance(item.error, NotFoundError) or (
                    item.error is not None and item.error.code == "woocommerce_rest_shop_order_invalid_id"
                ):
                    # The replica was deleted for good on its store: make it again.
                    link_event(
                        session,
                        row,
                        "replica_missing",
                        f"order {row.target_order_id} no longer exists on store {target.name}; "
                        "it will be created again",
                        run_id,
                    )
                    _forget_replica(row)
                    row.state, row.lease_until, row.next_attempt_at = LinkState.pending, None, None
                else:
                    refused: Exception = item.error or OrderRejected(
                        target.name, "the store returned no order"
                    )
                    _schedule_retry(
                        session,
                        ctx,
                        row,
                        refused,
                        now,
                        run_id,
                        stats,
                        retriable=bool(getattr(refused, "retriable", False)),
                    )
    if creates or updates:
        await _note_store_health(ctx, target, None if result_error is None else str(result_error))
    if result_error is not None:
        log.warning(
            "sync.batch.failed %s",
            kv(store=target.name, links=len(creates) + len(updates), error=result_error),
        )
        stats.errors.append(f"store {target.name}: {result_error}")
    if created and ctx.settings.origin_note:
        await _add_origin_notes(ctx, client, created, snapshots, stores)
    for link_id, refunds in refund_work:
        await mirror_refunds(ctx, target, link_id, refunds, run_id=run_id)
    return stats, usable


def _id(link: Link) -> int:
    assert link.id is not None
    return link.id


def _record_replica(link: Link, replica: dict[str, Any], pushed_hash: str) -> None:
    """Remember what the replica now holds, as its store returned it: the next read of this
    version is recognised as wcsync's own write."""
    link.replica_status = str(replica.get("status"))
    link.replica_modified_gmt = parse_gmt(replica.get("date_modified_gmt"))
    link.pushed_content_hash = pushed_hash
    link.target_lines = lines_of(replica)


def _forget_replica(link: Link) -> None:
    link.target_order_id = None
    link.replica_status = link.replica_modified_gmt = link.pushed_content_hash = None
    link.target_lines = link.refunds_done = link.notes_done = None


async def mirror_refunds(
    ctx: SyncContext, target: Store, link_id: int, refunds: list[dict[str, Any]], *, run_id: int | None
) -> None:
    """Mirror origin refunds on a replica, once each, with no money moving. A refund the
    replica already shows (same amount and reason, e.g. made by an attempt whose answer was
    lost) is adopted rather than made again. Amounts are read from the order's `refunds[]`:
    on HPOS the refund endpoints read them back as 0.00 (recorded case 32f)."""
    client = ctx.clients.get(target)
    async with session_scope(ctx.session_factory) as session:
        link = (await repo.links_by_ids(session, [link_id]))[0]
        replica_id, done = link.target_order_id, dict(link.refunds_done or {})
    if replica_id is None:
        return
    outcomes: list[tuple[str, str, str]] = []  # (origin refund id, replica refund id or "", message)
    try:
        replica = await client.get_order(replica_id)
        taken = {str(v) for v in done.values()}
        existing = [r for r in replica.get("refunds") or [] if str(r.get("id")) not in taken]
        for refund in refunds:
            body = refund["body"]
            match = next(
                (
                    r
                    for r in existing
                    if abs(Decimal(str(r.get("total") or 0))) == Decimal(body["amount"])
                    and str(r.get("reason") or "") == body["reason"]
                ),
                None,
            )
            if match is not None:
                existing.remove(match)
                outcomes.append((refund["origin_refund_id"], str(match["id"]), "adopted"))
                continue
            made = await client.create_refund(replica_id, body)
            outcomes.append((refund["origin_refund_id"], str(made.get("id")), "created"))
    except WooCommerceError as exc:
        outcomes.append(("", "", f"refund not mirrored yet: {exc}"))
    after: dict[str, Any] | None = None
    if any(origin_refund for origin_refund, _, how in outcomes if how == "created"):
        try:
            # A full refund flips the replica to `refunded` by itself: record what it holds now,
            # so that its next read is not taken for a change made on its store.
            after = await client.get_order(replica_id)
        except WooCommerceError:
            after = None
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        link = (await repo.links_by_ids(session, [link_id]))[0]
        done = dict(link.refunds_done or {})
        for origin_refund, replica_refund, how in outcomes:
            if origin_refund:
                done[origin_refund] = replica_refund
                link_event(
                    session,
                    link,
                    "refund_mirrored",
                    f"origin refund {origin_refund} is refund {replica_refund} on store {target.name} "
                    f"({how})",
                    run_id,
                )
            else:
                link.state, link.next_attempt_at = (
                    LinkState.pending,
                    now + timedelta(seconds=ctx.settings.backoff_base_seconds),
                )
                link.last_error = how
                link_event(session, link, "refund_failed", how, run_id)
        link.refunds_done = done
        if after is not None:
            link.replica_status = str(after.get("status"))
            link.replica_modified_gmt = parse_gmt(after.get("date_modified_gmt"))


async def _release_unsent(
    ctx: SyncContext,
    target: Store,
    link_ids: Sequence[int],
    error: WooCommerceError,
    run_id: int | None,
    stats: ReplicationStats,
) -> ReplicationStats:
    """Nothing was sent (the catalogue could not be read): back to the queue."""
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        for link in await repo.links_by_ids(session, link_ids):
            _schedule_retry(session, ctx, link, error, now, run_id, stats, retriable=True)
            stats.done += 1
    await _note_store_health(ctx, target, str(error))
    stats.errors.append(f"store {target.name}: {error}")
    return stats


async def _add_origin_notes(
    ctx: SyncContext,
    client: WooCommerceClient,
    created: list[tuple[int, Link]],
    snapshots: dict[tuple[int, int], SourceOrder],
    stores: dict[int, Store],
) -> None:
    async def one(target_order_id: int, link: Link) -> None:
        snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
        body = snapshot.body if snapshot else {"id": link.origin_order_id}
        try:
            await client.create_order_note(
                target_order_id, origin_note(stores[link.origin_store_id].name, body)
            )
        except WooCommerceError as exc:
            log.warning("sync.note.failed %s", kv(order=target_order_id, error=exc))

    await asyncio.gather(*(one(oid, link) for oid, link in created))


async def find_replicas(client: WooCommerceClient, since: datetime) -> dict[str, list[dict[str, Any]]]:
    """Orders created on a store since `since`, in every status including trash, by origin."""
    found: dict[str, list[dict[str, Any]]] = {}
    async for page in client.iter_orders(
        after=since,
        status=ALL_ORDER_STATUSES,
        fields=("id", "status", "meta_data"),
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
            wcsync_origin=key, status=ALL_ORDER_STATUSES, fields=("id", "status", "meta_data"), orderby="id"
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
    skew = clock_skew(client, target)
    started = min(ln.attempt_started_at or now for ln in links)
    since = started + timedelta(seconds=skew - ctx.settings.reconcile_margin_seconds)
    try:
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
        await _note_store_health(ctx, target, str(exc))
        return stats

    trash_ids: list[int] = []
    decisions: dict[int, tuple[str, list[int]]] = {}
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
            decisions[link.id] = ("adopt", [(live or candidates)[0]["id"]])
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
        snapshots = await repo.source_orders_for_links(session, rows)
        for link in rows:
            assert link.id is not None
            action, order_ids = decisions[link.id]
            stats.done += 1
            if action == "adopt":
                snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
                _mark_synced(link, order_ids[0], snapshot, now)
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
                _schedule_retry(session, ctx, link, rejected, now, run_id, stats, retriable=False)
            else:
                retry = ReplicaNotConfirmed(target.name, link.last_error)
                _schedule_retry(session, ctx, link, retry, now, run_id, stats, retriable=True)
    log.info(
        "sync.reconcile.done %s",
        kv(store=target.name, links=len(rows), adopted=stats.adopted, trashed=len(trash_ids)),
    )
    return stats


async def replicate_target(
    ctx: SyncContext,
    target: Store,
    direction: Direction,
    *,
    run_id: int | None,
    ignore_schedule: bool = False,
    only_ids: Sequence[int] | None = None,
    on_progress: ProgressHook | None = None,
) -> ReplicationStats:
    """Drain the due links of one target with as many workers as the store serves at once."""
    assert target.id is not None
    stats = ReplicationStats()
    stats.add(await reconcile_target(ctx, target, run_id=run_id, only_ids=only_ids))
    if on_progress:
        await on_progress(stats)
    stop = asyncio.Event()
    concurrency = target.max_concurrency or ctx.settings.store_max_concurrency

    async def worker() -> None:
        while not stop.is_set():
            async with session_scope(ctx.session_factory) as session:
                claimed = await repo.claim_due_links(
                    session,
                    target_store_id=target.id or 0,
                    direction=direction,
                    limit=ctx.settings.batch_size,
                    owner=ctx.owner,
                    lease_seconds=ctx.settings.lease_seconds,
                    now=utcnow(),
                    ignore_schedule=ignore_schedule,
                    only_ids=only_ids,
                )
            if not claimed:
                return
            batch_stats, usable = await push_batch(ctx, target, claimed, run_id=run_id)
            stats.add(batch_stats)
            if on_progress:
                await on_progress(batch_stats)
            if not usable:
                stop.set()

    # A worker that crashes takes the others down with it, rather than leaving them pushing.
    async with asyncio.TaskGroup() as workers:
        for _ in range(concurrency):
            workers.create_task(worker())
    # Settle at once what this pass left unconfirmed (error replies, timeouts).
    tail = await reconcile_target(ctx, target, run_id=run_id, only_ids=only_ids)
    stats.add(tail)
    if on_progress:
        await on_progress(tail)
    return stats
