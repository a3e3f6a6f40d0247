"""The counts the database keeps (migration 0007's triggers) always equal a count from scratch,
whatever statement changes the links: the ORM, a claim, a requeue, a delete, an archived store;
and on PostgreSQL, concurrent transactions over the same orders neither deadlock nor lose a
count. The pending badge counts orders, with copies as the detail; /api/links pages by keyset."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select, update

from app.db import SessionFactory, session_scope
from app.models import Direction, Link, LinkState, Store, StoreRole, utcnow
from app.sync import repository as repo
from tests.factories import make_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STATES = list(LinkState)


async def _stores(factory: SessionFactory, subs: int = 3) -> list[Store]:
    async with session_scope(factory) as session:
        stores = [make_store("main", role=StoreRole.main)]
        stores += [make_store(f"sub{i}") for i in range(1, subs + 1)]
        session.add_all(stores)
        await session.flush()
    return stores


def _link(origin: Store, order_id: int, target: Store, **values: Any) -> Link:
    direction = Direction.main_to_sub if origin.role == StoreRole.main else Direction.sub_to_main
    return Link(
        origin_store_id=origin.id,  # type: ignore[arg-type]
        origin_order_id=order_id,
        target_store_id=target.id,  # type: ignore[arg-type]
        direction=direction,
        **values,
    )


async def _truth(factory: SessionFactory) -> dict[str, Any]:
    """The counts from a scan of every link, as the pending route computed them before 0007."""
    async with session_scope(factory) as session:
        stores = await repo.stores_by_id(session)
        links = list((await session.exec(select(Link))).all())
    archived = {sid for sid, s in stores.items() if s.archived_at is not None}
    live = [ln for ln in links if ln.origin_store_id not in archived and ln.target_store_id not in archived]
    waiting = [ln for ln in live if ln.state in (LinkState.pending, LinkState.in_flight)]
    back = [ln for ln in live if ln.status_to_origin is not None]
    failed = [ln for ln in live if ln.state == LinkState.failed]
    per_sub: dict[str, Counter[str]] = {"main_to_sub": Counter(), "sub_to_main": Counter()}
    for ln in waiting:
        sub = ln.target_store_id if ln.direction == Direction.main_to_sub else ln.origin_store_id
        per_sub[ln.direction][stores[sub].name] += 1
    for ln in back:
        sub = ln.target_store_id if ln.direction == Direction.main_to_sub else ln.origin_store_id
        reverse = "sub_to_main" if ln.direction == Direction.main_to_sub else "main_to_sub"
        per_sub[reverse][stores[sub].name] += 1
    key = lambda ln: (ln.origin_store_id, ln.origin_order_id)  # noqa: E731
    main_id = next(sid for sid, s in stores.items() if s.role == StoreRole.main)
    down = {key(ln) for ln in waiting if ln.origin_store_id == main_id} | {
        key(ln) for ln in back if ln.origin_store_id != main_id
    }
    up = {key(ln) for ln in waiting if ln.origin_store_id != main_id} | {
        key(ln) for ln in back if ln.origin_store_id == main_id
    }
    orders = {key(ln) for ln in waiting + back}
    return {
        "orders": len(orders),
        "copies": len(waiting) + len(back),
        "total": len(orders),
        "orders_by_direction": {"main_to_sub": len(down), "sub_to_main": len(up)},
        "copies_by_direction": {d: sum(c.values()) for d, c in per_sub.items()},
        "main_to_sub": dict(per_sub["main_to_sub"]),
        "sub_to_main": dict(per_sub["sub_to_main"]),
        "failed": len({key(ln) for ln in failed}),
        "failed_copies": len(failed),
        "stores_failing": [],
        # Every state of every link, archived stores included: what /api/links totals count.
        "by_state": Counter(str(ln.state) for ln in links),
    }


async def _counted(factory: SessionFactory) -> dict[str, Any]:
    async with session_scope(factory) as session:
        counts = await repo.pending_counts(session)
        counts["by_state"] = Counter(
            {
                str(state): n
                for state in STATES
                if (n := await repo.link_totals(session, state=state, direction=None, store_id=None))
            }
        )
    return counts


class TestCountsFollowEveryChange:
    async def test_random_changes_by_every_kind_of_statement(self, session_factory: SessionFactory) -> None:
        stores = await _stores(session_factory)
        main, subs = stores[0], stores[1:]
        rng = random.Random(7)
        async with session_scope(session_factory) as session:
            for order in range(1, 61):
                for sub in rng.sample(subs, rng.randint(1, 3)):
                    session.add(_link(main, order, sub))
            for sub in subs:
                for order in range(1, 11):
                    session.add(_link(sub, 500 + order, main))
        assert await _counted(session_factory) == await _truth(session_factory)
        for step in range(12):
            async with session_scope(session_factory) as session:
                ids = list((await session.exec(select(Link.id))).all())
                # The ORM: states and statuses going back, a few links at a time.
                for link in await repo.links_by_ids(session, rng.sample(ids, 15)):
                    link.state = rng.choice(STATES)
                    if rng.random() < 0.3:
                        link.status_to_origin = rng.choice([None, "completed", "cancelled"])
                if step % 3 == 0:
                    # A claim, one UPDATE … RETURNING (pending -> in_flight).
                    await repo.claim_due_links(
                        session,
                        target_store_id=subs[step % 3].id or 0,
                        direction=Direction.main_to_sub,
                        limit=10,
                        owner="t",
                        lease_seconds=60,
                        now=utcnow(),
                    )
                if step % 4 == 1:
                    await repo.requeue_failed(session, now=utcnow())
                if step % 5 == 2:
                    await session.exec(sa.delete(Link).where(col(Link.id).in_(rng.sample(ids, 3))))  # type: ignore[call-overload]
                if step % 6 == 3:
                    await session.exec(
                        update(Link)
                        .where(col(Link.state) == LinkState.synced)
                        .values(status_to_origin="completed")
                    )
            assert await _counted(session_factory) == await _truth(session_factory), f"step {step}"

    async def test_an_archived_store_leaves_the_counts_and_comes_back(
        self, session_factory: SessionFactory
    ) -> None:
        main, sub1, sub2, _ = await _stores(session_factory)
        async with session_scope(session_factory) as session:
            for order in (1, 2, 3):
                session.add(_link(main, order, sub1))
            session.add(_link(main, 3, sub2))
        before = await _counted(session_factory)
        assert (before["orders"], before["copies"]) == (3, 4)
        async with session_scope(session_factory) as session:
            (await repo.get_store(session, "sub1")).archived_at = utcnow()
        archived = await _counted(session_factory)
        assert (archived["orders"], archived["copies"], archived["main_to_sub"]) == (1, 1, {"sub2": 1})
        assert archived == await _truth(session_factory)
        async with session_scope(session_factory) as session:
            # A change while archived is not counted, and is when the store comes back.
            link = (await repo.links_for_origins(session, main.id or 0, [1]))[0]
            link.state = LinkState.failed
        async with session_scope(session_factory) as session:
            store = await repo.find_store_any(session, "sub1")
            assert store is not None
            store.archived_at = None
        assert await _counted(session_factory) == await _truth(session_factory)
        assert (await _counted(session_factory))["failed"] == 1


class TestPendingCountsOrders:
    async def test_six_orders_to_two_stores_are_six_orders_not_eleven(
        self, session_factory: SessionFactory
    ) -> None:
        main, sub1, sub2, _ = await _stores(session_factory)
        async with session_scope(session_factory) as session:
            for order in range(1, 7):
                session.add(_link(main, order, sub1))
                if order != 6:
                    session.add(_link(main, order, sub2))
        async with session_scope(session_factory) as session:
            counts = await repo.pending_counts(session)
        assert (counts["orders"], counts["copies"], counts["total"]) == (6, 11, 6)
        assert counts["main_to_sub"] == {"sub1": 6, "sub2": 5}
        # Synced on both stores: the order stops waiting; on one only, it still waits.
        async with session_scope(session_factory) as session:
            for link in await repo.links_for_origins(session, main.id or 0, [1, 2]):
                if link.origin_order_id == 1 or link.target_store_id == sub1.id:
                    link.state = LinkState.synced
        async with session_scope(session_factory) as session:
            counts = await repo.pending_counts(session)
        assert (counts["orders"], counts["copies"]) == (5, 8)


class TestLinkPages:
    async def test_keyset_pages_walk_every_link_once_with_exact_totals(
        self, session_factory: SessionFactory
    ) -> None:
        main, sub1, sub2, sub3 = await _stores(session_factory)
        rng = random.Random(3)
        async with session_scope(session_factory) as session:
            for order in range(1, 151):
                for sub in (sub1, sub2, sub3):
                    if rng.random() < 0.7:
                        session.add(_link(main, order, sub, state=rng.choice(STATES)))
            for order in range(1, 31):
                session.add(_link(sub2, 900 + order, main, state=rng.choice(STATES)))
        async with session_scope(session_factory) as session:
            every = list((await session.exec(select(Link))).all())
        filters: list[dict[str, Any]] = [
            {},
            {"state": LinkState.failed},
            {"store_id": sub2.id},
            {"store_id": sub2.id, "state": LinkState.pending},
            {"store_id": main.id, "direction": Direction.sub_to_main},
            {"direction": Direction.main_to_sub, "state": LinkState.synced},
        ]
        for f in filters:
            expected = sorted(
                (
                    ln.id or 0
                    for ln in every
                    if ("state" not in f or ln.state == f["state"])
                    and ("direction" not in f or ln.direction == f["direction"])
                    and ("store_id" not in f or f["store_id"] in (ln.origin_store_id, ln.target_store_id))
                ),
                reverse=True,
            )
            args = {"state": None, "direction": None, "store_id": None, **f}
            seen: list[int] = []
            before = None
            async with session_scope(session_factory) as session:
                while True:
                    page, total = await repo.list_links(session, limit=17, before=before, **args)
                    assert total == len(expected), f
                    seen += [ln.id or 0 for ln in page]
                    if len(page) < 17:
                        break
                    before = page[-1].id
                # The old offset still works, and agrees.
                offset_page, _ = await repo.list_links(session, limit=17, offset=17, **args)
            assert seen == expected, f
            assert [ln.id for ln in offset_page] == expected[17:34], f


class TestConcurrentTransactions:
    async def test_concurrent_writers_over_the_same_orders_keep_exact_counts(
        self, session_factory: SessionFactory
    ) -> None:
        """Workers of two targets record the same origin orders at once while discovery adds
        links: on PostgreSQL the deltas are folded at commit in one order, so none deadlocks."""
        main, sub1, sub2, sub3 = await _stores(session_factory)
        async with session_scope(session_factory) as session:
            for order in range(1, 201):
                session.add(_link(main, order, sub1))
                session.add(_link(main, order, sub2))

        async def record(target: Store, orders: list[int]) -> None:
            for start in range(0, len(orders), 20):
                async with session_scope(session_factory) as session:
                    rows = await session.exec(
                        select(Link).where(
                            Link.target_store_id == target.id,
                            col(Link.origin_order_id).in_(orders[start : start + 20]),
                        )
                    )
                    for link in rows.all():
                        link.state = LinkState.synced
                        link.updated_at = NOW + timedelta(seconds=start)
                await asyncio.sleep(0)

        async def discover() -> None:
            for start in range(1, 201, 25):
                async with session_scope(session_factory) as session:
                    for order in range(start, start + 25):
                        session.add(_link(main, order, sub3))
                await asyncio.sleep(0)

        orders = list(range(1, 201))
        await asyncio.gather(record(sub1, orders), record(sub2, orders[::-1]), discover())
        counted = await _counted(session_factory)
        assert counted == await _truth(session_factory)
        assert (counted["orders"], counted["copies"]) == (200, 200)  # each waits for sub3 only
