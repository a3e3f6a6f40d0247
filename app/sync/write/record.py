"""Record what a batch's request did, in the ledger, in the same unit of work: each link synced
(or queued again when its origin moved on meanwhile), refused, left to reconcile or scheduled
for a retry, with an event in its history. Nothing here talks to a store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import MappingError, OrderRejected
from app.models import Link, LinkState, SourceOrder, Store
from app.sync import repository as repo
from app.sync.context import SyncContext
from app.sync.events import link_event
from app.sync.plan.mapping import MappedOrder, expected_total
from app.sync.plan.refunds import amount
from app.sync.write.batch import Batch, link_id
from app.sync.write.outcomes import (
    ReplicationStats,
    forget_replica,
    is_retriable,
    mark_synced,
    origin_moved_on,
    record_replica,
    schedule_retry,
)
from app.sync.write.refunds import RefundJob, refunds_owed
from app.woocommerce.client import BatchResult
from app.woocommerce.errors import NotFoundError, WooCommerceError


@dataclass
class Sent:
    """A batch as planned and what its request came back with."""

    batch: Batch
    mapped: dict[int, MappedOrder]
    mapping_errors: dict[int, MappingError]
    snapshots: dict[tuple[int, int], SourceOrder]
    result: BatchResult | None = None
    error: WooCommerceError | None = None
    unfinished: set[int] = field(default_factory=set)  # positions in batch.creates still to finish


async def record_batch(
    session: AsyncSession,
    ctx: SyncContext,
    target: Store,
    link_ids: list[int],
    sent: Sent,
    *,
    run_id: int | None,
    stats: ReplicationStats,
    now: datetime,
    notes_wanted: bool,
) -> list[RefundJob]:
    """Record the batch's outcome on its links; returns the refunds still to copy."""
    batch, mapped, snapshots = sent.batch, sent.mapped, sent.snapshots
    result, result_error, unfinished = sent.result, sent.error, sent.unfinished
    mapping_errors = sent.mapping_errors
    refund_jobs: list[RefundJob] = []
    # The links are locked before the origins' versions are read: a discovery that records
    # a newer version locks them too, so one of the two always sees the other's news.
    fresh = {ln.id: ln for ln in await repo.links_by_ids(session, link_ids, for_update=True)}
    latest = await repo.source_orders_for_links(session, list(fresh.values()))

    def synced(row: Link, order_id: int, replica: dict[str, Any]) -> None:
        """Synced to the origin version it was mapped from; if the origin changed meanwhile
        (discovery read a newer one during the push, even within the same second), it is
        queued again at once."""
        key = (row.origin_store_id, row.origin_order_id)
        version = snapshots[key]
        origin = version.body
        owed = refunds_owed(origin, row.refunds_done)
        mark_synced(row, order_id, version, now, done=not owed)
        record_replica(row, replica)
        if owed:
            refund_jobs.append(RefundJob(link_id=link_id(row), replica=replica, sent=version))
            # Done only once its refunds are copied too: until then it stays in flight under
            # this process's lease, so that a crash before they are copied leaves it to be
            # reconciled and read again, never counted as synced.
            row.state, row.lease_owner = LinkState.in_flight, ctx.owner
            row.lease_until = now + timedelta(seconds=ctx.settings.lease_seconds)
        if origin_moved_on(latest.get(key), version):
            row.state = LinkState.pending

    for failed_id, error in {**mapping_errors, **batch.mismatched}.items():
        schedule_retry(
            session,
            ctx,
            fresh[failed_id],
            error,
            now,
            run_id,
            stats,
            retriable=False,
            target_name=target.name,
        )
        stats.done += 1
    for link in batch.gone:
        row = fresh[link_id(link)]
        link_event(
            session,
            row,
            "replica_missing",
            f"order {row.target_order_id} no longer exists on store {target.name}; it is made again",
            run_id,
        )
        forget_replica(row)
    for trashed in batch.trashed:
        row = fresh[link_id(trashed.link)]
        if row.replica_status != "trash":
            link_event(
                session,
                row,
                "replica_trashed",
                f"order {row.target_order_id} was trashed on store {target.name}; it is left there",
                run_id,
            )
    for unchanged in batch.equal:
        link_event(
            session,
            fresh[link_id(unchanged.link)],
            "in_sync",
            f"already in sync: the copy on store {target.name} (order {unchanged.link.target_order_id}) "
            "equals the origin; nothing written",
            run_id,
        )
    for unchanged in batch.equal + batch.trashed:
        synced(fresh[link_id(unchanged.link)], unchanged.link.target_order_id or 0, unchanged.replica)
        stats.skipped += 1
        stats.done += 1
    for back_id, status in batch.flowing_back.items():
        row = fresh[back_id]
        row.status_to_origin = status
        link_event(
            session,
            row,
            "status_changed",
            f"store {target.name} set {status!r}; it goes back to the origin",
            run_id,
        )
    if result_error is not None:
        for link in batch.creates:
            row = fresh[link_id(link)]
            if result_error.ambiguous:
                # The store may have created some of these: reconcile before any retry.
                row.lease_until, row.attempt_outcome = now, "unknown"
                row.last_error, row.last_error_code = str(result_error), result_error.code
                link_event(session, row, "outcome_unknown", str(result_error), run_id)
            else:
                schedule_retry(
                    session,
                    ctx,
                    row,
                    result_error,
                    now,
                    run_id,
                    stats,
                    retriable=is_retriable(result_error),
                )
                stats.done += 1
        for update in batch.updates:
            # Safe to send again: the next attempt reads the replica and plans afresh.
            schedule_retry(
                session,
                ctx,
                fresh[link_id(update.link)],
                result_error,
                now,
                run_id,
                stats,
                retriable=is_retriable(result_error),
            )
            stats.done += 1
    elif result is not None:
        for position, (item, link) in enumerate(zip(result.create, batch.creates, strict=True)):
            row = fresh[link_id(link)]
            if item.order is not None and isinstance(item.order.get("id"), int):
                synced(row, item.order["id"], item.order)
                if position in unfinished and row.state == LinkState.synced:
                    row.state, row.next_attempt_at = LinkState.pending, None  # finished next pass
                # The origin note waits in a low-priority queue: it never delays a create.
                row.origin_note_due = notes_wanted
                link_event(
                    session, row, "created", f"order {item.order['id']} on store {target.name}", run_id
                )
                note_total(session, row, mapped[link_id(link)], item.order, target, run_id)
                stats.created += 1
                stats.done += 1
            else:
                # Real WooCommerce can leave a half-made order behind a rejected create
                # (recorded case 43): reconcile (find it, trash it) before deciding.
                message = str(item.error) if item.error else "the store returned no order"
                row.lease_until, row.attempt_outcome = now, "rejected"
                row.last_error = message
                row.last_error_code = item.error.code if item.error else None
                link_event(session, row, "rejected", message, run_id)
        for item, update in zip(result.update, batch.updates, strict=True):
            row = fresh[link_id(update.link)]
            stats.done += 1
            if item.order is not None:
                synced(row, row.target_order_id or 0, item.order)
                note_total(session, row, mapped[link_id(update.link)], item.order, target, run_id)
                written = ", ".join(sorted(update.changes))
                link_event(
                    session,
                    row,
                    "updated",
                    f"order {row.target_order_id} on store {target.name}: {written}",
                    run_id,
                )
                stats.updated += 1
            elif isinstance(item.error, NotFoundError):
                # Deleted for good between the read and the write: made again next time.
                link_event(
                    session,
                    row,
                    "replica_missing",
                    f"order {row.target_order_id} no longer exists on store {target.name}; "
                    "it will be made again",
                    run_id,
                )
                forget_replica(row)
                row.state, row.lease_until, row.next_attempt_at = LinkState.pending, None, None
            else:
                refused: Exception = item.error or OrderRejected(target.name, "the store returned no order")
                schedule_retry(
                    session,
                    ctx,
                    row,
                    refused,
                    now,
                    run_id,
                    stats,
                    retriable=is_retriable(refused),
                    target_name=target.name,
                )
    # The store answered: a write, or the read of copies found equal.
    if result_error is None and (batch.creates or batch.updates or batch.equal or batch.trashed):
        await repo.note_store_success(session, target.id or 0, now)
    return refund_jobs


def note_total(
    session: Any, link: Link, mapped: MappedOrder, replica: dict[str, Any], target: Store, run_id: int | None
) -> None:
    """The target computes taxes from its own settings: when the copy's total is not what the
    origin's lines make, say so in the order's history, in words."""
    expected = expected_total(mapped)
    got = amount(replica.get("total"))
    if expected is not None and got != expected:
        link_event(
            session,
            link,
            "total_differs",
            f"the copy's total on store {target.name} is {got}, the origin's {expected}: the store "
            "computes taxes from its own tax settings (the lines and their totals are the origin's)",
            run_id,
        )
