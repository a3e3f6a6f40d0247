"""Status flowing back: a status set on a replica's store is written to the origin order, and
the origin's other replicas then follow it like any origin change."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from app.config import parse_status_map
from app.db import session_scope
from app.errors import StatusNotOnStore
from app.models import Link, LinkState, SourceOrder, Store, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log, parse_gmt
from app.sync.events import link_event
from app.sync.orderinfo import keep_summary
from app.sync.plan.conflicts import replica_is_later
from app.sync.plan.planner import status_for_store
from app.sync.storetime import store_clock
from app.woocommerce.client import BATCH_LIMIT
from app.woocommerce.clock import Skew
from app.woocommerce.errors import WooCommerceError


@dataclass
class FlowBackStats:
    written: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def flow_back(ctx: SyncContext, *, run_id: int | None) -> FlowBackStats:
    """Write every pending replica status back to its origin store, a batch per store."""
    stats = FlowBackStats()
    async with session_scope(ctx.session_factory) as session:
        rows = await session.exec(select(Link).where(col(Link.status_to_origin).is_not(None)))
        waiting = list(rows.all())
        stores = await repo.stores_by_id(session)
    by_origin: dict[int, list[Link]] = defaultdict(list)
    for link in waiting:
        by_origin[link.origin_store_id].append(link)
    for origin_id, links in by_origin.items():
        origin = stores.get(origin_id)
        if origin is None or not origin.enabled or origin.archived_at is not None:
            continue
        client = ctx.clients.get(origin)
        try:
            # Both sides' times are compared on our clock: each store's skew is read first.
            skews = {
                sid: await store_clock(ctx, stores[sid])
                for sid in {origin_id, *(ln.target_store_id for ln in links)}
            }
        except WooCommerceError as exc:
            stats.errors.append(f"store {exc.store or origin.name}: clock not read, statuses wait: {exc}")
            continue
        # One status per origin order: if two replicas changed, the later read wins.
        wanted: dict[int, Link] = {}
        for link in sorted(
            links, key=lambda ln: _on_our_clock(ln.replica_modified_gmt, skews[ln.target_store_id])
        ):
            wanted[link.origin_order_id] = link
        chunk = await _judge_conflicts(ctx, list(wanted.values()), stores, skews, run_id)
        try:
            chunk, written = await _statuses_for_origin(ctx, origin, chunk, run_id)
        except WooCommerceError as exc:
            stats.errors.append(f"store {origin.name}: statuses not read, statuses wait: {exc}")
            continue
        for start in range(0, len(chunk), BATCH_LIMIT):
            part = chunk[start : start + BATCH_LIMIT]
            try:
                result = await client.batch_orders(
                    update=[{"id": ln.origin_order_id, "status": written[_link_id(ln)]} for ln in part]
                )
            except WooCommerceError as exc:
                stats.failed += len(part)
                stats.errors.append(f"store {origin.name}: status not written back: {exc}")
                await _record_failure(ctx, [ln.id for ln in part if ln.id is not None], str(exc), run_id)
                continue
            await _record(ctx, origin.name, part, result.update, run_id, stats)
    if waiting:
        log.info("sync.flowback.done %s", kv(written=stats.written, failed=stats.failed))
    return stats


def _link_id(link: Link) -> int:
    assert link.id is not None
    return link.id


async def _statuses_for_origin(
    ctx: SyncContext, origin: Store, links: list[Link], run_id: int | None
) -> tuple[list[Link], dict[int, str]]:
    """The links whose status the origin store can hold (its own, or as WCSYNC_STATUS_MAP maps a
    status it lacks), with the status to write; the others fail, saying which status and what
    to do, and keep their status waiting until the origin registers it or a map is set."""
    registered = await ctx.clients.get(origin).order_statuses()
    status_map = parse_status_map(ctx.settings.status_map)
    going: list[Link] = []
    written: dict[int, str] = {}
    refused: dict[int, str] = {}
    for link in links:
        try:
            written[_link_id(link)] = status_for_store(
                str(link.status_to_origin), store=origin.name, registered=registered, status_map=status_map
            )
            going.append(link)
        except StatusNotOnStore as exc:
            refused[_link_id(link)] = str(exc)
    if refused:
        async with session_scope(ctx.session_factory) as session:
            for row in await repo.links_by_ids(session, list(refused)):
                message = f"status not written back to the origin: {refused[_link_id(row)]}"
                if row.last_error != message or row.state != LinkState.failed:
                    link_event(session, row, "flow_back_failed", message, run_id)
                row.state, row.last_error = LinkState.failed, message
                row.last_error_code = StatusNotOnStore.code
    return going, written


def _on_our_clock(when: datetime | None, skew: Skew) -> datetime:
    return skew.to_ours(when) if when is not None else utcnow()


async def _judge_conflicts(
    ctx: SyncContext, links: list[Link], stores: dict[int, Store], skews: dict[int, Skew], run_id: int | None
) -> list[Link]:
    """Where the origin also changed since the last sync, the later change wins; the losing
    value and the decision go into the order's history. Returns the links whose status goes
    back to the origin."""
    going: list[Link] = []
    async with session_scope(ctx.session_factory) as session:
        fresh = await repo.links_by_ids(session, [ln.id for ln in links if ln.id is not None])
        snapshots = await repo.source_orders_for_links(session, fresh)
        for link in fresh:
            snapshot = snapshots.get((link.origin_store_id, link.origin_order_id))
            origin, replica = stores.get(link.origin_store_id), stores.get(link.target_store_id)
            origin_name, replica_name = (origin.name if origin else "?"), (replica.name if replica else "?")
            new = link.status_to_origin
            if snapshot is not None and snapshot.status == new:
                link.status_to_origin = None  # the origin already holds it
                continue
            origin_changed = bool(
                snapshot is not None
                and link.pushed_modified_gmt is not None
                and snapshot.modified_gmt > link.pushed_modified_gmt
            )
            if not origin_changed or snapshot is None:
                going.append(link)
                continue
            if replica_is_later(
                origin_changed_at=_on_our_clock(snapshot.modified_gmt, skews[link.origin_store_id]),
                replica_changed_at=_on_our_clock(link.replica_modified_gmt, skews[link.target_store_id]),
            ):
                link_event(
                    session,
                    link,
                    "conflict",
                    f"both changed; store {replica_name} ({new}) changed after origin {origin_name} "
                    f"({snapshot.status}): the origin's status {snapshot.status!r} is overwritten",
                    run_id,
                )
                going.append(link)
            else:
                link_event(
                    session,
                    link,
                    "conflict",
                    f"both changed; origin {origin_name} ({snapshot.status}) changed after store "
                    f"{replica_name} ({new}): the replica's status {new!r} is overwritten",
                    run_id,
                )
                link.status_to_origin = None
                link.state, link.next_attempt_at = LinkState.pending, None
    return going


async def _record_failure(ctx: SyncContext, link_ids: list[int], message: str, run_id: int | None) -> None:
    async with session_scope(ctx.session_factory) as session:
        for link in await repo.links_by_ids(session, link_ids):
            link.last_error = f"status not written back to the origin yet: {message}"
            link_event(session, link, "flow_back_failed", message, run_id)


async def _record(
    ctx: SyncContext,
    origin_name: str,
    part: list[Link],
    items: list,
    run_id: int | None,
    stats: FlowBackStats,
) -> None:
    now = utcnow()
    async with session_scope(ctx.session_factory) as session:
        rows = {
            ln.id: ln for ln in await repo.links_by_ids(session, [ln.id for ln in part if ln.id is not None])
        }
        snapshots = await repo.source_orders_for_links(session, list(rows.values()))
        for link, item in zip(part, items, strict=True):
            row = rows[link.id]
            if item.order is None:
                message = str(item.error) if item.error else "no order returned"
                row.last_error = f"status not written back to the origin yet: {message}"
                link_event(session, row, "flow_back_failed", message, run_id)
                stats.failed += 1
                continue
            modified = parse_gmt(item.order.get("date_modified_gmt")) or now
            snapshot = snapshots.get((row.origin_store_id, row.origin_order_id))
            if snapshot is None:
                snapshot = SourceOrder(
                    store_id=row.origin_store_id,
                    order_id=row.origin_order_id,
                    modified_gmt=modified,
                    status=str(item.order.get("status")),
                    body=item.order,
                )
                session.add(snapshot)
            else:
                snapshot.body, snapshot.status, snapshot.modified_gmt = (
                    item.order,
                    str(item.order.get("status")),
                    modified,
                )
            keep_summary(snapshot)
            link_event(
                session,
                row,
                "status_written_back",
                f"origin order {row.origin_order_id} on {origin_name} is now {row.status_to_origin!r}",
                run_id,
            )
            # This replica already holds the status; the origin's other replicas must follow.
            for other in await repo.links_for_origins(session, row.origin_store_id, [row.origin_order_id]):
                if other.status_to_origin is not None and other.id != row.id:
                    other.status_to_origin = None  # superseded by the status just written
                if other.id == row.id:
                    other.status_to_origin = None
                    other.pushed_modified_gmt = modified
                    other.source_modified_gmt = modified
                elif other.state == LinkState.synced:
                    other.state, other.next_attempt_at = LinkState.pending, None
                    other.source_modified_gmt = modified
            stats.written += 1
