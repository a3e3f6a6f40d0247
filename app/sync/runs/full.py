"""Full sync: walk every order of the chosen stores (or those since a date), and compare the
ledger with what the stores really hold. It finds replicas missing on a target, replicas whose
status or content drifted from the origin, replicas made outside the ledger, and ledger rows
whose orders no longer exist; repairs what it can (the replication that follows recreates,
updates, adopts) and reports each kind of drift in the run.

It streams: one page of 100 orders at a time, with per-page queries, so memory stays flat on a
store of 100,000 orders. Where the walk is (per store and phase, the last page done) is saved
in the run after every page, so a crash continues the walk instead of restarting it."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from app.db import session_scope
from app.models import Direction, Link, LinkState, SourceOrder, Store, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log, parse_gmt
from app.sync.discover.listing import ingest_orders, routing_targets, targets_for
from app.sync.events import link_event
from app.sync.plan.conflicts import ReplicaChange, replica_change
from app.sync.plan.mapping import parse_origin
from app.sync.write.batch import read_replicas
from app.sync.write.outcomes import forget_replica
from app.woocommerce.client import ALL_ORDER_STATUSES, OrderPage, WooCommerceClient
from app.woocommerce.errors import NotFoundError, WooCommerceError

REPLICA_FIELDS = ("id", "status", "date_modified_gmt", "date_created_gmt", "meta_data")


async def _save_progress(
    ctx: SyncContext, run_id: int, key: str, page: int, drift: Counter[str], walked: int, total: int | None
) -> None:
    async with session_scope(ctx.session_factory) as session:
        run = await repo.get_run(session, run_id)
        details = dict(run.details)
        walk = dict(details.get("walk") or {})
        walk[key] = page
        details["walk"] = walk
        merged = Counter(details.get("drift") or {})
        merged.update(drift)
        details["drift"] = dict(merged)
        run.details = details
        run.progress_done += walked
        if total is not None and page == 1:
            run.progress_total += total


async def _pages(
    client: WooCommerceClient, start_page: int, since: datetime | None, fields: Sequence[str] | None
) -> AsyncIterator[tuple[int, OrderPage]]:
    """Pages of a store's orders in id order, every status, from `start_page` on."""
    page = start_page
    while True:
        result = await client.list_orders(
            after=since, status=ALL_ORDER_STATUSES, page=page, orderby="id", order="asc", fields=fields
        )
        if not result.items:
            return
        yield page, result
        if result.total_pages is not None and page >= result.total_pages:
            return
        page += 1


async def walk_origins(
    ctx: SyncContext,
    run_id: int,
    source: Store,
    direction: Direction,
    since: datetime | None,
    resume: dict[str, Any],
) -> None:
    """Read every origin order: missing links are made, changed orders queued for update."""
    assert source.id is not None
    key = f"origin:{direction.value}:{source.name}"
    if resume.get(key) == "done":
        return
    async with session_scope(ctx.session_factory) as session:
        targets = await targets_for(session, source, direction)
    if not targets:
        return
    routes = await routing_targets(ctx, targets)
    started = utcnow()
    client = ctx.clients.get(source)
    async for page, result in _pages(client, int(resume.get(key) or 0) + 1, since, None):
        drift: Counter[str] = Counter()
        async with session_scope(ctx.session_factory) as session:
            before = {
                (ln.origin_order_id, ln.target_store_id)
                for ln in await repo.links_for_origins(session, source.id, [o["id"] for o in result.items])
            }
            found = await ingest_orders(
                session,
                ctx,
                source=source,
                direction=direction,
                orders=result.items,
                targets=targets,
                routes=routes,
                run_id=run_id,
                since=since,
            )
            now = utcnow()
            for snapshot in (
                await repo.source_orders(session, source.id, [o["id"] for o in result.items])
            ).values():
                snapshot.seen_at = max(snapshot.seen_at, now) if snapshot.seen_at else now
            after = await repo.links_for_origins(session, source.id, [o["id"] for o in result.items])
            drift["replica_never_made"] += sum(
                1 for ln in after if (ln.origin_order_id, ln.target_store_id) not in before
            )
            drift["origin_changed"] += found.flow_back
        await _save_progress(ctx, run_id, key, page, drift, len(result.items), result.total)
    if since is None:
        await _origins_gone(ctx, run_id, source, started)
    await _mark_done(ctx, run_id, key)


async def _origins_gone(ctx: SyncContext, run_id: int, source: Store, started: datetime) -> None:
    """Ledger rows whose origin order no longer exists (deleted for good): reported, and their
    pending work parked; the replicas stay."""
    assert source.id is not None
    gone: Counter[str] = Counter()
    async with session_scope(ctx.session_factory) as session:
        rows = await session.exec(
            select(SourceOrder).where(SourceOrder.store_id == source.id, col(SourceOrder.seen_at) < started)
        )
        for snapshot in rows.all():
            for link in await repo.links_for_origins(session, source.id, [snapshot.order_id]):
                if link.state == LinkState.failed and link.last_error_code == "origin_missing":
                    continue
                link.state, link.last_error_code = LinkState.failed, "origin_missing"
                link.last_error = f"order {snapshot.order_id} no longer exists on store {source.name}"
                link_event(session, link, "origin_missing", link.last_error, run_id)
                gone["origin_missing"] += 1
    if gone:
        await _save_progress(ctx, run_id, f"origin-gone:{source.name}", 0, gone, 0, None)


async def walk_replicas(
    ctx: SyncContext,
    run_id: int,
    target: Store,
    direction: Direction,
    since: datetime | None,
    resume: dict[str, Any],
) -> None:
    """Read every order on a target store and compare the replicas with the ledger."""
    assert target.id is not None
    key = f"replica:{direction.value}:{target.name}"
    if resume.get(key) == "done":
        return
    client = ctx.clients.get(target)
    async with session_scope(ctx.session_factory) as session:
        stores = await repo.stores_by_id(session)
    by_name = {s.name: s for s in stores.values()}
    async for page, result in _pages(client, int(resume.get(key) or 0) + 1, since, REPLICA_FIELDS):
        drift: Counter[str] = Counter()
        async with session_scope(ctx.session_factory) as session:
            ids = [o["id"] for o in result.items]
            by_replica = {
                ln.target_order_id: ln for ln in await repo.links_for_target_orders(session, target.id, ids)
            }
            for order in result.items:
                origin = parse_origin(order)
                origin_store = by_name.get(origin[0]) if origin else None
                if (
                    origin is None
                    or origin_store is None
                    or origin_store.id is None
                    or origin_store.id == target.id
                ):
                    continue
                link = by_replica.get(order["id"])
                if link is None:
                    link = await _link_for(session, origin_store.id, origin[1], target.id)
                    drift[await _unlinked(session, link, order, origin_store, target, direction, run_id)] += 1
                    continue
                link.last_seen_run = run_id
                drift[_compare(session, link, order, target, run_id)] += 1
        drift.pop("", None)
        await _save_progress(ctx, run_id, key, page, drift, len(result.items), result.total)
    await _replicas_gone(ctx, run_id, target, direction, since)
    await _mark_done(ctx, run_id, key)


async def _link_for(session: Any, origin_id: int, order_id: int, target_id: int) -> Link | None:
    rows = await session.exec(
        select(Link).where(
            Link.origin_store_id == origin_id,
            Link.origin_order_id == order_id,
            Link.target_store_id == target_id,
        )
    )
    link: Link | None = rows.first()
    return link


async def _unlinked(
    session: Any,
    link: Link | None,
    order: dict[str, Any],
    origin: Store,
    target: Store,
    direction: Direction,
    run_id: int,
) -> str:
    """A replica the ledger does not point at: adopt it when its link has none yet (a create
    whose answer was lost), report it when the link points at another order (a duplicate)."""
    modified = parse_gmt(order.get("date_modified_gmt"))
    if link is None:
        assert origin.id is not None and target.id is not None
        link = Link(
            origin_store_id=origin.id,
            origin_order_id=int(parse_origin(order)[1]),  # type: ignore[index]
            target_store_id=target.id,
            direction=direction,
            state=LinkState.pending,
            target_order_id=order["id"],
            replica_status=str(order.get("status")),
            replica_modified_gmt=modified,
        )
        session.add(link)
        await session.flush()
        link_event(
            session,
            link,
            "adopted",
            f"order {order['id']} on store {target.name} was a replica the "
            "ledger did not know; adopted and brought up to date",
            run_id,
        )
        return "unlinked_replica_adopted"
    if link.target_order_id is None and link.state in (LinkState.pending, LinkState.failed):
        link.target_order_id, link.replica_status, link.replica_modified_gmt = (
            order["id"],
            str(order.get("status")),
            modified,
        )
        link.state, link.next_attempt_at = LinkState.pending, None
        link_event(
            session, link, "adopted", f"found its replica {order['id']} on store {target.name}", run_id
        )
        return "unlinked_replica_adopted"
    if link.target_order_id not in (None, order["id"]):
        link_event(
            session,
            link,
            "duplicate_replica",
            f"store {target.name} holds a second replica, order {order['id']} (the ledger's is "
            f"{link.target_order_id}); left for an admin to remove",
            run_id,
        )
        return "duplicate_replica"
    return ""


def _compare(session: Any, link: Link, order: dict[str, Any], target: Store, run_id: int) -> str:
    """A replica the ledger points at: a status or content that differs from what wcsync last
    wrote, without a newer modified date to explain it, is drift and is pushed again; a newer
    change is treated as a Smart pass would (a status goes back to the origin)."""
    if link.state != LinkState.synced:
        return ""
    status, modified = str(order.get("status")), parse_gmt(order.get("date_modified_gmt"))
    if modified is None:
        return ""
    decision = replica_change(
        status=status,
        modified=modified,
        known_status=link.replica_status,
        known_modified=link.replica_modified_gmt,
    )
    if decision == ReplicaChange.status_changed:
        link.replica_status, link.replica_modified_gmt, link.status_to_origin = status, modified, status
        link_event(
            session, link, "status_changed", f"store {target.name} set {status!r}; it goes back", run_id
        )
        return "replica_status_changed"
    if status != link.replica_status and status != "trash":
        link.replica_status = status
        link.state, link.next_attempt_at = LinkState.pending, None
        link_event(
            session,
            link,
            "status_drift",
            f"replica {order['id']} on store {target.name} shows "
            f"{status!r}, not what wcsync wrote; the origin's status is written again",
            run_id,
        )
        return "status_drift"
    if decision == ReplicaChange.seen:
        # Edited on its store: the origin owns the content, so it is written again.
        link.replica_modified_gmt = modified
        link.state, link.next_attempt_at = LinkState.pending, None
        link_event(
            session,
            link,
            "content_drift",
            f"replica {order['id']} on store {target.name} was edited "
            "there; the origin's content is written again",
            run_id,
        )
        return "content_drift"
    return ""


async def _replicas_gone(
    ctx: SyncContext, run_id: int, target: Store, direction: Direction, since: datetime | None
) -> None:
    """Synced links whose replica was not in the walk. A walk is no proof that an order is gone
    (a `since` leaves out the copies made before it, whatever the ledger row's age, and a page
    walk can miss an order moved under it), so each is looked up by its id: one that exists is
    left alone; one the store no longer has (deleted for good) is reported, and made again by
    the replication that follows. With `since`, the links looked at are those of origins
    created since then (the origins the walk read)."""
    gone: Counter[str] = Counter()
    client = ctx.clients.get(target)
    while True:
        async with session_scope(ctx.session_factory) as session:
            query = (
                select(Link)
                .where(
                    Link.target_store_id == target.id,
                    Link.direction == direction,
                    Link.state == LinkState.synced,
                    col(Link.target_order_id).is_not(None),
                    (col(Link.last_seen_run).is_(None)) | (col(Link.last_seen_run) != run_id),
                )
                .order_by(col(Link.id))
                .limit(100)
            )
            if since is not None:
                query = query.join(
                    SourceOrder,
                    (col(SourceOrder.store_id) == col(Link.origin_store_id))
                    & (col(SourceOrder.order_id) == col(Link.origin_order_id)),
                ).where(col(SourceOrder.created_gmt) >= since)
            batch = list((await session.exec(query)).all())
            wanted = {ln.id or 0: ln.target_order_id or 0 for ln in batch}
        if not batch:
            break
        listed = await read_replicas(client, list(wanted.values()))
        missing: set[int] = set()
        for order_id in set(wanted.values()) - set(listed):
            # Not listed: deleted, or in a status a listing does not name; the order tells.
            try:
                await client.get_order(order_id)
            except NotFoundError:
                missing.add(order_id)
        async with session_scope(ctx.session_factory) as session:
            for link in await repo.links_by_ids(session, list(wanted)):
                if link.state != LinkState.synced or link.target_order_id != wanted[link.id or 0]:
                    continue  # changed meanwhile: the replication has it
                link.last_seen_run = run_id
                if link.target_order_id not in missing:
                    continue
                link_event(
                    session,
                    link,
                    "replica_missing",
                    f"replica {link.target_order_id} no longer exists "
                    f"on store {target.name}; it will be made again",
                    run_id,
                )
                forget_replica(link)
                link.state, link.next_attempt_at, link.attempts = LinkState.pending, None, 0
                gone["replica_missing"] += 1
    if gone:
        await _save_progress(ctx, run_id, f"replica-gone:{target.name}", 0, gone, 0, None)


async def _mark_done(ctx: SyncContext, run_id: int, key: str) -> None:
    async with session_scope(ctx.session_factory) as session:
        run = await repo.get_run(session, run_id)
        details = dict(run.details)
        walk = dict(details.get("walk") or {})
        walk[key] = "done"
        details["walk"] = walk
        run.details = details


async def full_walk(
    ctx: SyncContext,
    run_id: int,
    direction: Direction,
    sources: Sequence[Store],
    targets: Sequence[Store],
    since: datetime | None,
) -> list[str]:
    """Walk the origins, then the replicas, of one direction; errors are returned, not raised."""
    errors: list[str] = []
    async with session_scope(ctx.session_factory) as session:
        resume = dict((await repo.get_run(session, run_id)).details.get("walk") or {})
    for source in sources:
        try:
            await walk_origins(ctx, run_id, source, direction, since, resume)
        except WooCommerceError as exc:
            errors.append(f"store {source.name}: full sync could not read its orders: {exc}")
    for target in targets:
        try:
            await walk_replicas(ctx, run_id, target, direction, since, resume)
        except WooCommerceError as exc:
            errors.append(f"store {target.name}: full sync could not read its orders: {exc}")
    log.info("sync.full.walked %s", kv(run=run_id, direction=direction.value, errors=len(errors)))
    return errors
