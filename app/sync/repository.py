"""Every query the sync layer and the API use. Functions flush when they need ids; they never
commit: the caller's unit of work does."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import RunNotFound, StoreNotFound
from app.models import (
    Cursor,
    Direction,
    Event,
    Link,
    LinkCount,
    LinkState,
    OrderCount,
    Product,
    Run,
    RunKind,
    RunStatus,
    SourceOrder,
    Store,
    StoreRole,
    utcnow,
)
from app.sync.context import parse_gmt
from app.sync.orderinfo import keep_summary


def _is_sqlite(session: AsyncSession) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


# --- stores -------------------------------------------------------------------------------


_ACTIVE = col(Store.archived_at).is_(None)


async def get_store(session: AsyncSession, name: str) -> Store:
    store = await find_store(session, name)
    if store is None:
        raise StoreNotFound(name)
    return store


async def find_store(session: AsyncSession, name: str) -> Store | None:
    """A store in use by this name (archived stores are not)."""
    return (await session.exec(select(Store).where(Store.name == name, _ACTIVE))).first()


async def find_store_any(session: AsyncSession, name: str) -> Store | None:
    """The store holding this name, archived or not (names are unique across both)."""
    return (await session.exec(select(Store).where(Store.name == name))).first()


async def archived_stores(session: AsyncSession) -> list[Store]:
    rows = await session.exec(select(Store).where(col(Store.archived_at).is_not(None)))
    return list(rows.all())


async def list_stores(
    session: AsyncSession, *, enabled_only: bool = False, include_archived: bool = False
) -> list[Store]:
    query = select(Store).order_by(col(Store.role), col(Store.name))
    if enabled_only:
        query = query.where(col(Store.enabled).is_(True))
    if not include_archived:
        query = query.where(_ACTIVE)
    return list((await session.exec(query)).all())


async def main_store(session: AsyncSession) -> Store | None:
    return (await session.exec(select(Store).where(Store.role == StoreRole.main, _ACTIVE))).first()


async def store_names(session: AsyncSession) -> dict[int, str]:
    """Every store's name by id, archived ones included, without loading (and decrypting) the
    rest of each row."""
    rows = await session.exec(select(Store.id, Store.name))
    return {sid: name for sid, name in rows.all() if sid is not None}


@dataclass(frozen=True)
class StoreFacts:
    """What a page of orders shows of a store: its name and where its orders' admin screens are."""

    name: str
    base_url: str
    order_storage: str | None


async def store_facts(session: AsyncSession) -> dict[int, StoreFacts]:
    """Every store's name, base URL and order storage by id, archived ones included, without
    loading (and decrypting) the rest of each row."""
    rows = await session.exec(
        select(col(Store.id), col(Store.name), col(Store.base_url), col(Store.order_storage))
    )
    return {sid: StoreFacts(name, url, storage) for sid, name, url, storage in rows.all() if sid is not None}


@dataclass(frozen=True)
class OrderFacts:
    """An origin order as discovery last read it, for lists: no body loaded."""

    status: str
    customer: str | None
    total: str | None
    currency: str | None
    created_gmt: datetime | None


async def order_facts(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], OrderFacts]:
    """The summaries of these (origin store id, order id) orders: a query per origin store."""
    found: dict[tuple[int, int], OrderFacts] = {}
    for store_id in {k[0] for k in keys}:
        wanted = sorted({oid for sid, oid in keys if sid == store_id})
        rows: Any = await session.exec(
            sa.select(  # type: ignore[call-overload]
                col(SourceOrder.order_id),
                col(SourceOrder.status),
                col(SourceOrder.customer),
                col(SourceOrder.total),
                col(SourceOrder.currency),
                col(SourceOrder.created_gmt),
            ).where(col(SourceOrder.store_id) == store_id, col(SourceOrder.order_id).in_(wanted))
        )
        for order_id, status, customer, total, currency, created in rows.all():
            found[(store_id, order_id)] = OrderFacts(status, customer, total, currency, created)
    return found


@dataclass(frozen=True)
class StoreIndex:
    """Every store's name by id (archived ones included), and the ids of the stores in use by
    name: what a page of links needs of the stores, in one light query."""

    names: dict[int, str]
    active: dict[str, int]

    def id_of(self, name: str) -> int:
        """The id of the store in use by this name; StoreNotFound if none is."""
        if name not in self.active:
            raise StoreNotFound(name)
        return self.active[name]


async def store_index(session: AsyncSession) -> StoreIndex:
    rows = await session.exec(select(Store.id, Store.name, Store.archived_at))
    names: dict[int, str] = {}
    active: dict[str, int] = {}
    for sid, name, archived_at in rows.all():
        if sid is None:
            continue
        names[sid] = name
        if archived_at is None:
            active[name] = sid
    return StoreIndex(names=names, active=active)


async def stores_by_id(session: AsyncSession) -> dict[int, Store]:
    """Every store the ledger names, archived ones included (their links remain)."""
    return {s.id: s for s in await list_stores(session, include_archived=True) if s.id is not None}


# --- cursors ------------------------------------------------------------------------------


async def get_store_by_id(session: AsyncSession, store_id: int) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise StoreNotFound(str(store_id))
    return store


async def get_cursor(session: AsyncSession, store: Store, direction: Direction, *, start: datetime) -> Cursor:
    """The store's cursor for a direction (store clock); a new one starts at `start`, the
    moment from which the store's orders are new to wcsync."""
    cursor = (
        await session.exec(select(Cursor).where(Cursor.store_id == store.id, Cursor.direction == direction))
    ).first()
    if cursor is None:
        assert store.id is not None
        cursor = Cursor(store_id=store.id, direction=direction, position=start)
        session.add(cursor)
        await session.flush()
    return cursor


async def advance_cursor(
    session: AsyncSession, store_id: int, direction: Direction, position: datetime
) -> None:
    """Move a cursor forward only; never backward."""
    await session.exec(
        update(Cursor)
        .where(
            col(Cursor.store_id) == store_id,
            col(Cursor.direction) == direction,
            col(Cursor.position) < position,
        )
        .values(position=position, updated_at=utcnow())
    )


# --- source orders ------------------------------------------------------------------------


async def source_orders(
    session: AsyncSession, store_id: int, order_ids: Sequence[int]
) -> dict[int, SourceOrder]:
    if not order_ids:
        return {}
    rows = await session.exec(
        select(SourceOrder).where(
            SourceOrder.store_id == store_id, col(SourceOrder.order_id).in_(list(order_ids))
        )
    )
    return {row.order_id: row for row in rows.all()}


async def save_source_order(session: AsyncSession, store_id: int, body: dict[str, Any]) -> SourceOrder | None:
    """Keep an origin order as just read (a newer read replaces an older one)."""
    order_id, modified = body.get("id"), parse_gmt(body.get("date_modified_gmt"))
    if not isinstance(order_id, int) or modified is None:
        return None
    snapshot = (await source_orders(session, store_id, [order_id])).get(order_id)
    if snapshot is None:
        snapshot = SourceOrder(
            store_id=store_id,
            order_id=order_id,
            modified_gmt=modified,
            status=str(body.get("status")),
            body=body,
        )
        keep_summary(snapshot)
        session.add(snapshot)
    elif snapshot.modified_gmt <= modified:
        snapshot.modified_gmt, snapshot.status, snapshot.body = modified, str(body.get("status")), body
        snapshot.seen_at = utcnow()
        keep_summary(snapshot)
    await session.flush()
    return snapshot


async def source_orders_for_links(
    session: AsyncSession, links: Sequence[Link]
) -> dict[tuple[int, int], SourceOrder]:
    """The origin snapshots of these links, keyed (origin store id, order id): a query per
    origin store, not per link."""
    snapshots: dict[tuple[int, int], SourceOrder] = {}
    for origin_id in {ln.origin_store_id for ln in links}:
        wanted = [ln.origin_order_id for ln in links if ln.origin_store_id == origin_id]
        rows = await source_orders(session, origin_id, wanted)
        snapshots.update({(origin_id, oid): row for oid, row in rows.items()})
    return snapshots


# --- links --------------------------------------------------------------------------------


async def _take_write_lock(session: AsyncSession) -> None:
    """SQLite has no FOR UPDATE, and its driver begins a transaction only at the first write:
    until then each read sees whatever is committed at that moment. A write that changes nothing
    begins the transaction and takes the database's write lock now, so that the reads after it
    and the writes at commit are one unit, serialised with every other writer's."""
    if _is_sqlite(session):
        await session.exec(
            update(Link).where(sa.false()).values(id=Link.id).execution_options(synchronize_session=False)
        )


async def links_for_origins(
    session: AsyncSession, store_id: int, order_ids: Sequence[int], *, for_update: bool = False
) -> list[Link]:
    """The links of these origin orders. `for_update` locks them (in id order, as every locker
    does, so that two cannot deadlock) until the transaction ends, on PostgreSQL."""
    if not order_ids:
        return []
    query = (
        select(Link)
        .where(Link.origin_store_id == store_id, col(Link.origin_order_id).in_(list(order_ids)))
        .order_by(col(Link.id))
    )
    if for_update:
        query = query.with_for_update()
        await _take_write_lock(session)
    rows = await session.exec(query)
    return list(rows.all())


async def links_by_ids(session: AsyncSession, ids: Sequence[int], *, for_update: bool = False) -> list[Link]:
    if not ids:
        return []
    query = select(Link).where(col(Link.id).in_(list(ids))).order_by(col(Link.id))
    if for_update:
        query = query.with_for_update()
        await _take_write_lock(session)
    rows = await session.exec(query)
    return list(rows.all())


def _materialized(rows: Any) -> Any:
    """The rows to claim as a CTE computed once. Written as `id IN (SELECT … LIMIT n FOR UPDATE
    SKIP LOCKED)`, PostgreSQL may run the subquery again for every row it updates (a semi-join),
    each run skipping the rows the last one locked, and so claim far more than `n`."""
    return rows.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")


async def claim_due_links(
    session: AsyncSession,
    *,
    target_store_id: int,
    direction: Direction,
    limit: int,
    owner: str,
    lease_seconds: int,
    now: datetime,
    ignore_schedule: bool = False,
    only_ids: Sequence[int] | None = None,
    run_id: int | None = None,
    creates_only: bool = False,
) -> list[int]:
    """Lease up to `limit` due pending links in one statement, correct on both databases:
    `WITH chosen AS MATERIALIZED (SELECT … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE … FROM chosen`.
    PostgreSQL's SKIP LOCKED keeps concurrent claimers apart, and the outer `state='pending'`
    re-check does it on SQLite, whose writers are serialised anyway."""
    due = (
        select(Link.id)
        .where(
            Link.target_store_id == target_store_id,
            Link.direction == direction,
            Link.state == LinkState.pending,
        )
        .order_by(col(Link.id))
        .limit(limit)
    )
    if not ignore_schedule:
        due = due.where(sa.or_(col(Link.next_attempt_at).is_(None), col(Link.next_attempt_at) <= now))
    if only_ids is not None:
        due = due.where(col(Link.id).in_(list(only_ids)))
    if creates_only:
        due = due.where(col(Link.target_order_id).is_(None))
    if run_id is not None:
        # A run claims a link at most once.
        due = due.where(sa.or_(col(Link.claimed_run).is_(None), col(Link.claimed_run) != run_id))
    if not _is_sqlite(session):
        due = due.with_for_update(skip_locked=True)
    chosen = _materialized(due)
    statement = (
        update(Link)
        .where(col(Link.id) == chosen.c.id, col(Link.state) == LinkState.pending)
        .values(
            claimed_run=run_id,
            state=LinkState.in_flight,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempt_started_at=now,
            attempts=col(Link.attempts) + 1,
            updated_at=now,
        )
        .returning(col(Link.id))
    )
    result = await session.exec(statement)
    return sorted(result.scalars().all())


async def claim_expired_in_flight(
    session: AsyncSession,
    *,
    target_store_id: int,
    owner: str,
    lease_seconds: int,
    now: datetime,
    settled_before: datetime,
    only_ids: Sequence[int] | None = None,
) -> list[int]:
    """Take over in-flight links whose lease ran out (a crash, a timeout, an error reply):
    they must be reconciled against the target before anything is sent again. A link whose
    create got no answer is taken only once that request can no longer be running on the
    store (`settled_before`: its start plus the request timeout), or a create still executing
    there after we gave up on it would be missed and sent twice."""
    stale = select(Link.id).where(
        Link.target_store_id == target_store_id,
        Link.state == LinkState.in_flight,
        col(Link.lease_until) < now,
        sa.or_(
            col(Link.attempt_outcome) == "rejected",
            col(Link.attempt_started_at).is_(None),
            col(Link.attempt_started_at) <= settled_before,
        ),
    )
    if only_ids is not None:
        stale = stale.where(col(Link.id).in_(list(only_ids)))
    if not _is_sqlite(session):
        stale = stale.with_for_update(skip_locked=True)
    chosen = _materialized(stale)
    statement = (
        update(Link)
        .where(
            col(Link.id) == chosen.c.id,
            col(Link.state) == LinkState.in_flight,
            col(Link.lease_until) < now,
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        .returning(col(Link.id))
    )
    result = await session.exec(statement)
    return sorted(result.scalars().all())


async def release_dead_leases(session: AsyncSession, *, now: datetime, live_tags: set[str]) -> int:
    """Let go at once of the leases held by processes that are gone (their requests died with
    them); the links are then reconciled like any whose outcome is unknown."""
    result = await session.exec(
        update(Link)
        .where(
            col(Link.state) == LinkState.in_flight,
            col(Link.lease_until) > now,
            col(Link.lease_owner).is_not(None),
            col(Link.lease_owner).not_in(sorted(live_tags)),
        )
        .values(lease_until=now)
    )
    return int(result.rowcount or 0)


async def release_leases(session: AsyncSession, *, now: datetime) -> int:
    """Expire every lease at once; only safe when this is the only process (SQLite)."""
    result = await session.exec(
        update(Link)
        .where(col(Link.state) == LinkState.in_flight, col(Link.lease_until) > now)
        .values(lease_until=now)
    )
    return int(result.rowcount or 0)


async def requeue_failed(
    session: AsyncSession,
    *,
    direction: Direction | None = None,
    target_store_id: int | None = None,
    origin_store_id: int | None = None,
    now: datetime,
) -> int:
    """Sync Now and Sync Order give parked links a fresh set of attempts."""
    statement = update(Link).where(col(Link.state) == LinkState.failed)
    if direction is not None:
        statement = statement.where(col(Link.direction) == direction)
    if target_store_id is not None:
        statement = statement.where(col(Link.target_store_id) == target_store_id)
    if origin_store_id is not None:
        statement = statement.where(col(Link.origin_store_id) == origin_store_id)
    result = await session.exec(
        statement.values(state=LinkState.pending, attempts=0, next_attempt_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)


async def count_due(
    session: AsyncSession,
    *,
    target_store_id: int,
    direction: Direction,
    now: datetime,
    ignore_schedule: bool,
    only_ids: Sequence[int] | None = None,
    claimable: bool = False,
    creates_only: bool = False,
) -> int:
    """Due links of a target: pending or in flight, or with `claimable`, pending only (what
    claims will take)."""
    states = [LinkState.pending] if claimable else [LinkState.pending, LinkState.in_flight]
    query = select(func.count()).where(
        Link.target_store_id == target_store_id,
        Link.direction == direction,
        col(Link.state).in_(states),
    )
    if not ignore_schedule:
        query = query.where(sa.or_(col(Link.next_attempt_at).is_(None), col(Link.next_attempt_at) <= now))
    if only_ids is not None:
        query = query.where(col(Link.id).in_(list(only_ids)))
    if creates_only:
        query = query.where(col(Link.target_order_id).is_(None))
    return int((await session.exec(query)).one())


async def note_store_success(session: AsyncSession, store_id: int, now: datetime) -> None:
    """The store answered a write: one UPDATE, without loading (and decrypting) its row."""
    await session.exec(update(Store).where(col(Store.id) == store_id).values(last_success_at=now))


async def take_due_notes(
    session: AsyncSession, *, target_store_id: int, limit: int, only_ids: Sequence[int] | None = None
) -> list[Link]:
    """Take up to `limit` origin notes off a target's queue (they are sent after the commit)."""
    due = (
        select(Link.id)
        .where(Link.target_store_id == target_store_id, col(Link.origin_note_due).is_(True))
        .order_by(col(Link.id))
        .limit(limit)
    )
    if only_ids is not None:
        due = due.where(col(Link.id).in_(list(only_ids)))
    if not _is_sqlite(session):
        due = due.with_for_update(skip_locked=True)
    chosen = _materialized(due)
    ids = await session.exec(
        update(Link)
        .where(col(Link.id) == chosen.c.id, col(Link.origin_note_due).is_(True))
        .values(origin_note_due=False)
        .returning(col(Link.id))
    )
    taken = list(ids.scalars().all())
    return [ln for ln in await links_by_ids(session, taken) if ln.target_order_id is not None]


async def requeue_notes(session: AsyncSession, link_ids: Sequence[int]) -> None:
    await session.exec(update(Link).where(col(Link.id).in_(list(link_ids))).values(origin_note_due=True))


async def notes_due(session: AsyncSession, target_store_id: int) -> int:
    query = select(func.count()).where(
        Link.target_store_id == target_store_id, col(Link.origin_note_due).is_(True)
    )
    return int((await session.exec(query)).one())


WAITING_STATES = (LinkState.pending.value, LinkState.in_flight.value)
LINK_STATES = tuple(s.value for s in LinkState)


async def pending_counts(session: AsyncSession) -> dict[str, Any]:
    """What waits, from the counts the database keeps (migration 0007): a few rows read, never
    the ledger scanned, and no store called. Orders are counted once however many copies they
    wait for; copies are the detail."""
    # The columns needed only: a whole Store row decrypts its keys.
    columns = [
        col(Store.id),
        col(Store.name),
        col(Store.role),
        col(Store.enabled),
        col(Store.archived_at),
        col(Store.last_error_at),
        col(Store.last_success_at),
    ]
    facts: Any = await session.exec(sa.select(*columns))  # type: ignore[call-overload]
    stores = {row.id: row for row in facts.all() if row.id is not None}
    archived = {sid for sid, s in stores.items() if s.archived_at is not None}
    main = Direction.main_to_sub.value
    up = Direction.sub_to_main.value
    result: dict[str, Any] = {
        "orders": 0,
        "copies": 0,
        "orders_by_direction": {main: 0, up: 0},
        "copies_by_direction": {main: 0, up: 0},
        main: {},
        up: {},
        "failed": 0,
        "failed_copies": 0,
        # A store whose last error is newer than its last success: its orders may be waiting
        # unseen, so a badge of 0 must not read as "all done".
        "stores_failing": sorted(
            s.name
            for s in stores.values()
            if s.archived_at is None
            and s.enabled
            and s.last_error_at is not None
            and (s.last_success_at is None or s.last_error_at > s.last_success_at)
        ),
    }
    # Both count tables in one round trip: copies (link_count) and orders (order_count).
    kinds = [*WAITING_STATES, LinkState.failed.value, "back"]
    copies = sa.select(
        sa.literal("link").label("source"),
        col(LinkCount.origin_store_id),
        col(LinkCount.target_store_id),
        col(LinkCount.kind),
        col(LinkCount.direction),
        col(LinkCount.n),
    ).where(col(LinkCount.kind).in_(kinds))
    orders_by_kind = sa.select(
        sa.literal("order"),
        col(OrderCount.origin_store_id),
        sa.null(),
        col(OrderCount.kind),
        sa.null(),
        col(OrderCount.n),
    ).where(col(OrderCount.n) > 0)
    counted: Any = await session.exec(sa.union_all(copies, orders_by_kind))  # type: ignore[call-overload]
    buckets: list[Any] = []
    orders: list[Any] = []
    for row in counted.all():
        (buckets if row.source == "link" else orders).append(row)
    for bucket in buckets:
        if bucket.n <= 0 or bucket.origin_store_id in archived or bucket.target_store_id in archived:
            continue  # a removed store's ledger is kept, not counted
        if bucket.kind == LinkState.failed:
            result["failed_copies"] += bucket.n
            continue
        direction = bucket.direction
        # Counted under the sub-store: the target going down, the origin coming up. A status
        # set on a replica goes back the other way.
        sub_id = bucket.target_store_id if direction == main else bucket.origin_store_id
        if bucket.kind == "back":
            direction = up if direction == main else main
        sub = stores.get(sub_id)
        name = sub.name if sub else str(sub_id)
        result[direction][name] = result[direction].get(name, 0) + bucket.n
        result["copies_by_direction"][direction] += bucket.n
        result["copies"] += bucket.n
    for row in orders:
        store = stores.get(row.origin_store_id)
        if store is None or store.archived_at is not None:
            continue
        # An order's copies go away from its store; a status going back comes to it.
        away = main if store.role == StoreRole.main else up
        if row.kind == "any":
            result["orders"] += row.n
        elif row.kind == "failed":
            result["failed"] += row.n
        elif row.kind == "waiting":
            result["orders_by_direction"][away] += row.n
        elif row.kind == "back":
            result["orders_by_direction"][up if away == main else main] += row.n
    result["total"] = result["orders"]
    return result


# What a page of /api/links shows of each link (app.api.schemas.LinkRead).
LINK_PAGE_COLUMNS = tuple(
    col(getattr(Link, name))
    for name in (
        "id",
        "direction",
        "origin_store_id",
        "origin_order_id",
        "target_store_id",
        "target_order_id",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "last_error_code",
        "synced_at",
        "updated_at",
    )
)


def _link_totals_query(*, state: LinkState | None, direction: Direction | None, store_id: int | None) -> Any:
    query = select(func.coalesce(func.sum(LinkCount.n), 0)).where(
        col(LinkCount.kind).in_([state.value] if state is not None else list(LINK_STATES))
    )
    if direction is not None:
        query = query.where(LinkCount.direction == direction.value)
    if store_id is not None:
        query = query.where(
            sa.or_(col(LinkCount.origin_store_id) == store_id, col(LinkCount.target_store_id) == store_id)
        )
    return query


async def link_totals(
    session: AsyncSession, *, state: LinkState | None, direction: Direction | None, store_id: int | None
) -> int:
    """How many links match these filters, from the counts the database keeps."""
    query = _link_totals_query(state=state, direction=direction, store_id=store_id)
    return int((await session.exec(query)).one())


async def list_links(
    session: AsyncSession,
    *,
    state: LinkState | None,
    direction: Direction | None,
    store_id: int | None,
    limit: int,
    offset: int = 0,
    before: int | None = None,
) -> tuple[list[Any], int]:
    """A page of links, newest first, and how many match in all. Keyset: `before` (a link id)
    starts the page after the last one read, at the cost of an index lookup however deep. With
    a store, the page is merged from one index range per side and state (each at most `limit`
    rows), as `origin = S OR target = S` would sort every link of the store."""
    statement = _link_page_statement(
        state=state,
        by_direction=direction is not None,
        by_store=store_id is not None,
        by_before=before is not None,
    )
    params: dict[str, Any] = {"window": limit + offset, "limit": limit, "offset": offset}
    if direction is not None:
        params["direction"] = direction.value
    if store_id is not None:
        params["store_id"] = store_id
    if before is not None:
        params["before"] = before
    rows: Any = await session.exec(statement, params=params)
    page = list(rows.all())
    if page:
        return page, int(page[0].total)
    return page, await link_totals(session, state=state, direction=direction, store_id=store_id)


@functools.cache
def _link_page_statement(
    *, state: LinkState | None, by_direction: bool, by_store: bool, by_before: bool
) -> Any:
    """The page query for one combination of filters, built once: its values are bound
    parameters (`window`, `limit`, `offset`, `direction`, `store_id`, `before`). Building the
    store's eight-part union anew cost more CPU than the database spent answering it."""

    def part(*conditions: Any) -> Any:
        query = select(Link.id).where(*conditions)
        if by_before:
            query = query.where(col(Link.id) < sa.bindparam("before"))
        if by_direction:
            query = query.where(col(Link.direction) == sa.bindparam("direction"))
        return query.order_by(col(Link.id).desc()).limit(sa.bindparam("window"))

    states = [state] if state is not None else list(LinkState)
    if by_store:
        parts = [
            part(side == sa.bindparam("store_id"), Link.state == each)
            for side in (col(Link.origin_store_id), col(Link.target_store_id))
            for each in states
        ]
    elif state is not None:
        parts = [part(Link.state == state)]
    else:
        parts = [part()]
    if len(parts) == 1:
        chosen = parts[0].limit(sa.bindparam("limit")).offset(sa.bindparam("offset")).subquery()
    else:
        merged = sa.union_all(*(select(p.subquery().c.id) for p in parts)).subquery()
        chosen = (
            select(merged.c.id)
            .order_by(merged.c.id.desc())
            .limit(sa.bindparam("limit"))
            .offset(sa.bindparam("offset"))
            .subquery()
        )
    # One round trip: the page's ids chosen in a subquery, the rows read by primary key; plain
    # rows of the columns a page shows, as building ORM objects costs more than the query.
    # The total rides along as a column of every row (a round trip less); an empty page asks
    # for it on its own.
    totals = select(func.coalesce(func.sum(LinkCount.n), 0)).where(
        col(LinkCount.kind).in_([state.value] if state is not None else list(LINK_STATES))
    )
    if by_direction:
        totals = totals.where(col(LinkCount.direction) == sa.bindparam("direction"))
    if by_store:
        totals = totals.where(
            sa.or_(
                col(LinkCount.origin_store_id) == sa.bindparam("store_id"),
                col(LinkCount.target_store_id) == sa.bindparam("store_id"),
            )
        )
    return (
        sa.select(*LINK_PAGE_COLUMNS, totals.scalar_subquery().label("total"))
        .join(chosen, col(Link.id) == chosen.c.id)
        .order_by(col(Link.id).desc())
    )


async def failed_orders_of_store(
    session: AsyncSession, store_id: int, *, limit: int
) -> tuple[list[tuple[int, list[Link]]], int]:
    """The orders this store holds with a copy parked as failed, newest failure first, and how
    many there are: its own orders that failed to copy elsewhere (by their id here), and the
    copies on it that failed to be brought up to date. A failure of another store's order that
    never reached this store is not this store's business. Few rows: both sides are read from
    the (store, state, id) indexes."""
    origin_side: Any = select(
        col(Link.origin_order_id).label("order_id"), col(Link.id).label("link_id")
    ).where(Link.origin_store_id == store_id, Link.state == LinkState.failed)
    target_side: Any = select(
        col(Link.target_order_id).label("order_id"), col(Link.id).label("link_id")
    ).where(
        Link.target_store_id == store_id,
        Link.state == LinkState.failed,
        col(Link.target_order_id).is_not(None),
    )
    both = sa.union_all(origin_side, target_side).subquery()
    total = int((await session.exec(select(func.count(sa.distinct(both.c.order_id))))).one())
    page = (
        await session.exec(
            select(both.c.order_id)
            .group_by(both.c.order_id)
            .order_by(func.max(both.c.link_id).desc())
            .limit(limit)
        )
    ).all()
    order_ids = [int(order_id) for order_id in page]
    if not order_ids:
        return [], total
    rows = await session.exec(
        select(Link)
        .where(
            Link.state == LinkState.failed,
            sa.or_(
                sa.and_(col(Link.origin_store_id) == store_id, col(Link.origin_order_id).in_(order_ids)),
                sa.and_(col(Link.target_store_id) == store_id, col(Link.target_order_id).in_(order_ids)),
            ),
        )
        .order_by(col(Link.id).desc())
    )
    grouped: dict[int, list[Link]] = {order_id: [] for order_id in order_ids}
    for link in rows.all():
        local = link.origin_order_id if link.origin_store_id == store_id else link.target_order_id
        if local in grouped:
            grouped[local].append(link)
    return list(grouped.items()), total


async def events_for_links(session: AsyncSession, link_ids: Sequence[int]) -> list[Event]:
    if not link_ids:
        return []
    rows = await session.exec(
        select(Event).where(col(Event.link_id).in_(list(link_ids))).order_by(col(Event.id))
    )
    return list(rows.all())


# --- products -----------------------------------------------------------------------------


async def products_for_store(session: AsyncSession, store_id: int) -> list[Product]:
    rows = await session.exec(select(Product).where(Product.store_id == store_id))
    return list(rows.all())


async def replace_products(
    session: AsyncSession, store_id: int, products: Sequence[tuple[str, int, int, str]]
) -> None:
    await session.exec(sa.delete(Product).where(col(Product.store_id) == store_id))  # type: ignore[call-overload]
    now = utcnow()
    seen: set[str] = set()
    for sku, product_id, variation_id, name in products:
        if sku in seen:
            continue
        seen.add(sku)
        session.add(
            Product(
                store_id=store_id,
                sku=sku,
                product_id=product_id,
                variation_id=variation_id,
                name=name[:300],
                fetched_at=now,
            )
        )
    await session.flush()


async def upsert_product(
    session: AsyncSession, store_id: int, sku: str, product_id: int, variation_id: int, name: str
) -> None:
    existing = (
        await session.exec(select(Product).where(Product.store_id == store_id, Product.sku == sku))
    ).first()
    if existing is None:
        session.add(
            Product(
                store_id=store_id,
                sku=sku,
                product_id=product_id,
                variation_id=variation_id,
                name=name[:300],
            )
        )
    else:
        existing.product_id = product_id
        existing.variation_id = variation_id
        existing.fetched_at = utcnow()
    await session.flush()


# --- runs ---------------------------------------------------------------------------------


async def get_run(session: AsyncSession, run_id: int) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


async def active_run(
    session: AsyncSession, *, direction: str, store_name: str | None, mode: str, kind: str
) -> Run | None:
    """The queued or running pass a new request of `kind` may share. A discovery-only run never
    stands in for a pass that must also write (a Sync Now that joined one would answer
    "succeeded, created 0" and leave the orders waiting); a discovery may share any pass."""
    query = select(Run).where(
        col(Run.status).in_([RunStatus.queued, RunStatus.running]),
        Run.direction == direction,
        Run.store_name == store_name,
        Run.mode == mode,
        col(Run.order_id).is_(None),
    )
    if kind != RunKind.discovery:
        query = query.where(Run.kind != RunKind.discovery)
    return (await session.exec(query.order_by(col(Run.id)))).first()


async def list_runs(session: AsyncSession, *, limit: int, offset: int) -> list[Run]:
    rows = await session.exec(select(Run).order_by(col(Run.id).desc()).limit(limit).offset(offset))
    return list(rows.all())


async def add_run_counts(session: AsyncSession, run_id: int, **increments: int) -> None:
    """Atomic increments, so that concurrent workers of one run never lose each other's counts."""
    values = {name: getattr(Run, name) + amount for name, amount in increments.items() if amount}
    if values:
        await session.exec(update(Run).where(col(Run.id) == run_id).values(**values))


RUN_ORPHANED = (
    "interrupted: the wcsync process running this pass stopped before it finished. Nothing is"
    " lost: the next pass carries on from the ledger."
)


async def settle_orphaned_runs(
    session: AsyncSession, *, now: datetime, live_owners: set[int], live_run_ids: Sequence[int]
) -> list[int]:
    """Runs left queued or running by a process that died will never finish: say so. A run is
    alive while it is one of this process's running tasks (`live_run_ids`) or while the process
    that owns it is (`live_owners`: the other processes' keys). Returns the ids settled."""
    unfinished = [RunStatus.queued, RunStatus.running]
    rows = await session.exec(select(Run.id, Run.owner).where(col(Run.status).in_(unfinished)))
    orphans = [
        run_id
        for run_id, owner in rows.all()
        if run_id not in live_run_ids and (owner is None or owner not in live_owners)
    ]
    if not orphans:
        return []
    # Locked, and skipped if another process is settling them: each orphan is settled (and its
    # Full sync continued) by one process only.
    locked = await session.exec(
        select(Run)
        .where(col(Run.id).in_(orphans), col(Run.status).in_(unfinished))
        .with_for_update(skip_locked=True)
    )
    settled: list[int] = []
    for run in locked.all():
        assert run.id is not None
        run.status, run.finished_at = RunStatus.failed, now
        run.errors = [*run.errors, {"message": RUN_ORPHANED}]
        settled.append(run.id)
    return settled


async def links_for_target(session: AsyncSession, store_id: int, order_id: int) -> list[Link]:
    rows = await session.exec(
        select(Link).where(Link.target_store_id == store_id, Link.target_order_id == order_id)
    )
    return list(rows.all())


async def links_for_target_orders(
    session: AsyncSession, store_id: int, order_ids: Sequence[int]
) -> list[Link]:
    """Links whose replica is one of these orders on this store."""
    if not order_ids:
        return []
    rows = await session.exec(
        select(Link).where(Link.target_store_id == store_id, col(Link.target_order_id).in_(list(order_ids)))
    )
    return list(rows.all())


async def unfinished_full_run(
    session: AsyncSession, *, direction: str, store_name: str | None, since: datetime | None
) -> Run | None:
    """The latest Full sync of this scope whose walk did not finish (a crash, a restart, an
    error), or None if the latest one finished: that one is where a new Full sync continues."""
    rows = await session.exec(
        select(Run)
        .where(
            Run.mode == "full",
            Run.direction == direction,
            Run.store_name == store_name,
            col(Run.since).is_(None) if since is None else Run.since == since,
            col(Run.status).not_in([RunStatus.queued, RunStatus.running]),
        )
        .order_by(col(Run.id).desc())
        .limit(1)
    )
    run = rows.first()
    if run is None or run.status != RunStatus.failed or (run.details or {}).get("complete"):
        return None
    return run


async def runs_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Run]:
    if not ids:
        return []
    rows = await session.exec(select(Run).where(col(Run.id).in_(list(ids))).order_by(col(Run.id)))
    return list(rows.all())


async def synced_link_ids(
    session: AsyncSession, *, after: int, limit: int, store_name: str | None
) -> list[int]:
    query = select(Link.id).where(Link.state == LinkState.synced, col(Link.id) > after)
    if store_name is not None:
        store = await get_store(session, store_name)
        query = query.where(
            sa.or_(col(Link.origin_store_id) == store.id, col(Link.target_store_id) == store.id)
        )
    rows = await session.exec(query.order_by(col(Link.id)).limit(limit))
    return [i for i in rows.all() if i is not None]


# --- the content check (app.sync.runs.content_check) -------------------------------------------

CLOSED_STATUSES = ("completed", "cancelled", "refunded", "trash")


async def open_origins(session: AsyncSession, store_id: int, *, after: int, limit: int) -> list[int]:
    """The next `limit` origin orders of a store, by id after `after`, that are open (not
    completed, cancelled, refunded or trashed, as last read) and have a copy somewhere."""
    copied = (
        select(Link.id)
        .where(
            Link.origin_store_id == store_id,
            col(Link.origin_order_id) == col(SourceOrder.order_id),
            col(Link.target_order_id).is_not(None),
        )
        .exists()
    )
    rows = await session.exec(
        select(SourceOrder.order_id)
        .where(
            SourceOrder.store_id == store_id,
            col(SourceOrder.order_id) > after,
            col(SourceOrder.status).not_in(CLOSED_STATUSES),
            copied,
        )
        .order_by(col(SourceOrder.order_id))
        .limit(limit)
    )
    return list(rows.all())
