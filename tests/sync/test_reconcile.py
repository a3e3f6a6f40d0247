"""Reconciliation of creates whose outcome wcsync did not see, against a fake store in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.config import Settings
from app.db import SessionFactory, session_scope
from app.models import Direction, Link, LinkState, StoreRole, utcnow
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.context import SyncContext
from app.sync.retry import RetryPolicy
from app.sync.write.reconcile import reconcile_target
from app.testing import DEMO_CATALOG, FakeStore
from tests.factories import make_store

ORIGIN_ID = 4242


@pytest.fixture
async def sub1() -> FakeStore:
    store = make_store("sub1")
    return FakeStore(
        "sub1", catalog=DEMO_CATALOG, consumer_key=store.consumer_key, consumer_secret=store.consumer_secret
    )


@pytest.fixture
async def ctx(session_factory: SessionFactory, sub1: FakeStore) -> AsyncIterator[SyncContext]:
    clients = ClientRegistry(timeout=5, max_concurrency=2, transport_factory=lambda store: sub1.transport())
    yield SyncContext(
        session_factory=session_factory,
        clients=clients,
        settings=Settings(database_url="sqlite://", store_timeout_seconds=5),
        policy=RetryPolicy(base_seconds=1),
    )
    await clients.aclose()


async def _in_flight(ctx: SyncContext, sub1: FakeStore, outcome: str, error_code: str | None) -> int:
    async with session_scope(ctx.session_factory) as session:
        main = make_store("main", role=StoreRole.main)
        target = make_store("sub1", base_url=sub1.base_url)
        session.add_all([main, target])
        await session.flush()
        link = Link(
            origin_store_id=main.id,
            origin_order_id=ORIGIN_ID,
            target_store_id=target.id,  # type: ignore[arg-type]
            direction=Direction.main_to_sub,
            state=LinkState.in_flight,
            attempts=1,
            attempt_outcome=outcome,
            attempt_started_at=utcnow() - timedelta(seconds=60),
            lease_until=utcnow() - timedelta(seconds=1),
            last_error="the store said no",
            last_error_code=error_code,
        )
        session.add(link)
        await session.flush()
        assert link.id is not None
        return link.id


async def _run(ctx: SyncContext, link_id: int) -> tuple[Link, list[str]]:
    async with session_scope(ctx.session_factory) as session:
        target = await repo.get_store(session, "sub1")
    await reconcile_target(ctx, target, run_id=None)
    async with session_scope(ctx.session_factory) as session:
        link = (await repo.links_by_ids(session, [link_id]))[0]
        kinds = [e.kind for e in await repo.events_for_links(session, [link_id])]
    return link, kinds


async def test_a_rejected_create_leaves_nothing_behind(ctx: SyncContext, sub1: FakeStore) -> None:
    # Recorded case 43: WooCommerce 7.8 answered 400 but kept a pending order with our meta.
    leftover = sub1.place_order(
        [("SKU-MUG-001", 1)], status="pending", meta={"_wcsync_origin": f"main:{ORIGIN_ID}"}
    )
    link_id = await _in_flight(ctx, sub1, "rejected", "woocommerce_rest_invalid_coupon")
    link, kinds = await _run(ctx, link_id)
    assert sub1.orders[leftover["id"]]["status"] == "trash"
    assert link.state == LinkState.failed and link.target_order_id is None
    assert link.last_error_code == "woocommerce_rest_invalid_coupon"
    assert "rejected the order" in (link.last_error or "")
    assert "trashed_leftover" in kinds


async def test_an_unanswered_create_that_happened_is_adopted(ctx: SyncContext, sub1: FakeStore) -> None:
    made = sub1.place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": f"main:{ORIGIN_ID}"})
    link_id = await _in_flight(ctx, sub1, "unknown", None)
    link, kinds = await _run(ctx, link_id)
    # Adopted, untouched, and queued to be read and made equal to the origin as it is now (the
    # copy holds the version that was sent); its status is recorded as wcsync's own write.
    assert link.state == LinkState.pending and link.target_order_id == made["id"]
    assert link.replica_status == "processing" and link.replica_modified_gmt is not None
    assert sub1.orders[made["id"]]["status"] == "processing"
    assert "adopted" in kinds


async def test_an_unanswered_create_that_did_not_happen_is_queued_again(
    ctx: SyncContext, sub1: FakeStore
) -> None:
    sub1.place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": "main:1"})  # someone else's
    link_id = await _in_flight(ctx, sub1, "unknown", None)
    link, kinds = await _run(ctx, link_id)
    assert link.state == LinkState.pending and link.target_order_id is None
    assert link.next_attempt_at is not None and link.next_attempt_at > utcnow()
    assert "retry_scheduled" in kinds
