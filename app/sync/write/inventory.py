"""Inventory: before the first copy to a store new to the ledger (a store just added, or one
brought back), the orders already on it that carry `_wcsync_origin` are taken into the ledger,
so that a copy made by an earlier installation, or before the store was removed, is adopted and
never made twice. WooCommerce has no meta filter on /orders: the store's orders created since the
earliest origin's start are listed (ids, statuses and meta only).

A copy is never older than its origin, so the lookup for an origin is complete once it covered
the store's orders created since that origin's creation (less a margin for the clocks). The
inventory records where it started (`inventory_since`); an origin created before that (a Full
sync or a Sync Order reaching back past the stores' floors) makes it look further back before
that origin's first copy (`cover_origins`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import session_scope
from app.errors import WcsyncError
from app.models import Direction, Link, LinkState, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log, parse_gmt
from app.sync.events import link_event
from app.sync.plan.mapping import parse_origin
from app.sync.write.reconcile import find_replicas


class InventoryIncomplete(WcsyncError):
    """The stores kept changing while a store's copies were listed: nothing is created there
    before a listing completes (the next pass tries again)."""

    code = "inventory_incomplete"

    def __init__(self, store: str) -> None:
        super().__init__(
            f"store {store}: the stores changed while its copies were listed; tried again next pass"
        )


# Origins' floors are on their own clocks and the copies were made later still: a day of margin
# covers any clock.
MARGIN = timedelta(days=1)
# Where an inventory of every order on a store started (no store has orders older than this).
EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)


async def adopt(
    session: AsyncSession,
    target: Store,
    orders: list[dict[str, Any]],
    stores_by_name: dict[str, Store],
    run_id: int | None,
    held: Collection[int] = (),
) -> tuple[int, int]:
    """Take the copies found on `target` into the ledger. A link with no replica yet adopts the
    copy (its lowest live order); a link that names another order records the second copy as a
    duplicate for an admin; an origin the ledger has no link for gets one, synced, so that the
    next change of the origin updates the copy instead of making another. `held`: links this
    process leased for a create it has not sent yet; one that adopts a copy is let go, pending,
    to be read and made equal. Returns (adopted, duplicates)."""
    assert target.id is not None
    adopted = duplicates = 0
    by_origin: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for order in orders:
        origin = parse_origin(order)
        store = stores_by_name.get(origin[0]) if origin else None
        if origin is None or store is None or store.id is None or store.id == target.id:
            continue
        by_origin.setdefault((store.id, origin[1]), []).append(order)
    for (origin_id, origin_order), copies in by_origin.items():
        live = sorted((o for o in copies if o.get("status") != "trash"), key=lambda o: o["id"])
        chosen = (live or sorted(copies, key=lambda o: o["id"]))[0]
        already = f"order {chosen['id']} on store {target.name} was already a copy"
        links = await repo.links_for_origins(session, origin_id, [origin_order])
        row = next((ln for ln in links if ln.target_store_id == target.id), None)
        if row is None:
            row = Link(
                origin_store_id=origin_id,
                origin_order_id=origin_order,
                target_store_id=target.id,
                direction=Direction.into(StoreRole(target.role)),
                state=LinkState.synced,
                target_order_id=chosen["id"],
                replica_status=str(chosen.get("status")),
                synced_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            link_event(session, row, "adopted", already, run_id)
            adopted += 1
        elif row.target_order_id is None and (row.state != LinkState.in_flight or row.id in held):
            row.target_order_id, row.replica_status = chosen["id"], str(chosen.get("status"))
            row.state, row.next_attempt_at = LinkState.pending, None  # read and made equal
            row.lease_owner = row.lease_until = row.attempt_started_at = row.claimed_run = None
            link_event(session, row, "adopted", already, run_id)
            adopted += 1
        others = [o["id"] for o in live if o["id"] != row.target_order_id]
        if others:
            link_event(
                session,
                row,
                "duplicate_replica",
                f"store {target.name} also holds order {', '.join(map(str, others))} for this origin; "
                "left for an admin to remove",
                run_id,
            )
            duplicates += len(others)
    return adopted, duplicates


def legacy_since(target: Store, stores: dict[int, Store]) -> datetime:
    """Where an inventory taken by an older version (which did not record it) started."""
    floors = [
        s.orders_since or s.backfill_since or s.created_at for s in stores.values() if s.id != target.id
    ]
    return min(floors, default=target.created_at) - MARGIN


def covered_since(target: Store, stores: dict[int, Store]) -> datetime | None:
    """From which creation time on the store's copies are known to the ledger (None: not yet
    inventoried)."""
    if target.inventory_at is None:
        return None
    return target.inventory_since or legacy_since(target, stores)


def needs_cover(target: Store, creates: Sequence[tuple[int, SourceOrder | None]]) -> bool:
    """Whether these creates must wait for `cover_origins`: always, since the store's row may
    say that its inventory must be taken again (a store added since this pass read it)."""
    return bool(creates)


def origin_created(snapshot: SourceOrder | None) -> datetime | None:
    """An origin's creation on its own clock; None when unknown (then nothing bounds where its
    copy could be)."""
    if snapshot is None:
        return None
    return snapshot.created_gmt or parse_gmt((snapshot.body or {}).get("date_created_gmt"))


async def take_inventory(
    ctx: SyncContext,
    target: Store,
    *,
    run_id: int | None,
    since: datetime | None = None,
    held: Collection[int] = (),
    whole: bool = False,
) -> None:
    """Adopt the copies already on `target` created since `since` (by default: since the
    earliest store's floor, less a margin; `whole`: every order on the store), before anything
    is created there. Records where the look started."""
    assert target.id is not None
    begun = utcnow()
    async with session_scope(ctx.session_factory) as session:
        stores = await repo.stores_by_id(session)
    if since is None and not whole:
        since = legacy_since(target, stores)
    found = await find_replicas(ctx.clients.get(target), since)
    orders = [o for copies in found.values() for o in copies]
    by_name = {s.name: s for s in stores.values()}
    for attempt in (1, 2):
        try:
            async with session_scope(ctx.session_factory) as session:
                # The store's row is locked first: a store added meanwhile, which forgets this
                # inventory, is then either seen below or forgets it after this commits.
                fresh = (
                    await session.exec(
                        select(Store)
                        .where(Store.id == target.id)
                        .with_for_update()
                        .execution_options(populate_existing=True)
                    )
                ).one()
                adopted, duplicates = await adopt(session, target, orders, by_name, run_id, held)
                now = await repo.stores_by_id(session)
                others = [(sid, s) for sid, s in now.items() if sid != target.id]
                if any(sid not in stores or s.updated_at > begun for sid, s in others):
                    # A store added or changed while this looked: copies of its orders were
                    # passed over. What was found is kept; the inventory is taken again.
                    fresh.inventory_at = target.inventory_at = None
                    break
                earlier = covered_since(fresh, stores) if fresh.inventory_at is not None else None
                fresh.inventory_at = utcnow()
                # Only ever further back: a store's coverage never shrinks.
                reach = since if since is not None else EVERYTHING
                fresh.inventory_since = min(reach, earlier) if earlier is not None else reach
                target.inventory_at, target.inventory_since = fresh.inventory_at, fresh.inventory_since
            break
        except IntegrityError:
            if attempt == 2:  # another process took the same inventory: it is done
                raise
    log.info(
        "sync.inventory.done %s",
        kv(
            store=target.name,
            since=since.isoformat() if since else "all",
            copies=len(orders),
            adopted=adopted,
            duplicates=duplicates,
        ),
    )


async def cover_origins(
    ctx: SyncContext,
    target: Store,
    creates: Sequence[tuple[int, SourceOrder | None]],
    *,
    run_id: int | None,
) -> set[int]:
    """Before the first copy of these origins (link id, origin snapshot) is made on `target`:
    the store's inventory is taken again if it was forgotten since this pass read the store (a
    store added or brought back), and if any origin was created before where it looked, it
    looks further back (to that creation, less the margin). Returns the ids of the links that
    adopted a copy (let go by the caller's batch: they are read and made equal next)."""
    held = [link_id for link_id, _ in creates]
    created = [origin_created(snapshot) for _, snapshot in creates]
    known = [c for c in created if c is not None]
    for _ in range(3):
        async with session_scope(ctx.session_factory) as session:
            stores = await repo.stores_by_id(session)
            fresh = await repo.get_store_by_id(session, target.id or 0)
        covered = covered_since(fresh, stores)
        if covered is None:
            await take_inventory(ctx, target, run_id=run_id, held=held)
            continue
        target.inventory_at, target.inventory_since = fresh.inventory_at, covered  # the pass's copy
        if len(known) == len(created) and all(c - MARGIN >= covered for c in known):
            break
        whole = len(known) < len(created)
        await take_inventory(
            ctx, target, run_id=run_id, since=None if whole else min(known) - MARGIN, held=held, whole=whole
        )
    else:
        raise InventoryIncomplete(target.name)
    async with session_scope(ctx.session_factory) as session:
        rows = await repo.links_by_ids(session, held)
    return {ln.id for ln in rows if ln.id is not None and ln.target_order_id is not None}
