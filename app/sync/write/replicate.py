"""Replication: lease due links, then make each replica equal its origin. A batch is decided in
`batch.py`, sent here, and its outcome recorded in `record.py`.

A link without a replica is created in a batch (the link is committed `in_flight` before the
request, so a lost reply is reconciled, never sent twice). A link with a replica is level-
triggered: the replicas are read as they are now (one `include=` request per batch), the pure
planner computes the smallest write for each, and only non-empty writes are sent. Nothing is
planned from memory, so every update is safe to send again and an adopted replica needs none.
Refunds the replica lacks are copied after its order is written."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from app.db import session_scope
from app.models import Direction, Link, SourceOrder, Store, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.health import note_store_health
from app.sync.plan.mapping import create_payload, origin_note
from app.sync.write.batch import Claimed, decide, link_id, load_claimed, map_links, read_replicas
from app.sync.write.complete import complete_creates
from app.sync.write.inventory import InventoryIncomplete, cover_origins, needs_cover, take_inventory
from app.sync.write.outcomes import (
    ProgressHook,
    ReplicationStats,
    is_retriable,
    note_unreachable,
    schedule_retry,
)
from app.sync.write.reconcile import reconcile_target
from app.sync.write.record import Sent, record_batch
from app.sync.write.refunds import copy_refunds
from app.woocommerce.client import MAX_PER_PAGE
from app.woocommerce.errors import WooCommerceError

__all__ = [
    "ProgressHook",
    "ReplicationStats",
    "drain_origin_notes",
    "push_batch",
    "reconcile_target",
    "replicate_target",
]


async def _read_unread_origins(
    ctx: SyncContext,
    links: Sequence[Link],
    snapshots: dict[tuple[int, int], SourceOrder],
    stores: dict[int, Store],
) -> dict[tuple[int, int], SourceOrder]:
    """Origins wcsync never read (a copy adopted from the store's own orders, whose origin was
    last changed before this ledger began): read them now, as they are, and keep them. An origin
    that no longer exists stays unread; its link is parked with that reason."""
    wanted: dict[int, list[int]] = {}
    for link in links:
        if (link.origin_store_id, link.origin_order_id) not in snapshots:
            wanted.setdefault(link.origin_store_id, []).append(link.origin_order_id)
    found: dict[tuple[int, int], SourceOrder] = {}
    for store_id, order_ids in wanted.items():
        origin = stores.get(store_id)
        if origin is None:
            continue
        bodies = await read_replicas(ctx.clients.get(origin), order_ids)
        if not bodies:
            continue
        async with session_scope(ctx.session_factory) as session:
            for body in bodies.values():
                snapshot = await repo.save_source_order(session, store_id, body)
                if snapshot is not None:
                    found[(store_id, snapshot.order_id)] = snapshot
    return found


async def push_batch(
    ctx: SyncContext,
    target: Store,
    link_ids: Sequence[int],
    *,
    run_id: int | None,
    claimed: Claimed | None = None,
    progress_run: int | None = None,
) -> tuple[ReplicationStats, bool]:
    """Push one claimed batch: creates for new replicas and the planned writes for existing ones,
    in one batch request. Returns the stats and whether the store is usable (False stops the
    other workers for this target: a store that is down is not hammered). `claimed` is the batch
    as read with its claim; `progress_run` gets the batch's counts in the same unit of work as
    its results."""
    stats = ReplicationStats()
    client = ctx.clients.get(target)
    if claimed is None:
        async with session_scope(ctx.session_factory) as session:
            claimed = await load_claimed(session, link_ids)
    links, snapshots, names = claimed.links, claimed.snapshots, claimed.names
    try:
        if any((ln.origin_store_id, ln.origin_order_id) not in snapshots for ln in links):
            # Rare (an adopted copy whose origin wcsync never read): whole store rows then.
            async with session_scope(ctx.session_factory) as session:
                stores = await repo.stores_by_id(session)
            snapshots.update(await _read_unread_origins(ctx, links, snapshots, stores))
        mapped, mapping_errors = await map_links(ctx, target, links, snapshots, names)
        plan = await decide(client, links, mapped, snapshots)
    except WooCommerceError as exc:
        return await _release_unsent(ctx, target, link_ids, exc, run_id, stats), False
    # A replica deleted for good on its store is made again, in this same request.
    plan.creates += plan.gone

    usable = True
    result_error: WooCommerceError | None = None
    result = None
    if plan.creates or plan.updates:
        try:
            result = await client.batch_orders(
                create=[create_payload(mapped[link_id(ln)].payload) for ln in plan.creates],
                update=[{"id": u.link.target_order_id, **u.changes} for u in plan.updates],
            )
        except WooCommerceError as exc:
            result_error, usable = exc, False
    unfinished: set[int] = set()  # positions in plan.creates of copies still to finish
    if result is not None and plan.creates:
        payloads = [mapped[link_id(ln)].payload for ln in plan.creates]
        unfinished = await complete_creates(client, result.create, payloads, store=target.name)

    now = utcnow()
    sent = Sent(plan, mapped, mapping_errors, snapshots, result, result_error, unfinished)
    async with session_scope(ctx.session_factory) as session:
        refund_jobs = await record_batch(
            session,
            ctx,
            target,
            list(link_ids),
            sent,
            run_id=run_id,
            stats=stats,
            now=now,
            notes_wanted=origin_notes_wanted(ctx, target),
        )
        if progress_run is not None:
            await repo.add_run_counts(
                session,
                progress_run,
                progress_done=stats.done,
                created=stats.created + stats.adopted,
                updated=stats.updated,
                skipped=stats.skipped,
                failed=stats.failed,
            )
    if result_error is not None:
        await note_store_health(ctx, target, str(result_error))
        log.warning(
            "sync.batch.failed %s",
            kv(store=target.name, links=len(plan.creates) + len(plan.updates), error=result_error),
        )
        stats.errors.append(f"store {target.name}: {result_error}")
    if refund_jobs:
        stats.add(await copy_refunds(ctx, target, refund_jobs, run_id=run_id))
    return stats, usable


async def _release_unsent(
    ctx: SyncContext,
    target: Store,
    link_ids: Sequence[int],
    error: WooCommerceError | InventoryIncomplete,
    run_id: int | None,
    stats: ReplicationStats,
) -> ReplicationStats:
    """Nothing was sent (the catalogue or the replicas could not be read): back to the queue."""
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        for link in await repo.links_by_ids(session, link_ids):
            schedule_retry(session, ctx, link, error, now, run_id, stats, retriable=is_retriable(error))
            stats.done += 1
    await note_store_health(ctx, target, str(error))
    stats.errors.append(f"store {target.name}: {error}")
    return stats


def origin_notes_wanted(ctx: SyncContext, target: Store) -> bool:
    """An origin note is written on a new replica unless turned off, or unless the store runs
    the wcsync-admin plugin, which shows each replica's origin on its screen itself."""
    return ctx.settings.origin_note and not target.admin_plugin


async def drain_origin_notes(ctx: SyncContext, target: Store, only_ids: Sequence[int] | None = None) -> int:
    """Write the origin notes still due on `target`'s new replicas, at low priority: a note takes
    a request slot only when no create or update waits for one. A note is taken off the queue
    before it is sent, so a crash loses it rather than writing it twice; a store that fails a
    note keeps it queued for the next drain. Returns the notes written."""
    assert target.id is not None
    client = ctx.clients.get(target)
    written = 0
    while True:
        async with session_scope(ctx.session_factory) as session:
            due = await repo.take_due_notes(
                session, target_store_id=target.id, limit=MAX_PER_PAGE, only_ids=only_ids
            )
            if not due:
                return written
            names = await repo.store_names(session)
            snapshots = await repo.source_orders_for_links(session, due)
        failed: list[int] = []

        async def one(
            link: Link,
            snapshots: dict[tuple[int, int], SourceOrder] = snapshots,
            names: dict[int, str] = names,
            failed: list[int] = failed,
        ) -> None:
            snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
            body = snapshot.body if snapshot else {"id": link.origin_order_id}
            try:
                await client.create_order_note(
                    link.target_order_id or 0,
                    origin_note(names.get(link.origin_store_id, "?"), body),
                    low_priority=True,
                )
            except WooCommerceError as exc:
                log.warning("sync.note.failed %s", kv(order=link.target_order_id, error=exc))
                if is_retriable(exc):
                    failed.append(link_id(link))

        # Requests queue at the store's slots; as many in flight as the store takes.
        results = await asyncio.gather(*(one(link) for link in due), return_exceptions=True)
        written += sum(1 for r in results if r is None) - len(failed)
        if failed:
            async with session_scope(ctx.session_factory) as session:
                await repo.requeue_notes(session, failed)
            return written


async def replicate_target(
    ctx: SyncContext,
    target: Store,
    direction: Direction,
    *,
    run_id: int | None,
    ignore_schedule: bool = False,
    only_ids: Sequence[int] | None = None,
    on_progress: ProgressHook | None = None,
    creates_only: bool = False,
    count_total: bool = False,
    wait_for_more: Callable[[int], Awaitable[bool]] | None = None,
) -> ReplicationStats:
    """Drain the due links of one target with as many workers as the store serves at once.
    A run claims a link at most once: what fails in it waits for the retry policy's next time,
    whatever the run's kind. With `wait_for_more` (while discovery reads), a worker that finds
    nothing due waits for more (told the mark it took before it looked: `SyncContext`) instead
    of ending, and ends when it answers False: the store's slots stay busy while the links
    arrive, rather than the workers ending and starting again in bursts between pages."""
    assert target.id is not None
    stats = ReplicationStats()
    if target.inventory_at is None:
        try:
            await take_inventory(ctx, target, run_id=run_id)
            target.inventory_at = utcnow()  # this pass's copy of the row, read again by its loops
        except WooCommerceError as exc:
            # Nothing is created on a store whose existing copies cannot be read first; its
            # waiting links say why.
            await note_store_health(ctx, target, str(exc))
            async with session_scope(ctx.session_factory) as session:
                await note_unreachable(
                    session,
                    ctx,
                    target_store_id=target.id,
                    target_name=target.name,
                    direction=direction,
                    error=exc,
                    now=utcnow(),
                    run_id=run_id,
                    stats=stats,
                    ignore_schedule=ignore_schedule,
                )
            stats.errors.append(f"store {target.name}: could not list the copies already there: {exc}")
            return stats
    stats.add(await reconcile_target(ctx, target, run_id=run_id, only_ids=only_ids))
    if on_progress:
        await on_progress(stats)
    stop = asyncio.Event()
    client = ctx.clients.get(target)
    pace = client.pace
    async with session_scope(ctx.session_factory) as session:
        remaining = await repo.count_due(
            session,
            target_store_id=target.id,
            direction=direction,
            now=utcnow(),
            ignore_schedule=ignore_schedule,
            only_ids=only_ids,
            claimable=True,
            creates_only=creates_only,
        )
    # One worker more than the store takes at once: it claims and maps its batch while the
    # others' requests run, so that a slot freed is taken at once. Tickets bound the batches
    # claimed but not yet answered to the pace's slots plus that one.
    tickets = pace.tickets

    async def worker() -> None:
        while not stop.is_set():
            mark = ctx.links_queued_mark()
            found = await one_batch()
            if found is None:
                return
            if not found and (wait_for_more is None or not await wait_for_more(mark)):
                return

    async def one_batch() -> bool | None:
        """Claim and push one batch: True if one was pushed, False if none was due, None if
        the workers must stop."""
        nonlocal remaining
        async with tickets.held():
            if stop.is_set():
                return None
            size = pace.batch_for(remaining)
            async with session_scope(ctx.session_factory) as session:
                ids = await repo.claim_due_links(
                    session,
                    target_store_id=target.id or 0,
                    direction=direction,
                    limit=size,
                    owner=ctx.owner,
                    lease_seconds=ctx.settings.lease_seconds,
                    now=utcnow(),
                    ignore_schedule=ignore_schedule,
                    only_ids=only_ids,
                    run_id=run_id,
                    creates_only=creates_only,
                )
                claimed = await load_claimed(session, ids) if ids else None
                if ids and count_total and run_id is not None:
                    await repo.add_run_counts(session, run_id, progress_total=len(ids))
            if claimed is None:
                return False
            remaining = max(0, remaining - len(ids))
            creates = [
                (link_id(ln), claimed.snapshots.get((ln.origin_store_id, ln.origin_order_id)))
                for ln in claimed.links
                if ln.target_order_id is None
            ]
            if needs_cover(target, creates):
                # An origin older than where the store's inventory looked: its copy may be
                # there already. Nothing is created before that is known.
                try:
                    adopted = await cover_origins(ctx, target, creates, run_id=run_id)
                except (WooCommerceError, InventoryIncomplete) as exc:
                    stats.add(await _release_unsent(ctx, target, ids, exc, run_id, ReplicationStats()))
                    stop.set()
                    return None
                if adopted:
                    ids = [i for i in ids if i not in adopted]
                    if not ids:
                        return True
                    async with session_scope(ctx.session_factory) as session:
                        claimed = await load_claimed(session, ids)
            batch_stats, usable = await push_batch(
                ctx,
                target,
                ids,
                run_id=run_id,
                claimed=claimed,
                progress_run=run_id if on_progress else None,
            )
        stats.add(batch_stats)
        if not usable:
            stop.set()
            return None
        return True

    # A worker that crashes takes the others down with it, rather than leaving them pushing.
    async with asyncio.TaskGroup() as workers:
        for _ in range(pace.ceiling + 1):
            workers.create_task(worker())
    # Settle at once what this pass left unconfirmed (error replies, timeouts).
    tail = await reconcile_target(ctx, target, run_id=run_id, only_ids=only_ids)
    stats.add(tail)
    if on_progress:
        await on_progress(tail)
    return stats
