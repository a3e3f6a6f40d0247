"""Copying refunds: the I/O around `plan.refunds`. For each replica that may lack an origin
refund, read the refunds the replica carries (their `_wcsync_origin_refund` meta), read the
origin's refund lines, plan, and create what is missing. The ledger's `refunds_done` only says
which origin refunds were already confirmed on the replica, so that a replica is not read again
for nothing; what to write always comes from the two stores as they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.db import session_scope
from app.errors import MappingError
from app.models import Link, LinkState, Routing, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.discover.catalog import catalog
from app.sync.events import link_event
from app.sync.plan import money
from app.sync.plan.mapping import ORIGIN_ITEM_META, map_order, meta_value
from app.sync.plan.refunds import (
    ReplicaState,
    amount,
    origin_refunds,
    parse_origin_refund,
    plan_refunds,
    refunds_cover,
)
from app.sync.write.outcomes import (
    ReplicationStats,
    is_retriable,
    origin_moved_on,
    record_replica,
    schedule_retry,
)
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import FatalError, WooCommerceError


@dataclass
class RefundJob:
    """One replica that may lack refunds, with the replica as last read or written."""

    link_id: int
    replica: dict[str, Any]
    sent: SourceOrder | None = None  # the origin's version the replica was made equal to


def refunds_owed(origin: Mapping[str, Any], done: Mapping[str, Any] | None) -> bool:
    """Whether the origin has refunds not yet confirmed on the replica: only then is it read."""
    confirmed = set((done or {}).keys())
    return any(
        str(r.get("id")) not in confirmed
        for r in origin.get("refunds") or []
        if isinstance(r, Mapping) and amount(r.get("total")) > 0
    )


def fully_refunded(order: Mapping[str, Any]) -> bool:
    refunded = [amount(r.get("total")) for r in order.get("refunds") or []]
    return refunds_cover(amount(order.get("total")), refunded)


LINE_SECTIONS = ("line_items", "shipping_lines", "fee_lines")


def replica_state(
    replica: Mapping[str, Any],
    refunds: Sequence[Mapping[str, Any]],
    full: bool,
    decimals: int = money.DEFAULT_DECIMALS,
) -> ReplicaState:
    """The replica as its refunds see it: which origin line each of its lines copies, what is
    left to refund of each (its total and tax less what its own refunds took of it, linked by
    `_refunded_item_id`), its total and what is refunded of it."""
    taken: dict[str, Decimal] = {}
    for refund in refunds:
        for section in LINE_SECTIONS:
            for line in refund.get(section) or []:
                item = meta_value(line, "_refunded_item_id")
                if item is not None:
                    part = amount(line.get("total")) + amount(line.get("total_tax"))
                    taken[str(item)] = taken.get(str(item), Decimal(0)) + part
    lines: dict[str, int] = {}
    room: dict[str, Decimal] = {}
    for section in LINE_SECTIONS:
        for line in replica.get(section) or []:
            mark = meta_value(line, ORIGIN_ITEM_META)
            if mark is not None and isinstance(line.get("id"), int) and str(mark) not in lines:
                lines[str(mark)] = line["id"]
                held = amount(line.get("total")) + amount(line.get("total_tax"))
                room[str(mark)] = held - taken.get(str(line["id"]), Decimal(0))
    copied = frozenset(i for i in (parse_origin_refund(r) for r in refunds) if i is not None)
    return ReplicaState(
        lines=lines,
        total=amount(replica.get("total")),
        refunded=sum((amount(r.get("total")) for r in replica.get("refunds") or []), Decimal(0)),
        copied=copied,
        full=full,
        room=room,
        decimals=decimals,
    )


async def price_decimals(client: WooCommerceClient, currency: Any) -> int:
    """The store's price decimals (`woocommerce_price_num_decimals`), or the currency's ISO
    decimals when the store does not say (a key whose user may not read settings)."""
    try:
        setting = await client.general_setting("woocommerce_price_num_decimals")
    except FatalError as exc:  # a refusal (the key's user may not read settings), not an outage
        log.info("sync.refund.decimals_unknown %s", kv(currency=currency, error=exc))
        return money.currency_decimals(currency)
    return money.store_decimals(setting, currency)


async def _partial_values(
    ctx: SyncContext,
    origin_store: Store,
    origin: Mapping[str, Any],
    links: Sequence[Link],
    stores: dict[int, Store],
) -> dict[str, Decimal]:
    """The value of the lines each partial copy of this order holds, by store name."""
    values: dict[str, Decimal] = {}
    for link in links:
        target = stores.get(link.target_store_id)
        if target is None or target.role != StoreRole.sub or target.routing != Routing.skus:
            continue
        mapped = map_order(
            origin,
            origin_store=origin_store.name,
            target_store=target.name,
            catalog=await catalog(ctx, target),
            only_sold=True,
        )
        if mapped.left_out_skus:
            values[target.name] = sum(
                (amount(line["total"]) for line in mapped.payload["line_items"]), Decimal(0)
            )
    return values


async def copy_refunds(
    ctx: SyncContext, target: Store, jobs: Sequence[RefundJob], *, run_id: int | None
) -> ReplicationStats:
    """Create on each replica the origin refunds it lacks; failures go through the retry policy."""
    stats = ReplicationStats()
    client = ctx.clients.get(target)
    decimals: int | None = None  # the target's, read once for the batch
    for job in jobs:
        async with session_scope(ctx.session_factory) as session:
            link = (await repo.links_by_ids(session, [job.link_id]))[0]
            stores = await repo.stores_by_id(session)
            snapshot: SourceOrder | None = (await repo.source_orders_for_links(session, [link])).get(
                (link.origin_store_id, link.origin_order_id)
            )
            siblings = await repo.links_for_origins(session, link.origin_store_id, [link.origin_order_id])
        if snapshot is None or link.target_order_id is None:
            continue
        origin_store = stores[link.origin_store_id]
        origin = snapshot.body
        created: list[tuple[int, str]] = []
        confirmed: dict[str, str] = {}
        error: Exception | None = None
        try:
            on_replica = await client.list_refunds(link.target_order_id)
            details = await ctx.clients.get(origin_store).list_refunds(link.origin_order_id)
            full = not meta_value(job.replica, "_wcsync_lines_elsewhere")
            if decimals is None:
                decimals = await price_decimals(client, job.replica.get("currency"))
            state = replica_state(job.replica, on_replica, full, decimals)
            for made in on_replica:
                origin_id = parse_origin_refund(made)
                if origin_id is not None:
                    confirmed[str(origin_id)] = str(made.get("id"))
            refunds = origin_refunds(origin, details)
            partial = {} if full else await _partial_values(ctx, origin_store, origin, siblings, stores)
            writes = plan_refunds(
                refunds,
                state,
                origin_store=origin_store.name,
                origin_order_id=link.origin_order_id,
                origin_total=amount(origin.get("total")),
                name=target.name,
                partial_values=partial,
            )
            planned = {w.origin_refund_id for w in writes}
            for origin_refund in refunds:
                if origin_refund.id not in state.copied and origin_refund.id not in planned:
                    confirmed[str(origin_refund.id)] = ""  # nothing of it is this replica's
            for write in writes:
                reply = await client.create_refund(link.target_order_id, write.body)
                created.append((write.origin_refund_id, str(reply.get("id"))))
                confirmed[str(write.origin_refund_id)] = str(reply.get("id"))
            if created:
                # A full refund flips the replica to `refunded` by itself: record what it holds
                # now, so that its next read is not taken for a change made on its store.
                job.replica = await client.get_order(link.target_order_id)
        except (WooCommerceError, MappingError) as exc:
            error = exc
        now = utcnow()
        async with session_scope(ctx.session_factory) as session:
            row = (await repo.links_by_ids(session, [job.link_id], for_update=True))[0]
            row.refunds_done = {**(row.refunds_done or {}), **confirmed}
            for origin_id, replica_refund in created:
                link_event(
                    session,
                    row,
                    "refund_copied",
                    f"origin refund {origin_id} is refund {replica_refund} on store {target.name}",
                    run_id,
                )
            if created:
                record_replica(row, job.replica)
            if error is None:
                row.attempts = 0  # the attempt's last piece of work is done
                if row.state == LinkState.in_flight and row.lease_owner == ctx.owner:
                    # Held in flight until now (see push_batch): synced, unless the origin moved
                    # on meanwhile.
                    sent = job.sent or snapshot
                    current = (await repo.source_orders_for_links(session, [row])).get(
                        (row.origin_store_id, row.origin_order_id)
                    )
                    moved = origin_moved_on(current, sent)
                    row.state = LinkState.pending if moved else LinkState.synced
                    row.lease_until = row.lease_owner = None
                    if moved:
                        row.next_attempt_at = None
            else:
                schedule_retry(
                    session,
                    ctx,
                    row,
                    error,
                    now,
                    run_id,
                    stats,
                    retriable=is_retriable(error),
                    target_name=target.name,
                )
                log.warning("sync.refund.failed %s", kv(store=target.name, link=row.id, error=error))
    return stats
