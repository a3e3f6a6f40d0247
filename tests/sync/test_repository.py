from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from app.db import SessionFactory, session_scope
from app.models import Cursor, Direction, Link, LinkState, Store, StoreRole
from app.sync import repository as repo
from tests.factories import make_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def _stores(factory: SessionFactory) -> tuple[Store, Store, Store]:
    async with session_scope(factory) as session:
        main = make_store("main", role=StoreRole.main)
        sub1, sub2 = make_store("sub1"), make_store("sub2")
        session.add_all([main, sub1, sub2])
        await session.flush()
    return main, sub1, sub2


async def _links(factory: SessionFactory, main: Store, target: Store, n: int, **kw: object) -> None:
    async with session_scope(factory) as session:
        for i in range(n):
            session.add(
                Link(
                    origin_store_id=main.id,
                    origin_order_id=1000 + i,
                    target_store_id=target.id,
                    direction=Direction.main_to_sub,
                    **kw,
                )
            )  # type: ignore[arg-type]


class TestClaimDueLinks:
    async def test_one_claim_takes_at_most_its_limit(self, session_factory: SessionFactory) -> None:
        main, sub1, _ = await _stores(session_factory)
        await _links(session_factory, main, sub1, 200)
        async with session_scope(session_factory) as session:
            ids = await repo.claim_due_links(
                session,
                target_store_id=sub1.id or 0,
                direction=Direction.main_to_sub,
                limit=25,
                owner="a",
                lease_seconds=60,
                now=NOW,
            )
        assert len(ids) == 25
        async with session_scope(session_factory) as session:
            leased = [
                ln
                for ln in await repo.links_by_ids(session, list(range(1, 201)))
                if ln.state == LinkState.in_flight
            ]
        assert len(leased) == 25

    async def test_concurrent_claimers_get_disjoint_links(self, session_factory: SessionFactory) -> None:
        main, sub1, _ = await _stores(session_factory)
        await _links(session_factory, main, sub1, 40)

        async def claim(owner: str) -> list[int]:
            got: list[int] = []
            while True:
                async with session_scope(session_factory) as session:
                    ids = await repo.claim_due_links(
                        session,
                        target_store_id=sub1.id or 0,
                        direction=Direction.main_to_sub,
                        limit=3,
                        owner=owner,
                        lease_seconds=60,
                        now=NOW,
                    )
                if not ids:
                    return got
                got += ids

        results = await asyncio.gather(*(claim(f"w{i}") for i in range(4)))
        claimed = [i for r in results for i in r]
        assert len(claimed) == 40 and len(set(claimed)) == 40
        async with session_scope(session_factory) as session:
            links = await repo.links_by_ids(session, claimed)
        assert {ln.state for ln in links} == {LinkState.in_flight}
        assert all(ln.attempts == 1 and ln.lease_until == NOW + timedelta(seconds=60) for ln in links)

    async def test_respects_schedule_unless_told_not_to(self, session_factory: SessionFactory) -> None:
        main, sub1, _ = await _stores(session_factory)
        await _links(session_factory, main, sub1, 2, next_attempt_at=NOW + timedelta(minutes=5))
        async with session_scope(session_factory) as session:
            assert (
                await repo.claim_due_links(
                    session,
                    target_store_id=sub1.id or 0,
                    direction=Direction.main_to_sub,
                    limit=10,
                    owner="a",
                    lease_seconds=60,
                    now=NOW,
                )
                == []
            )
            forced = await repo.claim_due_links(
                session,
                target_store_id=sub1.id or 0,
                direction=Direction.main_to_sub,
                limit=10,
                owner="a",
                lease_seconds=60,
                now=NOW,
                ignore_schedule=True,
            )
        assert len(forced) == 2

    async def test_expired_in_flight_is_taken_over_once(self, session_factory: SessionFactory) -> None:
        main, sub1, _ = await _stores(session_factory)
        await _links(
            session_factory,
            main,
            sub1,
            1,
            state=LinkState.in_flight,
            lease_until=NOW - timedelta(seconds=1),
            attempt_started_at=NOW - timedelta(seconds=90),
        )

        async def take(owner: str) -> list[int]:
            async with session_scope(session_factory) as session:
                return await repo.claim_expired_in_flight(
                    session,
                    target_store_id=sub1.id or 0,
                    owner=owner,
                    lease_seconds=60,
                    now=NOW,
                    settled_before=NOW - timedelta(seconds=60),
                )

        first, second = await take("a"), await take("b")
        assert len(first) == 1 and second == []

    async def test_unanswered_create_waits_until_its_request_cannot_be_running(
        self, session_factory: SessionFactory
    ) -> None:
        main, sub1, _ = await _stores(session_factory)
        started = NOW - timedelta(seconds=10)
        await _links(
            session_factory,
            main,
            sub1,
            1,
            state=LinkState.in_flight,
            lease_until=NOW - timedelta(seconds=1),
            attempt_started_at=started,
        )

        async def take(now: datetime) -> list[int]:
            async with session_scope(session_factory) as session:
                return await repo.claim_expired_in_flight(
                    session,
                    target_store_id=sub1.id or 0,
                    owner="a",
                    lease_seconds=60,
                    now=now,
                    settled_before=now - timedelta(seconds=60),
                )

        assert await take(NOW) == []  # the create may still be running on the store
        assert len(await take(started + timedelta(seconds=61))) == 1


async def test_cursor_only_moves_forward(session_factory: SessionFactory) -> None:
    main, _, _ = await _stores(session_factory)
    async with session_scope(session_factory) as session:
        cursor = await repo.get_cursor(session, main, Direction.main_to_sub, start=main.created_at)
        start = cursor.position
        await repo.advance_cursor(session, main.id or 0, Direction.main_to_sub, start + timedelta(hours=1))
        await repo.advance_cursor(session, main.id or 0, Direction.main_to_sub, start - timedelta(hours=1))
    async with session_scope(session_factory) as session:
        cursor = await session.get(Cursor, cursor.id)
        assert cursor is not None and cursor.position == start + timedelta(hours=1)


async def test_pending_counts_by_direction_and_sub_store(session_factory: SessionFactory) -> None:
    main, sub1, sub2 = await _stores(session_factory)
    await _links(session_factory, main, sub1, 3)
    await _links(session_factory, main, sub2, 1, state=LinkState.failed)
    async with session_scope(session_factory) as session:
        session.add(
            Link(
                origin_store_id=sub2.id,
                origin_order_id=7,
                target_store_id=main.id,  # type: ignore[arg-type]
                direction=Direction.sub_to_main,
            )
        )
        session.add(
            Link(
                origin_store_id=main.id,
                origin_order_id=8,
                target_store_id=sub2.id,  # type: ignore[arg-type]
                direction=Direction.main_to_sub,
                state=LinkState.synced,
            )
        )
    async with session_scope(session_factory) as session:
        counts = await repo.pending_counts(session)
    # Main order 1000 waits for sub1 and failed on sub2: one order waiting, one failed.
    assert counts == {
        "orders": 4,
        "copies": 4,
        "total": 4,
        "orders_by_direction": {"main_to_sub": 3, "sub_to_main": 1},
        "copies_by_direction": {"main_to_sub": 3, "sub_to_main": 1},
        "main_to_sub": {"sub1": 3},
        "sub_to_main": {"sub2": 1},
        "failed": 1,
        "failed_copies": 1,
        "stores_failing": [],
    }


async def test_pending_counts_include_statuses_waiting_to_flow_back(session_factory: SessionFactory) -> None:
    main, sub1, _ = await _stores(session_factory)
    async with session_scope(session_factory) as session:
        # A main order's copy on sub1 was completed there: it waits to go back up to main.
        session.add(
            Link(
                origin_store_id=main.id,
                origin_order_id=9,
                target_store_id=sub1.id,  # type: ignore[arg-type]
                direction=Direction.main_to_sub,
                state=LinkState.synced,
                target_order_id=90,
                status_to_origin="completed",
            )
        )
    async with session_scope(session_factory) as session:
        counts = await repo.pending_counts(session)
    assert counts == {
        "orders": 1,
        "copies": 1,
        "total": 1,
        "orders_by_direction": {"main_to_sub": 0, "sub_to_main": 1},
        "copies_by_direction": {"main_to_sub": 0, "sub_to_main": 1},
        "main_to_sub": {},
        "sub_to_main": {"sub1": 1},
        "failed": 0,
        "failed_copies": 0,
        "stores_failing": [],
    }


class TestLinkPages:
    async def test_every_filter_combination_pages_like_a_plain_filter(
        self, session_factory: SessionFactory
    ) -> None:
        # Links both ways, in every state, over three stores; every page the route can ask for
        # (built once per combination of filters, values bound) against a filter in Python.
        main, sub1, sub2 = await _stores(session_factory)
        states = list(LinkState)
        async with session_scope(session_factory) as session:
            for i in range(60):
                sub = sub1 if i % 2 else sub2
                up = i % 5 == 0
                session.add(
                    Link(
                        origin_store_id=(sub.id if up else main.id),
                        origin_order_id=2000 + i,
                        target_store_id=(main.id if up else sub.id),
                        direction=Direction.sub_to_main if up else Direction.main_to_sub,
                        state=states[i % len(states)],
                    )  # type: ignore[arg-type]
                )
        async with session_scope(session_factory) as session:
            every = await repo.links_by_ids(session, list(range(1, 200)))
            every.sort(key=lambda ln: -(ln.id or 0))
            assert len(every) == 60
            combos = itertools.product(
                (None, *states), (None, *Direction), (None, main, sub1), (None, 40), ((7, 0), (5, 3))
            )
            for state, direction, store, before, (limit, offset) in combos:
                sides = {main.id, sub1.id, sub2.id} if store is None else {store.id}
                wanted = [
                    ln.id
                    for ln in every
                    if (state is None or ln.state == state)
                    and (direction is None or ln.direction == direction)
                    and sides & {ln.origin_store_id, ln.target_store_id}
                    and (before is None or (ln.id or 0) < before)
                ]
                page, total = await repo.list_links(
                    session,
                    state=state,
                    direction=direction,
                    store_id=store.id if store else None,
                    limit=limit,
                    offset=offset,
                    before=before,
                )
                what = (state, direction, store and store.name, before, limit, offset)
                assert [row.id for row in page] == wanted[offset : offset + limit], what
                if before is None:
                    assert total == len(wanted), what


class TestLinksLockedForUpdate:
    """Discovery and a push recording its result both lock the links first (chaos seeds 204 and
    216: each read the other's rows before the other committed, and an origin's edit never
    reached its copy). On SQLite too, where the driver begins a transaction only at the first
    write and FOR UPDATE does not exist."""

    async def test_a_second_locker_reads_what_the_first_committed(
        self, session_factory: SessionFactory
    ) -> None:
        main, sub1, _ = await _stores(session_factory)
        await _links(session_factory, main, sub1, 1)
        async with session_scope(session_factory) as session:
            (link,) = await repo.links_for_origins(session, main.id or 0, [1000])
            link_id = link.id or 0
        first_locked = asyncio.Event()

        async def first() -> None:
            async with session_scope(session_factory) as session:
                (row,) = await repo.links_by_ids(session, [link_id], for_update=True)
                first_locked.set()
                await asyncio.sleep(0.5)
                row.state = LinkState.synced

        async def second() -> str:
            await first_locked.wait()
            async with session_scope(session_factory) as session:
                (row,) = await repo.links_for_origins(session, main.id or 0, [1000], for_update=True)
                return str(row.state)

        _, seen = await asyncio.gather(first(), second())
        assert seen == LinkState.synced
