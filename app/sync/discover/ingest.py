"""Ingest: what a page of a source store's orders means for the ledger. Origin orders get their
latest version recorded and one link per routed target; replicas (orders wcsync made here) have
a status set on this store queued to go back to their origin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Direction, Link, LinkState, Routing, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, parse_gmt
from app.sync.discover.catalog import catalog
from app.sync.discover.routing import Target, route_order
from app.sync.events import link_event, order_event
from app.sync.orderinfo import keep_summary, order_summary
from app.sync.plan.conflicts import ReplicaChange, replica_change, same_version
from app.sync.plan.mapping import parse_origin


@dataclass
class DiscoveryResult:
    seen: int = 0
    queued: int = 0
    skipped: int = 0
    flow_back: int = 0  # statuses set on replicas here, queued to go back to their origins
    link_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, other: DiscoveryResult) -> None:
        self.seen += other.seen
        self.queued += other.queued
        self.skipped += other.skipped
        self.flow_back += other.flow_back
        self.link_ids += other.link_ids
        self.errors += other.errors


async def targets_for(
    session: AsyncSession, source: Store, direction: Direction, only: str | None = None
) -> list[Store]:
    stores = await repo.list_stores(session, enabled_only=True)
    if direction == Direction.main_to_sub:
        targets = [s for s in stores if s.role == StoreRole.sub]
    else:
        targets = [s for s in stores if s.role == StoreRole.main]
    if only is not None:
        targets = [s for s in targets if s.name == only]
    return [t for t in targets if t.id != source.id]


async def routing_targets(ctx: SyncContext, targets: Sequence[Store]) -> list[Target]:
    result = []
    for target in targets:
        routing = effective_routing(target)
        skus: frozenset[str] = frozenset()
        if routing == Routing.skus:
            skus = frozenset((await catalog(ctx, target)).keys())
        result.append(Target(name=target.name, routing=routing, skus=skus))
    return result


def effective_routing(store: Store) -> Routing:
    """The main store takes every sub-store order: `skus` on it (refused since issue 15, but
    set by older versions, and cleared by migration 0010) would drop orders silently."""
    return Routing.all if store.role == StoreRole.main else Routing(store.routing)


async def ingest_orders(
    session: AsyncSession,
    ctx: SyncContext,
    *,
    source: Store,
    direction: Direction,
    orders: Sequence[dict[str, Any]],
    targets: Sequence[Store],
    routes: Sequence[Target],
    run_id: int | None,
    force: bool = False,
    since: datetime | None = None,
) -> DiscoveryResult:
    """Read one page of a store's orders. Origin orders: record their latest version, upsert a
    link per routed target, and queue an update for replicas whose origin changed. Replicas
    (orders wcsync made here): notice a status set on this store, to be written back to the
    origin. With `force` (Sync Order) an unchanged order and its parked links are queued again."""
    assert source.id is not None
    result = DiscoveryResult()
    ids = [o["id"] for o in orders if isinstance(o.get("id"), int)]
    known = await repo.source_orders(session, source.id, ids)
    links: dict[int, dict[int, Link]] = {}
    # Locked first: a push recording its result meanwhile either sees the version recorded here,
    # or commits before and is seen here as synced (and queued again if this version is newer).
    for ln in await repo.links_for_origins(session, source.id, ids, for_update=True):
        links.setdefault(ln.origin_order_id, {})[ln.target_store_id] = ln
    replica_links = {
        ln.target_order_id: ln for ln in await repo.links_for_target_orders(session, source.id, ids)
    }
    stores = await repo.stores_by_id(session)
    by_name = {t.name: t for t in targets}
    statuses = ctx.replicate_statuses
    # Orders placed before the store was connected are not replicated unless a backfill date
    # says so. The floor is on the store's clock (taken when it was added, see storetime), as
    # its orders' dates are. (Whole seconds, as WooCommerce dates are.)
    floor = (since or source.orders_since or source.backfill_since or source.created_at).replace(
        microsecond=0
    )
    # New snapshots and links are rows, not objects: one INSERT each for the page (a SQLModel
    # object each cost more than the rest of ingesting an order).
    new_snapshots: list[dict[str, Any]] = []
    new_links: list[dict[str, Any]] = []
    new_names: list[str] = []
    planned: set[tuple[int, int]] = set()
    now = utcnow()
    touched: list[Link] = []
    for order in orders:
        result.seen += 1
        order_id, modified = order.get("id"), parse_gmt(order.get("date_modified_gmt"))
        if not isinstance(order_id, int) or modified is None:
            result.errors.append(f"store {source.name} returned an order without id or date_modified_gmt")
            continue
        origin = parse_origin(order)
        if origin is not None and origin[0] != source.name:
            # A replica is never replicated as a new order; its status may flow back.
            link = replica_links.get(order_id)
            if link is not None:
                await _ingest_replica(session, source, order, modified, link, stores, run_id, result)
            continue
        order_links = links.get(order_id, {})
        created = parse_gmt(order.get("date_created_gmt"))
        new_allowed = order.get("status") in statuses and (force or created is None or created >= floor)
        if not order_links and not new_allowed:
            result.skipped += 1
            continue
        kept = known.get(order_id)
        snapshot: SourceOrder | _NewSnapshot
        newer = True  # this read holds a version wcsync did not have
        if kept is None:
            new_snapshots.append(
                {
                    "store_id": source.id,
                    "order_id": order_id,
                    "modified_gmt": modified,
                    "status": str(order.get("status")),
                    "body": order,
                    "seen_at": now,
                    **order_summary(order),
                }
            )
            snapshot = _NewSnapshot(modified_gmt=modified, seen_at=now)
        elif kept.modified_gmt < modified or (
            kept.modified_gmt == modified and not same_version(kept.body, order)
        ):
            kept.modified_gmt, kept.status, kept.body = modified, str(order.get("status")), order
            kept.seen_at = utcnow()
            keep_summary(kept)
            snapshot = kept
        elif force:
            # Sync Order of an order that has not changed: no new version, so nothing is
            # "changed" below; its copies are only read and checked.
            newer = False
            snapshot = kept
        else:
            # The same version read again: it is settled once read after its second was over
            # (discovery then stops fetching its body), and nothing is queued for it.
            newer = False
            if kept.modified_gmt == modified:
                kept.seen_at = utcnow()
            snapshot = kept
            if not order_links and since is None:
                # A Full sync (`since`) still routes it: a target may be new to it since it
                # was read (a store brought back, say).
                continue
        if new_allowed:
            for name in route_order(order, routes):
                target = by_name[name]
                assert target.id is not None
                if target.id in order_links:
                    continue
                if (order_id, target.id) in planned:
                    continue  # the same order twice in one page
                planned.add((order_id, target.id))
                new_links.append(
                    {
                        "origin_store_id": source.id,
                        "origin_order_id": order_id,
                        "target_store_id": target.id,
                        "direction": direction,
                        "state": LinkState.pending,
                        "attempts": 0,
                        "source_modified_gmt": modified,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                new_names.append(target.name)
                result.queued += 1
        for link in order_links.values():
            link.source_modified_gmt = snapshot.modified_gmt
            changed = link.pushed_modified_gmt is None or snapshot.modified_gmt > link.pushed_modified_gmt
            # A version of the same second read after the copy was written: it may hold more.
            changed = changed or (newer and snapshot.seen_at > (link.synced_at or snapshot.seen_at))
            if link.state == LinkState.synced and (changed or force):
                link.state, link.next_attempt_at, link.updated_at = LinkState.pending, None, utcnow()
                target_name = stores[link.target_store_id].name
                if changed:
                    message = f"origin order changed; update queued for store {target_name}"
                else:
                    message = (
                        f"Sync Order: the order has not changed since it was copied to store "
                        f"{target_name}; the copy is read to confirm it is still in sync"
                    )
                link_event(session, link, "changed" if changed else "check", message, run_id)
                result.queued += 1
            elif force and link.state == LinkState.failed:
                link.state, link.attempts, link.next_attempt_at = LinkState.pending, 0, None
                link_event(session, link, "requeued", "Sync Order", run_id)
                result.queued += 1
            elif force and link.state == LinkState.pending:
                link.next_attempt_at = None
            touched.append(link)
    # The changes to known links and snapshots flushed, then the page's new snapshots and links
    # (executemany, without RETURNING: SQLAlchemy sends an INSERT … RETURNING a row at a time
    # when the ids must come back in order), their ids read back by their unique key, then
    # their history lines.
    await session.flush()
    if new_snapshots:
        await session.exec(sa.insert(SourceOrder), params=new_snapshots)
    if new_links:
        await session.exec(sa.insert(Link), params=new_links)
        inserted = await session.exec(
            select(Link.id, Link.origin_order_id, Link.target_store_id).where(
                col(Link.origin_store_id) == source.id,
                col(Link.origin_order_id).in_(sorted({row["origin_order_id"] for row in new_links})),
            )
        )
        id_of: dict[tuple[int, int], int] = {
            (order_id, target_id): link_id
            for link_id, order_id, target_id in inserted.all()
            if link_id is not None
        }
        for row, target_name in zip(new_links, new_names, strict=True):
            link_id = id_of[(row["origin_order_id"], row["target_store_id"])]
            order_event(
                session,
                link_id,
                source.id,
                row["origin_order_id"],
                "discovered",
                f"queued for store {target_name}",
                run_id,
            )
            result.link_ids.append(link_id)
    result.link_ids += [link.id for link in touched if link.id is not None]
    return result


@dataclass
class _NewSnapshot:
    """What the rest of the page needs of a snapshot inserted as a row."""

    modified_gmt: datetime
    seen_at: datetime


async def _ingest_replica(
    session: AsyncSession,
    store: Store,
    order: dict[str, Any],
    modified: datetime,
    link: Link,
    stores: dict[int, Store],
    run_id: int | None,
    result: DiscoveryResult,
) -> None:
    """A replica read on its own store: a status set here is queued to go back to the origin
    (the flow-back step judges it against the origin's latest version)."""
    status = str(order.get("status"))
    decision = replica_change(
        status=status,
        modified=modified,
        known_status=link.replica_status,
        known_modified=link.replica_modified_gmt,
    )
    if decision == ReplicaChange.known:
        return
    before = link.replica_status
    link.replica_modified_gmt = modified
    link.replica_status = status
    if decision == ReplicaChange.seen:
        if link.state == LinkState.synced and status not in ("trash", "checkout-draft"):
            # Edited on its store: the origin owns the content, so the replica is read and made
            # equal again (nothing is written if it still is).
            link.state, link.next_attempt_at = LinkState.pending, None
            link_event(
                session,
                link,
                "replica_edited",
                f"order {order.get('id')} changed on store {store.name}",
                run_id,
            )
        return
    link.status_to_origin = status
    origin = stores.get(link.origin_store_id)
    link_event(
        session,
        link,
        "status_changed",
        f"store {store.name} set {status!r} (was {before!r}); it goes back to "
        f"{origin.name if origin else '?'}",
        run_id,
    )
    result.flow_back += 1
