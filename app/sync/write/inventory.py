"""Inventory: before the first copy to a store new to the ledger (a store just added, or one
brought back), the orders already on it that carry `_wcsync_origin` are taken into the ledger,
so that a copy made by an earlier installation, or before the store was removed, is adopted and
never made twice. WooCommerce has no meta filter on /orders: the store's orders created since the
earliest origin's start are listed (ids, statuses and meta only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import session_scope
from app.models import Direction, Link, LinkState, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.events import link_event
from app.sync.plan.mapping import parse_origin
from app.sync.write.reconcile import find_replicas

# Origins' floors are on their own clocks and the copies were made later still: a day of margin
# covers any clock.
MARGIN = timedelta(days=1)


async def adopt(
    session: AsyncSession,
    target: Store,
    orders: list[dict[str, Any]],
    stores_by_name: dict[str, Store],
    run_id: int | None,
) -> tuple[int, int]:
    """Take the copies found on `target` into the ledger. A link with no replica yet adopts the
    copy (its lowest live order); a link that names another order records the second copy as a
    duplicate for an admin; an origin the ledger has no link for gets one, synced, so that the
    next change of the origin updates the copy instead of making another. Returns (adopted,
    duplicates)."""
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
                direction=Direction.main_to_sub if target.role == StoreRole.sub else Direction.sub_to_main,
                state=LinkState.synced,
                target_order_id=chosen["id"],
                replica_status=str(chosen.get("status")),
                synced_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            link_event(session, row, "adopted", already, run_id)
            adopted += 1
        elif row.target_order_id is None and row.state != LinkState.in_flight:
            row.target_order_id, row.replica_status = chosen["id"], str(chosen.get("status"))
            row.state, row.next_attempt_at = LinkState.pending, None  # read and made equal
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


async def take_inventory(ctx: SyncContext, target: Store, *, run_id: int | None) -> None:
    """Adopt the copies already on `target`, once, before anything is created there."""
    assert target.id is not None
    async with session_scope(ctx.session_factory) as session:
        stores = await repo.stores_by_id(session)
    floors = [
        s.orders_since or s.backfill_since or s.created_at for s in stores.values() if s.id != target.id
    ]
    since = min(floors, default=target.created_at) - MARGIN
    found = await find_replicas(ctx.clients.get(target), since)
    orders = [o for copies in found.values() for o in copies]
    by_name = {s.name: s for s in stores.values()}
    for attempt in (1, 2):
        try:
            async with session_scope(ctx.session_factory) as session:
                adopted, duplicates = await adopt(session, target, orders, by_name, run_id)
                fresh = await repo.get_store_by_id(session, target.id)
                fresh.inventory_at = utcnow()
            break
        except IntegrityError:
            if attempt == 2:  # another process took the same inventory: it is done
                raise
    log.info(
        "sync.inventory.done %s",
        kv(store=target.name, copies=len(orders), adopted=adopted, duplicates=duplicates),
    )
