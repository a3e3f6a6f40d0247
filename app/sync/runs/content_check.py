"""The content check: edits that move no date still reach the copies.

WooCommerce's posts storage (the default of stores made before WooCommerce 8.2) moves an order's
`date_modified` only when its post row changes (status, customer note): line items, addresses,
totals, payment details and meta, edited in the admin or through REST, keep the old date (seen on
real 7.8.2), so no discovery pass meets them. Where the wcsync-admin plugin runs it moves the date
on every save (it says so in the site index: `wcsync_admin.marks_changes`). Elsewhere this check
reads the open origins (not completed, cancelled, refunded or trashed) of every store whose edits,
or whose copies' edits, may be hidden: a slice of `WCSYNC_CONTENT_CHECK_BATCH` orders per store
every `WCSYNC_CONTENT_CHECK_INTERVAL_SECONDS`, in id order, round and round. Each origin read is
compared with the version wcsync holds (a difference is a new version, as discovery would record
it), each copy with its origin through the planner (`plan_update`, status left to the passes), and
what differs is written at once by the usual replication of those links.

The bound: an edit reaches its copies within one round, ceil(open orders / batch) intervals, plus
the write (bench/content_check.py measures a slice)."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from app.db import session_scope
from app.models import Link, LinkState, Store, StoreRole
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.discover.ingest import ingest_orders, routing_targets, targets_for
from app.sync.discover.listing import direction_of
from app.sync.events import link_event
from app.sync.plan.planner import ReplicaMismatch, plan_update
from app.sync.write.batch import map_links, read_replicas
from app.sync.write.replicate import replicate_target
from app.woocommerce.client import ALL_ORDER_STATUSES, MAX_PER_PAGE
from app.woocommerce.errors import WooCommerceError

# Whether a store's plugin marks changes is read again after this long.
PLUGIN_MAX_AGE_SECONDS = 600.0


@dataclass
class ContentCheckStats:
    read: int = 0  # origins read
    origins_changed: int = 0  # origins whose content changed with no date moved
    copies_differing: int = 0  # copies that differed from their origin
    written: int = 0
    rounds_done: list[str] = field(default_factory=list)  # stores whose open orders were all read
    errors: list[str] = field(default_factory=list)


def round_seconds(open_orders: int, *, batch: int, interval: float) -> float:
    """The bound: how long one round over a store's open orders takes (a slice per interval)."""
    return max(1, math.ceil(open_orders / batch)) * interval


class ContentCheck:
    """The rolling content check (see the module's description). One per process; the scheduler
    runs `tick` on the leader only."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self._after: dict[int, int] = {}  # store id -> the last origin id checked this round
        self._marks: dict[int, tuple[bool, float]] = {}  # store id -> (plugin marks saves, read at)

    async def hides_edits(self, store: Store) -> bool:
        """Whether an edit on this store may move no date: posts storage (or not known yet)
        without the wcsync-admin plugin marking saves."""
        if store.order_storage == "hpos" or store.id is None:
            return False
        cached = self._marks.get(store.id)
        if cached is None or time.monotonic() - cached[1] > PLUGIN_MAX_AGE_SECONDS:
            try:
                plugin = (await self.ctx.clients.get(store).site_index()).get("wcsync_admin")
                marks = isinstance(plugin, dict) and plugin.get("marks_changes") is True
            except WooCommerceError:
                marks = False  # not known: checked, rather than trusted
            cached = (marks, time.monotonic())
            self._marks[store.id] = cached
        return not cached[0]

    async def tick(self) -> ContentCheckStats:
        """One slice of every store that needs it."""
        total = ContentCheckStats()
        async with session_scope(self.ctx.session_factory) as session:
            stores = await repo.list_stores(session, enabled_only=True)
        hides = {s.id: await self.hides_edits(s) for s in stores}
        mains = [s for s in stores if s.role == StoreRole.main]
        subs = [s for s in stores if s.role == StoreRole.sub]
        for store in stores:
            targets = subs if store.role == StoreRole.main else mains
            if not (hides[store.id] or any(hides[t.id] for t in targets if t.id != store.id)):
                continue
            try:
                stats = await self.check_slice(store)
            except WooCommerceError as exc:
                total.errors.append(f"store {exc.store or store.name}: content check: {exc}")
                continue
            total.read += stats.read
            total.origins_changed += stats.origins_changed
            total.copies_differing += stats.copies_differing
            total.written += stats.written
            total.rounds_done += stats.rounds_done
            total.errors += stats.errors
        if total.read:
            log.info(
                "sync.content_check.done %s",
                kv(
                    read=total.read,
                    origins_changed=total.origins_changed,
                    copies_differing=total.copies_differing,
                    written=total.written,
                    rounds_done=",".join(total.rounds_done) or None,
                ),
            )
        return total

    async def check_slice(self, store: Store) -> ContentCheckStats:
        """Read the store's next slice of open origins and make their copies equal."""
        assert store.id is not None
        stats = ContentCheckStats()
        batch = min(self.ctx.settings.content_check_batch, MAX_PER_PAGE)
        after = self._after.get(store.id, 0)
        async with session_scope(self.ctx.session_factory) as session:
            ids = await repo.open_origins(session, store.id, after=after, limit=batch + 1)
        ids, more = ids[:batch], len(ids) > batch
        self._after[store.id] = ids[-1] if more else 0  # else the round is over: start again
        if not ids:
            return stats
        if not more:
            stats.rounds_done.append(store.name)
        page = await self.ctx.clients.get(store).list_orders(
            include=ids, status=ALL_ORDER_STATUSES, orderby="id", per_page=MAX_PER_PAGE
        )
        stats.read = len(page.items)
        direction = direction_of(store)
        async with session_scope(self.ctx.session_factory) as session:
            targets = await targets_for(session, store, direction)
        routes = await routing_targets(self.ctx, targets)
        try:
            # As discovery records a new version: an origin whose content changed at the same
            # date is a new version; its synced links are queued.
            async with session_scope(self.ctx.session_factory) as session:
                found = await ingest_orders(
                    session,
                    self.ctx,
                    source=store,
                    direction=direction,
                    orders=page.items,
                    targets=targets,
                    routes=routes,
                    run_id=None,
                )
            stats.origins_changed = found.queued
        except IntegrityError:
            pass  # a pass linked one of these meanwhile: the next round reads them again
        stats.copies_differing = await self._compare_copies(store, ids)
        stats.written = await self._write(store, ids)
        return stats

    async def _compare_copies(self, store: Store, ids: list[int]) -> int:
        """Each synced copy of these origins compared with what its origin wants, through the
        planner; a copy that differs is queued (its status is the passes' business: a status set
        on a copy goes back to its origin)."""
        assert store.id is not None
        async with session_scope(self.ctx.session_factory) as session:
            links = [
                ln
                for ln in await repo.links_for_origins(session, store.id, ids)
                if ln.state == LinkState.synced
                and ln.target_order_id is not None
                and ln.status_to_origin is None
            ]
            snapshots = await repo.source_orders_for_links(session, links)
            names = await repo.store_names(session)
            stores = await repo.stores_by_id(session)
        by_target: dict[int, list[Link]] = defaultdict(list)
        for link in links:
            by_target[link.target_store_id].append(link)
        differing: dict[int, list[str]] = {}
        for target_id, group in by_target.items():
            target = stores.get(target_id)
            if target is None or not target.enabled or target.archived_at is not None:
                continue
            mapped, _ = await map_links(self.ctx, target, group, snapshots, names)
            client = self.ctx.clients.get(target)
            replicas = await read_replicas(client, [ln.target_order_id or 0 for ln in group])
            for link in group:
                assert link.id is not None
                replica = replicas.get(link.target_order_id or 0)
                if link.id not in mapped or replica is None or replica.get("status") == "trash":
                    continue  # a mapping error, or a copy gone or trashed: the passes' business
                try:
                    changes = plan_update(mapped[link.id].payload, replica, status=None)
                except ReplicaMismatch:
                    continue
                if changes:
                    differing[link.id] = sorted(changes)
        if not differing:
            return 0
        async with session_scope(self.ctx.session_factory) as session:
            for row in await repo.links_by_ids(session, list(differing)):
                if row.state != LinkState.synced:
                    continue
                row.state, row.next_attempt_at = LinkState.pending, None
                link_event(
                    session,
                    row,
                    "content_check",
                    f"the copy on store {stores[row.target_store_id].name} differs from its origin in "
                    f"{', '.join(differing[row.id or 0])} (an edit that moved no date); it is made equal",
                    None,
                )
        return len(differing)

    async def _write(self, store: Store, ids: list[int]) -> int:
        """Replicate now what this slice queued (links due now only: a retry keeps its time)."""
        assert store.id is not None
        async with session_scope(self.ctx.session_factory) as session:
            linked = await repo.links_for_origins(session, store.id, ids)
            links = [ln for ln in linked if ln.state == LinkState.pending]
            stores = await repo.stores_by_id(session)
        by_target: dict[int, list[int]] = defaultdict(list)
        for link in links:
            if link.id is not None:
                by_target[link.target_store_id].append(link.id)
        written = 0
        for target_id, link_ids in by_target.items():
            target = stores.get(target_id)
            if target is None or not target.enabled or target.archived_at is not None:
                continue
            result = await replicate_target(
                self.ctx, target, direction_of(store), run_id=None, only_ids=link_ids
            )
            written += result.updated + result.created
        return written
