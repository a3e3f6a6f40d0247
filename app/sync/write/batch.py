"""What one claimed batch will do, decided before anything is sent: each link's mapped replica
(`map_links`), the replicas as they are now (`read_replicas`), and for each existing replica the
status it must have (`status_for`) and the smallest write that makes it equal its origin
(`decide`). Nothing here writes to a store or to the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import parse_status_map
from app.errors import MappingError
from app.models import Link, Routing, SourceOrder, Store, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, parse_gmt
from app.sync.discover.catalog import catalog, look_up_skus
from app.sync.plan.conflicts import ReplicaChange, desired_status, replica_change
from app.sync.plan.mapping import LINES_ELSEWHERE_META, MappedOrder, MetaFilter, map_order, meta_value
from app.sync.plan.planner import ReplicaMismatch, plan_update, status_for_store
from app.sync.write.refunds import fully_refunded, refunds_owed
from app.woocommerce.client import ALL_ORDER_STATUSES, WooCommerceClient
from app.woocommerce.errors import NotFoundError


def link_id(link: Link) -> int:
    assert link.id is not None
    return link.id


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
            mapped[link_id(link)] = attempt(link)
        except MappingError as exc:
            failed[link_id(link)] = exc
            missing.update(getattr(exc, "skus", []))
    if missing and await look_up_skus(ctx, target, missing):
        products = await catalog(ctx, target)
        for link in links:
            if link_id(link) in failed and getattr(failed[link_id(link)], "skus", None):
                try:
                    mapped[link_id(link)] = attempt(link)
                    del failed[link_id(link)]
                except MappingError as exc:
                    failed[link_id(link)] = exc
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


@dataclass
class Update:
    link: Link
    replica: dict[str, Any]
    changes: dict[str, Any]


@dataclass
class Batch:
    """What one claimed batch will do, decided before anything is sent."""

    creates: list[Link] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    equal: list[Update] = field(default_factory=list)  # already equal: nothing to write
    trashed: list[Update] = field(default_factory=list)  # trashed on its store by a person
    gone: list[Link] = field(default_factory=list)  # deleted for good on its store
    mismatched: dict[int, Exception] = field(default_factory=dict)
    flowing_back: dict[int, str] = field(default_factory=dict)  # link id -> status set on the replica


def status_for(
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


async def decide(
    client: WooCommerceClient,
    links: Sequence[Link],
    mapped: dict[int, MappedOrder],
    snapshots: dict[tuple[int, int], SourceOrder],
) -> Batch:
    batch = Batch()
    existing = [ln for ln in links if link_id(ln) in mapped and ln.target_order_id is not None]
    batch.creates = [ln for ln in links if link_id(ln) in mapped and ln.target_order_id is None]
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
            batch.trashed.append(Update(link, replica, {}))
            continue
        origin = snapshots[(link.origin_store_id, link.origin_order_id)].body
        wanted = str(mapped[link_id(link)].payload.get("status"))
        status, set_there = status_for(link, origin, replica, refunds_owed(origin, link.refunds_done), wanted)
        if set_there is not None:
            batch.flowing_back[link_id(link)] = set_there
        try:
            changes = plan_update(mapped[link_id(link)].payload, replica, status=status)
        except ReplicaMismatch as exc:
            batch.mismatched[link_id(link)] = exc
            continue
        (batch.updates if changes else batch.equal).append(Update(link, replica, changes))
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
