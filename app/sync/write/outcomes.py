"""What a write did to a link: synced, retried per the policy, or parked as failed. Shared by the
creates, the updates, the refunds and the reconciliation, so every failed write goes through
the one retry policy and shows its error on the link and in the run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Direction, Link, LinkState, SourceOrder
from app.sync.context import SyncContext, parse_gmt
from app.sync.events import link_event
from app.sync.plan.conflicts import same_version
from app.woocommerce.errors import AuthenticationError, RetriableError


@dataclass
class ReplicationStats:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    adopted: int = 0
    failed: int = 0
    done: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: ReplicationStats) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.adopted += other.adopted
        self.failed += other.failed
        self.done += other.done
        self.errors += other.errors


# Told each batch's counts as they land, so that a run's progress moves while it works.
ProgressHook: TypeAlias = Callable[[ReplicationStats], Awaitable[None]]


def is_retriable(error: Exception) -> bool:
    """Server faults, timeouts, rate limits and rejected keys (an admin may fix the keys) are
    tried again; refusals and bad data are not."""
    return isinstance(error, (RetriableError, AuthenticationError))


def schedule_retry(
    session: AsyncSession,
    ctx: SyncContext,
    link: Link,
    error: Exception,
    now: datetime,
    run_id: int | None,
    stats: ReplicationStats,
    *,
    retriable: bool,
    target_name: str = "",
) -> None:
    """Put a link back in the queue per the retry policy, or park it as failed. Either way the
    error is on the link and in the run's errors."""
    retry_after = error.retry_after if isinstance(error, RetriableError) else None
    next_at = ctx.policy.decide(retriable=retriable, attempts=link.attempts, now=now, retry_after=retry_after)
    link.lease_until, link.lease_owner, link.attempt_outcome = None, None, None
    link.last_error = str(error)
    link.last_error_code = getattr(error, "code", None)
    link.updated_at = now
    where = f"store {target_name}: order {link.origin_order_id}: " if target_name else ""
    if next_at is None:
        link.state, link.next_attempt_at = LinkState.failed, None
        link_event(session, link, "failed", str(error), run_id)
        stats.failed += 1
        stats.errors.append(f"{where}{error}")
    else:
        link.state, link.next_attempt_at = LinkState.pending, next_at
        link_event(session, link, "retry_scheduled", str(error), run_id)


async def note_unreachable(
    session: AsyncSession,
    ctx: SyncContext,
    *,
    target_store_id: int,
    target_name: str,
    direction: Direction,
    error: Exception,
    now: datetime,
    run_id: int | None,
    stats: ReplicationStats,
    ignore_schedule: bool = False,
) -> None:
    """The store could not be reached before anything was sent: each link due for it counts an
    attempt and gets its next time from the retry policy, as if its write had failed the same
    way (what it would have done), so the failed orders page shows the attempts and the next try."""
    due = select(Link).where(
        col(Link.target_store_id) == target_store_id,
        col(Link.direction) == direction,
        col(Link.state) == LinkState.pending,
    )
    if not ignore_schedule:
        due = due.where(sa.or_(col(Link.next_attempt_at).is_(None), col(Link.next_attempt_at) <= now))
    if run_id is not None:
        # A run tries a link at most once, as it claims one at most once.
        due = due.where(sa.or_(col(Link.claimed_run).is_(None), col(Link.claimed_run) != run_id))
    for link in (await session.exec(due)).all():
        link.attempts += 1
        link.claimed_run = run_id
        schedule_retry(session, ctx, link, error, now, run_id, stats, retriable=True, target_name=target_name)


def mark_synced(
    link: Link, target_order_id: int, snapshot: SourceOrder | None, now: datetime, *, done: bool = True
) -> None:
    """The replica matches the origin's version `snapshot`. With `done` False, work remains for
    the same attempt (refunds to copy): its attempts count on until that work is done too."""
    link.state = LinkState.synced
    if done:
        link.attempts = 0
    link.target_order_id = target_order_id
    link.pushed_modified_gmt = snapshot.modified_gmt if snapshot else link.source_modified_gmt
    link.synced_at = now
    link.lease_until = link.lease_owner = link.attempt_outcome = None
    link.last_error = link.last_error_code = None
    link.next_attempt_at = None
    link.updated_at = now


def origin_moved_on(now_read: SourceOrder | None, sent: SourceOrder) -> bool:
    """Whether the origin's version read now is newer than the one sent (even within its second)."""
    return now_read is not None and (
        now_read.modified_gmt > sent.modified_gmt
        or (now_read.modified_gmt == sent.modified_gmt and not same_version(now_read.body, sent.body))
    )


def adopt_replica(link: Link, replica: dict[str, Any], now: datetime) -> None:
    """A copy found on its store (its create's reply was lost) becomes the link's replica, queued
    to be read and made equal to the origin as it is now."""
    link.state, link.next_attempt_at = LinkState.pending, None
    link.target_order_id = int(replica["id"])
    link.pushed_modified_gmt = None
    link.lease_until = link.lease_owner = link.attempt_outcome = None
    link.last_error = link.last_error_code = None
    link.updated_at = now
    record_replica(link, replica)


def record_replica(link: Link, replica: dict[str, Any]) -> None:
    """Remember the version of the replica wcsync last wrote or read: its next read at this
    version is recognised as known, not as a change made on its store (no echo)."""
    link.replica_status = str(replica.get("status"))
    link.replica_modified_gmt = parse_gmt(replica.get("date_modified_gmt")) or link.replica_modified_gmt


def forget_replica(link: Link) -> None:
    link.target_order_id = None
    link.replica_status = link.replica_modified_gmt = None
    link.refunds_done = link.notes_done = None
