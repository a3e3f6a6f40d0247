"""Replication: lease due links, then make each replica equal its origin.

A link without a replica is created in a batch (the link is committed `in_flight` before the
request, so a lost reply is reconciled, never sent twice). A link with a replica is level-
triggered: the replicas are read as they are now (one `include=` request per batch), the pure
planner computes the smallest write for each, and only non-empty writes are sent. Nothing is
planned from memory, so every update is safe to send again and an adopted replica needs none.
Refunds the replica lacks are copied after its order is written."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import parse_status_map
from app.db import session_scope
from app.errors import MappingError, OrderRejected
from app.models import Direction, Link, LinkState, Routing, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log, parse_gmt
from app.sync.discover.catalog import catalog, look_up_skus
from app.sync.events import link_event
from app.sync.health import note_store_health
from app.sync.plan.conflicts import ReplicaChange, desired_status, replica_change
from app.sync.plan.mapping import (
    LINES_ELSEWHERE_META,
    MappedOrder,
    MetaFilter,
    create_payload,
    expected_total,
    map_order,
    meta_value,
    origin_note,
)
from app.sync.plan.planner import ReplicaMismatch, plan_update, status_for_store
from app.sync.plan.refunds import amount
from app.sync.write.complete import complete_creates
from app.sync.write.inventory import InventoryIncomplete, cover_origins, needs_cover, take_inventory
from app.sync.write.outcomes import (
    ProgressHook,
    ReplicationStats,
    forget_replica,
    is_retriable,
    mark_synced,
    note_unreachable,
    origin_moved_on,
    record_replica,
    schedule_retry,
)
from app.sync.write.reconcile import reconcile_target
from app.sync.write.refunds import RefundJob, copy_refunds, fully_refunded, refunds_owed
from app.woocommerce.client import ALL_ORDER_STATUSES, MAX_PER_PAGE, WooCommerceClient
from app.woocommerce.errors import NotFoundError, WooCommerceError

__all__ = [
    "ProgressHook",
    "ReplicationStats",
    "drain_origin_notes",
    "push_batch",
    "reconcile_target",
    "replicate_target",
]

# What the planner compares, read for a whole batch of replicas in one request.
REPLICA_FIELDS = (
    "id",
    "status",
    "currency",
    "date_modified_gmt",
    "total",
    "billing",
    "shipping",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "customer_note",
    "line_items",
    "shipping_lines",
    "fee_lines",
    "meta_data",
    "refunds",
)


def meta_filter(ctx: SyncContext) -> MetaFilter:
    return MetaFilter.parse(ctx.settings.copy_meta_allow, ctx.settings.copy_meta_deny)


async def map_links(
    ctx: SyncContext,
    target: Store,
    links: Sequence[Link],
    snapshots: dict[tuple[int, int], SourceOrder],
    names: dict[int, str],
) -> tuple[dict[int, MappedOrder], dict[int, MappingError]]:
    """The replica each link's target should hold; SKUs the cached catalogue lacks are looked
    up on the store once before a line is declared unknown."""
    products = await catalog(ctx, target)
    only_sold = target.role == StoreRole.sub and target.routing == Routing.skus
    filter_ = meta_filter(ctx)
    # A plugin's status is written only where the target registers it too (or as mapped).
    registered = await ctx.clients.get(target).order_statuses()
    status_map = parse_status_map(ctx.settings.status_map)

    def attempt(link: Link) -> MappedOrder:
        snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
        if snapshot is None:
            raise MappingError("The origin order has not been read yet; it will be on the next pass.")
        body = snapshot.body
        if link.target_order_id is not None:
            # An origin trashed after its copy was made cancels the copy.
            body = {**body, "status": desired_status(str(body.get("status")))}
        written = status_for_store(
            str(body.get("status")), store=target.name, registered=registered, status_map=status_map
        )
        if written != body.get("status"):
            body = {**body, "status": written}
        return map_order(
            body,
            origin_store=names[link.origin_store_id],
            target_store=target.name,
            catalog=products,
            only_sold=only_sold,
            meta_filter=filter_,
            to_main=target.role == StoreRole.main,
        )

    mapped: dict[int, MappedOrder] = {}
    failed: dict[int, MappingError] = {}
    missing: set[str] = set()
    for link in links:
        try:
            mapped[_id(link)] = attempt(link)
        except MappingError as exc:
            failed[_id(link)] = exc
            missing.update(getattr(exc, "skus", []))
    if missing and await look_up_skus(ctx, target, missing):
        products = await catalog(ctx, target)
        for link in links:
            if _id(link) in failed and getattr(failed[_id(link)], "skus", None):
                try:
                    mapped[_id(link)] = attempt(link)
                    del failed[_id(link)]
                except MappingError as exc:
                    failed[_id(link)] = exc
    return mapped, failed


async def read_replicas(client: WooCommerceClient, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The replicas as they are now, in every status (trash included), one request a hundred."""
    found: dict[int, dict[str, Any]] = {}
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        page = await client.list_orders(
            include=chunk, status=ALL_ORDER_STATUSES, per_page=100, orderby="id", fields=REPLICA_FIELDS
        )
        found.update({o["id"]: o for o in page.items if isinstance(o.get("id"), int)})
    return found


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


@dataclass
class _Update:
    link: Link
    replica: dict[str, Any]
    changes: dict[str, Any]


@dataclass
class _Batch:
    """What one claimed batch will do, decided before anything is sent."""

    creates: list[Link] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    equal: list[_Update] = field(default_factory=list)  # already equal: nothing to write
    trashed: list[_Update] = field(default_factory=list)  # trashed on its store by a person
    gone: list[Link] = field(default_factory=list)  # deleted for good on its store
    mismatched: dict[int, Exception] = field(default_factory=dict)
    flowing_back: dict[int, str] = field(default_factory=dict)  # link id -> status set on the replica


def _status_for(
    link: Link, origin: dict[str, Any], replica: dict[str, Any], owed: bool, wanted: str
) -> tuple[str | None, str | None]:
    """The status the replica must have (None: leave it), and a status set on the replica's store
    that wcsync had not seen (None if none). Such a status goes back to the origin first, where
    the flow-back step judges it against the origin's own news. `refunded` is never sent while
    refunds are owed: WooCommerce would then refund the remainder by itself
    (`wc_order_fully_refunded`) and the copied refunds would no longer fit. `wanted` is the
    origin's status as this target can hold it (a plugin's status mapped where it lacks it)."""
    current = str(replica.get("status"))
    if link.status_to_origin is not None:
        return None, None  # a status set on the replica waits to go back to its origin
    if link.replica_status is not None:
        seen = replica_change(
            status=current,
            modified=parse_gmt(replica.get("date_modified_gmt")) or utcnow(),
            known_status=link.replica_status,
            known_modified=link.replica_modified_gmt,
        )
        if seen == ReplicaChange.status_changed:
            return None, current
    status = wanted
    if status == "refunded" and owed:
        return None, None
    if current == "refunded" and fully_refunded(replica) and meta_value(replica, LINES_ELSEWHERE_META):
        # A partial copy whose every line was refunded stays refunded, whatever its origin's
        # status: that is what its store holds of the order. A full copy follows its origin.
        return None, None
    return status, None


async def _decide(
    client: WooCommerceClient,
    links: Sequence[Link],
    mapped: dict[int, MappedOrder],
    snapshots: dict[tuple[int, int], SourceOrder],
) -> _Batch:
    batch = _Batch()
    existing = [ln for ln in links if _id(ln) in mapped and ln.target_order_id is not None]
    batch.creates = [ln for ln in links if _id(ln) in mapped and ln.target_order_id is None]
    if not existing:
        return batch
    replicas = await read_replicas(client, [ln.target_order_id or 0 for ln in existing])
    for link in existing:
        replica = replicas.get(link.target_order_id or 0)
        if replica is None:
            # Not listed: deleted for good, or in a status a plugin added (a listing names the
            # core statuses only). Only the order itself can tell, and a copy is never made
            # again while one exists.
            try:
                replica = await client.get_order(link.target_order_id or 0)
            except NotFoundError:
                batch.gone.append(link)
                continue
        if replica.get("status") == "trash":
            batch.trashed.append(_Update(link, replica, {}))
            continue
        origin = snapshots[(link.origin_store_id, link.origin_order_id)].body
        wanted = str(mapped[_id(link)].payload.get("status"))
        status, set_there = _status_for(
            link, origin, replica, refunds_owed(origin, link.refunds_done), wanted
        )
        if set_there is not None:
            batch.flowing_back[_id(link)] = set_there
        try:
            changes = plan_update(mapped[_id(link)].payload, replica, status=status)
        except ReplicaMismatch as exc:
            batch.mismatched[_id(link)] = exc
            continue
        (batch.updates if changes else batch.equal).append(_Update(link, replica, changes))
    return batch


@dataclass
class Claimed:
    """A claimed batch and what mapping it needs, read in the claim's own unit of work."""

    link_ids: list[int]
    links: list[Link]
    snapshots: dict[tuple[int, int], SourceOrder]
    names: dict[int, str]


async def load_claimed(session: AsyncSession, link_ids: Sequence[int]) -> Claimed:
    links = await repo.links_by_ids(session, link_ids)
    return Claimed(
        link_ids=list(link_ids),
        links=links,
        snapshots=await repo.source_orders_for_links(session, links),
        names=await repo.store_names(session),
    )


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
        plan = await _decide(client, links, mapped, snapshots)
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
                create=[create_payload(mapped[_id(ln)].payload) for ln in plan.creates],
                update=[{"id": u.link.target_order_id, **u.changes} for u in plan.updates],
            )
        except WooCommerceError as exc:
            result_error, usable = exc, False
    unfinished: set[int] = set()  # positions in plan.creates of copies still to finish
    if result is not None and plan.creates:
        payloads = [mapped[_id(ln)].payload for ln in plan.creates]
        unfinished = await complete_creates(client, result.create, payloads, store=target.name)

    now = utcnow()
    created: list[tuple[int, Link]] = []
    refund_jobs: list[RefundJob] = []
    notes_wanted = origin_notes_wanted(ctx, target)
    async with session_scope(ctx.session_factory) as session:
        # The links are locked before the origins' versions are read: a discovery that records
        # a newer version locks them too, so one of the two always sees the other's news.
        fresh = {ln.id: ln for ln in await repo.links_by_ids(session, link_ids, for_update=True)}
        latest = await repo.source_orders_for_links(session, list(fresh.values()))

        def synced(row: Link, order_id: int, replica: dict[str, Any]) -> None:
            """Synced to the origin version it was mapped from; if the origin changed meanwhile
            (discovery read a newer one during the push, even within the same second), it is
            queued again at once."""
            key = (row.origin_store_id, row.origin_order_id)
            sent = snapshots[key]
            origin = sent.body
            owed = refunds_owed(origin, row.refunds_done)
            mark_synced(row, order_id, sent, now, done=not owed)
            record_replica(row, replica)
            if owed:
                refund_jobs.append(RefundJob(link_id=_id(row), replica=replica, sent=sent))
                # Done only once its refunds are copied too: until then it stays in flight under
                # this process's lease, so that a crash before they are copied leaves it to be
                # reconciled and read again, never counted as synced.
                row.state, row.lease_owner = LinkState.in_flight, ctx.owner
                row.lease_until = now + timedelta(seconds=ctx.settings.lease_seconds)
            if origin_moved_on(latest.get(key), sent):
                row.state = LinkState.pending

        for link_id, error in {**mapping_errors, **plan.mismatched}.items():
            schedule_retry(
                session,
                ctx,
                fresh[link_id],
                error,
                now,
                run_id,
                stats,
                retriable=False,
                target_name=target.name,
            )
            stats.done += 1
        for link in plan.gone:
            row = fresh[_id(link)]
            link_event(
                session,
                row,
                "replica_missing",
                f"order {row.target_order_id} no longer exists on store {target.name}; it is made again",
                run_id,
            )
            forget_replica(row)
        for trashed in plan.trashed:
            row = fresh[_id(trashed.link)]
            if row.replica_status != "trash":
                link_event(
                    session,
                    row,
                    "replica_trashed",
                    f"order {row.target_order_id} was trashed on store {target.name}; it is left there",
                    run_id,
                )
        for unchanged in plan.equal:
            link_event(
                session,
                fresh[_id(unchanged.link)],
                "in_sync",
                f"already in sync: the copy on store {target.name} (order {unchanged.link.target_order_id}) "
                "equals the origin; nothing written",
                run_id,
            )
        for unchanged in plan.equal + plan.trashed:
            synced(fresh[_id(unchanged.link)], unchanged.link.target_order_id or 0, unchanged.replica)
            stats.skipped += 1
            stats.done += 1
        for link_id, status in plan.flowing_back.items():
            row = fresh[link_id]
            row.status_to_origin = status
            link_event(
                session,
                row,
                "status_changed",
                f"store {target.name} set {status!r}; it goes back to the origin",
                run_id,
            )
        if result_error is not None:
            for link in plan.creates:
                row = fresh[_id(link)]
                if result_error.ambiguous:
                    # The store may have created some of these: reconcile before any retry.
                    row.lease_until, row.attempt_outcome = now, "unknown"
                    row.last_error, row.last_error_code = str(result_error), result_error.code
                    link_event(session, row, "outcome_unknown", str(result_error), run_id)
                else:
                    schedule_retry(
                        session,
                        ctx,
                        row,
                        result_error,
                        now,
                        run_id,
                        stats,
                        retriable=is_retriable(result_error),
                    )
                    stats.done += 1
            for update in plan.updates:
                # Safe to send again: the next attempt reads the replica and plans afresh.
                schedule_retry(
                    session,
                    ctx,
                    fresh[_id(update.link)],
                    result_error,
                    now,
                    run_id,
                    stats,
                    retriable=is_retriable(result_error),
                )
                stats.done += 1
        elif result is not None:
            for position, (item, link) in enumerate(zip(result.create, plan.creates, strict=True)):
                row = fresh[_id(link)]
                if item.order is not None and isinstance(item.order.get("id"), int):
                    synced(row, item.order["id"], item.order)
                    if position in unfinished and row.state == LinkState.synced:
                        row.state, row.next_attempt_at = LinkState.pending, None  # finished next pass
                    # The origin note waits in a low-priority queue: it never delays a create.
                    row.origin_note_due = notes_wanted
                    link_event(
                        session, row, "created", f"order {item.order['id']} on store {target.name}", run_id
                    )
                    _note_total(session, row, mapped[_id(link)], item.order, target, run_id)
                    created.append((item.order["id"], row))
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
            for item, update in zip(result.update, plan.updates, strict=True):
                row = fresh[_id(update.link)]
                stats.done += 1
                if item.order is not None:
                    synced(row, row.target_order_id or 0, item.order)
                    _note_total(session, row, mapped[_id(update.link)], item.order, target, run_id)
                    written = ", ".join(sorted(update.changes))
                    link_event(
                        session,
                        row,
                        "updated",
                        f"order {row.target_order_id} on store {target.name}: {written}",
                        run_id,
                    )
                    stats.updated += 1
                elif isinstance(item.error, NotFoundError):
                    # Deleted for good between the read and the write: made again next time.
                    link_event(
                        session,
                        row,
                        "replica_missing",
                        f"order {row.target_order_id} no longer exists on store {target.name}; "
                        "it will be made again",
                        run_id,
                    )
                    forget_replica(row)
                    row.state, row.lease_until, row.next_attempt_at = LinkState.pending, None, None
                else:
                    refused: Exception = item.error or OrderRejected(
                        target.name, "the store returned no order"
                    )
                    schedule_retry(
                        session,
                        ctx,
                        row,
                        refused,
                        now,
                        run_id,
                        stats,
                        retriable=is_retriable(refused),
                        target_name=target.name,
                    )
        # The store answered: a write, or the read of copies found equal.
        if result_error is None and (plan.creates or plan.updates or plan.equal or plan.trashed):
            await repo.note_store_success(session, target.id or 0, now)
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


def _note_total(
    session: Any, link: Link, mapped: MappedOrder, replica: dict[str, Any], target: Store, run_id: int | None
) -> None:
    """The target computes taxes from its own settings: when the copy's total is not what the
    origin's lines make, say so in the order's history, in words."""
    expected = expected_total(mapped)
    got = amount(replica.get("total"))
    if expected is not None and got != expected:
        link_event(
            session,
            link,
            "total_differs",
            f"the copy's total on store {target.name} is {got}, the origin's {expected}: the store "
            "computes taxes from its own tax settings (the lines and their totals are the origin's)",
            run_id,
        )


def _id(link: Link) -> int:
    assert link.id is not None
    return link.id


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
                    failed.append(_id(link))

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
                (_id(ln), claimed.snapshots.get((ln.origin_store_id, ln.origin_order_id)))
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
