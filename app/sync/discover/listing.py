"""Discovery: read a source store's orders changed since its cursor, by keyset, never by page
number over a list that moves.

A pass walks `orderby=modified&order=asc` with `modified_after` = the last modified time read less
one second (the filter is exclusive, at one-second precision) and `exclude` = the ids already read
at that second. The walk reads up to the pass's start on the store's clock plus the skew's bound;
the cursor never moves past that start less the same bound (the overlap covers what lies between).
An order edited during the walk moves to the end, where this walk or the next meets it; it can
never shift another order past the walk. The walk reads ids, statuses, dates and meta only
(`_fields`); bodies are fetched (`include=`) only for origin orders that changed since wcsync last
read them. Each pass starts a little before the cursor (the overlap), so that a write committed
late, or edited again within the second it was read, is still met. The cursor moves only after a
page's links are committed, and never past the pass's start.

A second that holds more orders than `EXCLUDE_LIMIT` (a bulk action, an import) is not walked with a
growing `exclude=` list: past ~900 ids its request line passes the 8 KB nginx and Apache accept
(414), and the cursor would never pass that second. That second is read alone instead
(`_crowded_second`), in id order, by offset with an overlap that proves nothing was skipped; then
the walk resumes after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.db import session_scope
from app.models import Direction, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log, parse_gmt
from app.sync.discover.ingest import DiscoveryResult, ingest_orders, routing_targets, targets_for
from app.sync.discover.routing import Target
from app.sync.health import note_store_health
from app.sync.plan.mapping import parse_origin
from app.sync.storetime import new_orders_floor, store_clock
from app.woocommerce.client import ALL_ORDER_STATUSES, MAX_PER_PAGE, WooCommerceClient
from app.woocommerce.clock import Skew
from app.woocommerce.errors import MalformedResponse

__all__ = ["DiscoveryResult", "direction_of", "discover_one", "discover_source"]

# What the walk reads of each order: enough to tell a replica from an origin, a status set on a
# replica, an order too old to replicate, and whether wcsync already holds this version.
LIGHT_FIELDS = ("id", "status", "date_created_gmt", "date_modified_gmt", "meta_data")
SECOND = timedelta(seconds=1)
# The most ids a keyset request excludes (at most ~13 bytes each in the URL: 2.6 KB, well inside
# the 8 KB request line of nginx's and Apache's defaults). A second holding more is read alone.
EXCLUDE_LIMIT = 200
# How many orders each page of a crowded second reads again from the page before it.
OVERLAP = 20


def _settled(snapshot: SourceOrder, modified: datetime, skew: Skew) -> bool:
    """Whether the version wcsync holds was read after its second was over on the store's clock:
    only then can no later edit within that same second be missing from it."""
    read_at = skew.to_store(snapshot.seen_at) - skew.margin
    return snapshot.modified_gmt == modified and read_at >= modified + SECOND


async def _bodies(client: WooCommerceClient, ids: Sequence[int]) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for start in range(0, len(ids), MAX_PER_PAGE):
        page = await client.list_orders(
            include=list(ids[start : start + MAX_PER_PAGE]), status=ALL_ORDER_STATUSES, orderby="id"
        )
        bodies += page.items
    return bodies


async def _changed_origins(
    ctx: SyncContext, source: Store, orders: Sequence[dict[str, Any]], skew: Skew, floor: datetime
) -> tuple[list[int], list[dict[str, Any]], int]:
    """From a light page: the origin orders whose body must be read, the replicas (handled from
    the light read alone), and how many orders were skipped as older than the floor."""
    assert source.id is not None
    statuses = ctx.replicate_statuses
    ids = [o["id"] for o in orders if isinstance(o.get("id"), int)]
    async with session_scope(ctx.session_factory) as session:
        known = await repo.source_orders(session, source.id, ids)
        linked = {ln.origin_order_id for ln in await repo.links_for_origins(session, source.id, ids)}
    wanted: list[int] = []
    replicas: list[dict[str, Any]] = []
    skipped = 0
    for order in orders:
        order_id, modified = order.get("id"), parse_gmt(order.get("date_modified_gmt"))
        if not isinstance(order_id, int) or modified is None:
            continue
        origin = parse_origin(order)
        if origin is not None and origin[0] != source.name:
            replicas.append(order)
            continue
        snapshot = known.get(order_id)
        if snapshot is None:
            created = parse_gmt(order.get("date_created_gmt"))
            if order_id not in linked and (
                order.get("status") not in statuses or (created and created < floor)
            ):
                skipped += 1  # never replicated: placed before the store was added, or a draft
                continue
            wanted.append(order_id)
        elif snapshot.modified_gmt < modified or not _settled(snapshot, modified, skew):
            wanted.append(order_id)
    return wanted, replicas, skipped


async def discover_source(
    ctx: SyncContext,
    source: Store,
    direction: Direction,
    *,
    run_id: int | None,
) -> DiscoveryResult:
    """One discovery pass over a source store (see the module's description)."""
    assert source.id is not None
    source_id = source.id
    client = ctx.clients.get(source)
    total = DiscoveryResult()
    async with session_scope(ctx.session_factory) as session:
        targets = await targets_for(session, source, direction)
    if not targets:
        return total
    skew = await store_clock(ctx, source)
    async with session_scope(ctx.session_factory) as session:
        fresh = await repo.get_store_by_id(session, source_id)
        if fresh.orders_since is None:
            fresh.orders_since = new_orders_floor(fresh, skew)
        source = fresh
        floor = fresh.orders_since.replace(microsecond=0)
        cursor = await repo.get_cursor(session, source, direction, start=floor)
        start_position = cursor.position
    routes = await routing_targets(ctx, targets)
    # The walk reads up to the pass's start on the store's clock, plus what the skew may be off
    # by; the cursor is never moved past that start less the same (the overlap covers between).
    now = skew.to_store(utcnow())
    read_until = (now + skew.margin).replace(microsecond=0) + SECOND
    ceiling = (now - skew.margin).replace(microsecond=0)
    key = max(start_position - timedelta(seconds=ctx.settings.discovery_overlap_seconds), floor - SECOND)
    key = key.replace(microsecond=0)
    key_ids: set[int] = set()
    requests = 0
    while key < read_until:
        if len(key_ids) > EXCLUDE_LIMIT:
            # A crowded second (a bulk action, an import): read it alone, then go on after it.
            async for items, sent in _crowded_second(client, source.name, key):
                requests += sent
                unread = [o for o in items if o["id"] not in key_ids]  # read earlier in this pass
                if unread:
                    total.add(
                        await _ingest_page(
                            ctx, source, direction, client, unread, skew, floor, targets, routes, run_id
                        )
                    )
            key, key_ids = key + SECOND, set()
            async with session_scope(ctx.session_factory) as session:
                await repo.advance_cursor(session, source_id, direction, min(key, ceiling))
            continue
        page = await client.list_orders(
            modified_after=key - SECOND,
            modified_before=read_until,
            exclude=sorted(key_ids),
            status=ALL_ORDER_STATUSES,
            orderby="modified",
            order="asc",
            per_page=MAX_PER_PAGE,
            fields=LIGHT_FIELDS,
        )
        requests += 1
        items = [o for o in page.items if isinstance(o.get("id"), int)]
        if not items:
            break
        dated = [(parse_gmt(o.get("date_modified_gmt")), o["id"]) for o in items]
        newest = max((d for d, _ in dated if d is not None), default=None)
        if newest is None or newest < key or any(i in key_ids for _, i in dated):
            raise MalformedResponse(
                f"store {source.name} answered a keyset page out of order (modified_after, exclude "
                "and orderby=modified must be honoured); discovery stopped here to lose nothing",
                store=source.name,
                method="GET",
                path="/orders",
            )
        result = await _ingest_page(
            ctx, source, direction, client, items, skew, floor, targets, routes, run_id
        )
        at_newest = {i for d, i in dated if d == newest}
        key_ids = key_ids | at_newest if newest == key else at_newest
        key = newest
        async with session_scope(ctx.session_factory) as session:
            await repo.advance_cursor(session, source_id, direction, min(key, ceiling))
        total.add(result)
        if len(page.items) < MAX_PER_PAGE:
            break
    # The whole listing up to the ceiling was read: an idle store is not re-read from its first
    # day every pass.
    async with session_scope(ctx.session_factory) as session:
        await repo.advance_cursor(session, source_id, direction, ceiling)
    await note_store_health(ctx, source, None)
    log.info(
        "sync.discovery.done %s",
        kv(
            store=source.name,
            direction=direction.value,
            seen=total.seen,
            queued=total.queued,
            skipped=total.skipped,
            requests=requests,
            skew=round(skew.seconds, 1),
        ),
    )
    return total


async def _crowded_second(
    client: WooCommerceClient, store: str, second: datetime
) -> AsyncIterator[tuple[list[dict[str, Any]], int]]:
    """Every order modified within `second`, read alone (`modified_after`/`modified_before` one
    second either side, both exclusive) in id order, page by page by `offset`: the pages'
    orders not read before in this walk, each with how many requests it took.

    The list can change while it is read. An order edited now moves out of the second, to where
    the walk meets it after this second (or the next pass does); an order can join the second
    only while the second is not over on the store's clock, and the cursor then stays below it
    (the ceiling), so the next pass reads it. What must never happen is the case of page numbers
    over a shrinking list: an order leaving before the page's start moves every later order up one
    place, and the order that would have begun the next page slips back into the one already read.
    So each page starts `OVERLAP` orders before where the last one ended, and must begin at or
    below the highest id read so far:
    a page is one contiguous run of the id-sorted list, so then it holds every order between that
    id and its own last one, and nothing between was skipped. If `OVERLAP` or more orders left
    between two requests, the page starts past that id: it is read again from further back (from
    0 at worst, which is always sound). Orders only leave a second that is over, so the walk ends.
    Offset paging and both bounds were checked on real WooCommerce 7.8 (posts, HPOS) and 10.6."""
    read: set[int] = set()
    highest = -1
    offset, back, sent = 0, MAX_PER_PAGE, 0
    previous: list[int] | None = None
    while True:
        page = await client.list_orders(
            modified_after=second - SECOND,
            modified_before=second + SECOND,
            status=ALL_ORDER_STATUSES,
            orderby="id",
            order="asc",
            per_page=MAX_PER_PAGE,
            offset=offset,
            fields=LIGHT_FIELDS,
        )
        sent += 1
        items = [o for o in page.items if isinstance(o.get("id"), int)]
        ids = [o["id"] for o in items]
        if (
            ids != sorted(set(ids))
            # Later is fine: an order edited between the store's query and its rendering.
            or any((parse_gmt(o.get("date_modified_gmt")) or second - SECOND) < second for o in items)
            or (offset > 0 and ids == previous and len(ids) == MAX_PER_PAGE)
        ):
            raise MalformedResponse(
                f"store {store} answered a page of one second's orders out of order (modified_after, "
                "modified_before, orderby=id and offset must be honoured); discovery stopped here "
                "to lose nothing",
                store=store,
                method="GET",
                path="/orders",
            )
        previous = ids
        if offset > 0 and (not ids or ids[0] > highest):
            # More than OVERLAP orders left the second since the last page: an order may lie
            # between the highest id read and this page's first. Read again from further back.
            offset, back = max(0, offset - back), back * 2
            continue
        fresh = [o for o in items if o["id"] not in read]
        read.update(ids)
        if ids:
            highest = max(highest, ids[-1])
        yield fresh, sent
        sent = 0
        if len(page.items) < MAX_PER_PAGE:
            return
        offset += len(page.items) - OVERLAP
        back = MAX_PER_PAGE


async def _ingest_page(
    ctx: SyncContext,
    source: Store,
    direction: Direction,
    client: WooCommerceClient,
    items: list[dict[str, Any]],
    skew: Skew,
    floor: datetime,
    targets: Sequence[Store],
    routes: Sequence[Target],
    run_id: int | None,
) -> DiscoveryResult:
    wanted, replicas, skipped = await _changed_origins(ctx, source, items, skew, floor)
    bodies = await _bodies(client, wanted) if wanted else []
    result = await _ingest(
        ctx, source, direction, replicas + bodies, targets, routes, run_id=run_id, force=False
    )
    result.skipped += skipped
    result.seen += len(items) - len(replicas) - len(bodies)
    return result


async def discover_one(
    ctx: SyncContext, source: Store, order: dict[str, Any], *, run_id: int | None
) -> DiscoveryResult:
    """Sync Order: ingest one order read just now, whatever the cursor says."""
    direction = direction_of(source)
    async with session_scope(ctx.session_factory) as session:
        targets = await targets_for(session, source, direction)
    routes = await routing_targets(ctx, targets)
    return await _ingest(ctx, source, direction, [order], targets, routes, run_id=run_id, force=True)


async def _ingest(
    ctx: SyncContext,
    source: Store,
    direction: Direction,
    orders: list[dict[str, Any]],
    targets: Sequence[Store],
    routes: Sequence[Target],
    *,
    run_id: int | None,
    force: bool,
) -> DiscoveryResult:
    """Ingest in a unit of work of its own. Another pass (or a Sync Order, or a webhook) may
    insert the same link between our read and our write: the database refuses the second, and
    the page is read again from the ledger once."""
    for attempt in (1, 2):
        try:
            async with session_scope(ctx.session_factory) as session:
                result = await ingest_orders(
                    session,
                    ctx,
                    source=source,
                    direction=direction,
                    orders=orders,
                    targets=targets,
                    routes=routes,
                    run_id=run_id,
                    force=force,
                )
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        if result.queued:
            ctx.note_links_queued()  # committed: the workers copying new orders may claim them
        return result
    raise AssertionError("unreachable")


def direction_of(source: Store) -> Direction:
    return Direction.out_of(StoreRole(source.role))
