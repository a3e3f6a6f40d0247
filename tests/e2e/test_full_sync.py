"""Full sync end to end: it repairs what Smart sync cannot see, reports each kind of drift,
and continues an interrupted walk instead of restarting it."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from app.db import create_engine, session_scope
from app.models import Run, RunKind, RunStatus
from app.sync.runs.liveness import ProcessMark
from app.testing import FakeStore
from tests.e2e.support import add_in_process, in_process, make_fake, stack
from tests.waiting import until


async def test_full_sync_repairs_a_deleted_replica_and_a_drifted_status(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(3)]
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.sync()
        deleted = s.replicas("sub1", f"main:{orders[0]['id']}")[0]
        drifted = s.replicas("sub1", f"main:{orders[1]['id']}")[0]
        async with fakes["sub1"].client() as sub1:
            response = await sub1.delete(f"/wp-json/wc/v3/orders/{deleted['id']}", params={"force": "true"})
            assert response.status_code == 200
        # A status changed under an old modified date (a restored backup, say): nothing a Smart
        # pass can see.
        fakes["sub1"].update_order_direct(
            drifted["id"], status="cancelled", date_modified_gmt="2026-01-01T00:00:00"
        )
        smart = await s.sync()
        assert smart["counts"]["created"] == 0 and smart["counts"]["updated"] == 0

        full = await s.sync(mode="full")
        assert full["status"] == "succeeded", full
        assert full["drift"]["replica_missing"] == 1
        assert full["drift"]["status_drift"] == 1
        assert full["counts"]["created"] == 1 and full["counts"]["updated"] == 1
        s.exact("main", orders[0]["id"], "sub1")
        assert s.exact("main", orders[1]["id"], "sub1")["status"] == "processing"
        assert full["progress"]["done"] >= full["progress"]["total"] > 0

        again = await s.sync(mode="full")
        assert {k: v for k, v in again["drift"].items() if v} == {}
        assert again["counts"]["created"] == 0 and again["counts"]["updated"] == 0


async def test_full_sync_adopts_a_replica_the_ledger_does_not_know(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    # A replica made by an earlier installation, or by a create whose answer was lost.
    fakes["sub1"].place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": f"main:{order['id']}"})
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        full = await s.sync(mode="full")
        assert full["drift"]["unlinked_replica_adopted"] == 1, full
        s.exact("main", order["id"], "sub1")


async def test_an_interrupted_full_sync_continues_where_it_stopped(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(150)]
    async with stack(database_url, fakes, origin_note=False) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        # A walk that a crash stopped after the main store's first page of 100.
        async with session_scope(s.app.state.session_factory) as session:
            interrupted = Run(
                kind="sync_now",
                direction="main_to_sub",
                mode="full",
                status=RunStatus.failed,
                details={"walk": {"origin:main_to_sub:main": 1}},
            )
            session.add(interrupted)
            await session.flush()
            interrupted_id = interrupted.id
        listed_before = fakes["main"].stats.requests["GET /orders"]
        run = await s.sync(mode="full", direction="main_to_sub")
        assert fakes["main"].stats.requests["GET /orders"] - listed_before == 1  # page 2 only
        runs = (await s.api.get("/api/runs")).json()
        assert run["status"] == "succeeded"
        assert [r["id"] for r in runs if r["id"] == run["id"]]
        async with session_scope(s.app.state.session_factory) as session:
            resumed = await session.get(Run, run["id"])
            assert resumed is not None and resumed.details["resumed_from"] == interrupted_id
            old = await session.get(Run, interrupted_id)
            assert old is not None and old.status == RunStatus.failed
        # Only the second page's 50 orders were walked, so only they were replicated.
        assert run["counts"]["created"] == 50
        for o in orders[100:]:
            s.exact("main", o["id"], "sub1")


async def test_full_sync_since_a_date_copies_orders_from_before_the_connection(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    old = fakes["main"].place_order([("SKU-MUG-001", 1)])
    fakes["main"].update_order_direct(old["id"], date_created_gmt="2026-03-01T10:00:00")
    older = fakes["main"].place_order([("SKU-MUG-001", 1)])
    fakes["main"].update_order_direct(older["id"], date_created_gmt="2025-03-01T10:00:00")
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", backfill=False)
        await s.add_store("sub1", backfill=False)
        assert (await s.sync(mode="full"))["counts"]["created"] == 0  # the store's window only
        run = await s.sync(mode="full", since="2026-01-01T00:00:00Z")
        assert run["counts"]["created"] == 1
        s.exact("main", old["id"], "sub1")
        assert s.replicas("sub1", f"main:{older['id']}") == []


async def test_full_sync_on_first_connection_when_asked(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", backfill=False)
        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        fake = fakes["sub1"]
        response = await s.api.post(
            "/api/stores",
            json={
                "name": "sub1",
                "role": "sub",
                "base_url": s.urls["sub1"],
                "consumer_key": fake.consumer_key,
                "consumer_secret": fake.consumer_secret,
                "auth_mode": "basic",
                "full_sync": True,
            },
        )
        assert response.status_code == 201, response.text
        run_id = response.json()["full_sync_run_id"]

        async def ended() -> dict[str, Any] | None:
            run = dict((await s.api.get(f"/api/runs/{run_id}")).json())
            return run if run["status"] not in ("queued", "running") else None

        run = await until(ended, f"the Full sync started with the store (run {run_id}) to end")
        assert run["mode"] == "full" and run["status"] == "succeeded" and run["store"] == "sub1", run
        s.exact("main", order["id"], "sub1")


async def _copies_by_an_earlier_ledger(
    fakes: dict[str, FakeStore], tmp_path: Any, count: int
) -> list[dict[str, Any]]:
    """Orders of March whose copies an earlier installation made (its ledger then lost)."""
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(count)]
    async with in_process(f"sqlite+aiosqlite:///{tmp_path / 'earlier.db'}", fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        assert (await api.post("/api/sync?wait=true")).json()["counts"]["created"] == count
    for order in orders:
        fakes["main"].update_order_direct(order["id"], date_created_gmt="2026-03-01T10:00:00")
        for copy in fakes["sub1"].find_by_meta("_wcsync_origin", f"main:{order['id']}"):
            fakes["sub1"].update_order_direct(copy["id"], date_created_gmt="2026-03-01T10:00:05")
    return orders


async def test_a_full_sync_since_a_date_on_a_fresh_ledger_makes_no_second_copy(
    database_url: str, tmp_path: Any
) -> None:
    """Issue 15, 1: a fresh ledger adopts the copies already on the stores; a Full sync whose
    `since` is later than those orders (and their copies) must not take the copies outside its
    window for missing ones."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    orders = await _copies_by_an_earlier_ledger(fakes, tmp_path, 3)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")  # backfill since 2020: the inventory reaches March
        await s.add_store("sub1")
        await s.sync()
        full = await s.sync(mode="full", since="2026-06-01T00:00:00Z")
        assert full["status"] == "succeeded", full
        assert full["counts"]["created"] == 0, full
        assert not full["drift"].get("replica_missing"), full
        for order in orders:
            s.exact("main", order["id"], "sub1")
        again = await s.sync(mode="full")  # the whole stores: still one copy each, all known
        assert again["counts"]["created"] == 0, again
        for order in orders:
            s.exact("main", order["id"], "sub1")


async def test_copies_older_than_the_inventory_are_found_before_any_create(
    database_url: str, tmp_path: Any
) -> None:
    """A fresh ledger whose stores were added without a backfill: its inventory looked at the
    last day only. A Sync Order of a March origin, then a Full sync since January, reach
    origins older than that: their copies are found and adopted before anything is created."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    orders = await _copies_by_an_earlier_ledger(fakes, tmp_path, 2)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", backfill=False)
        await s.add_store("sub1", backfill=False)
        await s.sync()
        response = await s.api.post(f"/api/orders/main/{orders[0]['id']}/sync")
        assert response.status_code == 200, response.text
        s.exact("main", orders[0]["id"], "sub1")
        full = await s.sync(mode="full", since="2026-01-01T00:00:00Z")
        assert full["status"] == "succeeded", full
        assert full["counts"]["created"] == 0, full
        for order in orders:
            s.exact("main", order["id"], "sub1")
        fresh = fakes["main"].place_order([("SKU-MUG-001", 2)])
        assert (await s.sync())["counts"]["created"] == 1
        s.exact("main", fresh["id"], "sub1")
        for order in orders:
            s.exact("main", order["id"], "sub1")


async def test_a_full_sync_of_a_process_that_died_is_continued_by_the_one_alive(database_url: str) -> None:
    """Issue 15, 2: a store re-added with `full_sync`, the process running it killed. The
    process that survives finds the run orphaned on its next pass (the scheduler's discovery)
    and continues it: every copy made once, equal to its origin."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    before = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(2)]
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.sync()
        later = [fakes["main"].place_order([("SKU-TSHIRT-RED", 2)]) for _ in range(3)]
        # The other process: alive (its mark held) while it starts the Full sync, then killed.
        db = create_engine(database_url)
        other = ProcessMark(db, database_url)
        try:
            await other.hold()
            async with session_scope(s.app.state.session_factory) as session:
                dead = Run(
                    kind="sync_now",
                    direction="both",
                    store_name="sub1",
                    mode="full",
                    status=RunStatus.running,
                    owner=other.owner,
                    details={"walk": {}},
                )
                session.add(dead)
                await session.flush()
                dead_id = dead.id
            await other.release()  # kill -9: its connection, and so its mark, are gone
        finally:
            await db.dispose()
        engine = s.app.state.engine
        discovery, _ = await engine.request_run(kind=RunKind.discovery)  # the scheduler's next tick
        await engine.wait(discovery.id or 0, 60)
        resumed: Run | None = None
        # The continuation starts in the background: wait for it, generously (a loaded machine).
        deadline = asyncio.get_running_loop().time() + 180
        while asyncio.get_running_loop().time() < deadline:
            async with session_scope(s.app.state.session_factory) as session:
                runs = (await session.exec(select(Run).where(Run.mode == "full"))).all()
            resumed = next((r for r in runs if (r.details or {}).get("resumed_from") == dead_id), None)
            if resumed is not None:
                break
            await asyncio.sleep(0.05)
        assert resumed is not None, "the dead process's Full sync was never continued"
        finished = await engine.wait(resumed.id or 0, 120)
        assert finished.status == RunStatus.succeeded, finished.errors
        async with session_scope(s.app.state.session_factory) as session:
            assert (await session.get(Run, dead_id)).status == RunStatus.failed  # type: ignore[union-attr]
        for order in before + later:
            s.exact("main", order["id"], "sub1")
        assert (await s.sync())["counts"]["created"] == 0


async def test_copies_of_a_store_added_after_the_inventory_are_adopted_not_made_again(
    database_url: str, tmp_path: Any
) -> None:
    """Found by the chaos suite (fresh-ledger trials): the main store's inventory was taken
    before sub2 was added, so the copies of sub2's orders on main were passed over (their origin
    store unknown then); sub2's orders, read once it was added, were then copied again."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1"), "sub2": make_fake("sub2")}
    order = fakes["sub2"].place_order([("SKU-MUG-001", 2)])
    async with in_process(f"sqlite+aiosqlite:///{tmp_path / 'earlier.db'}", fakes) as (_, api):
        for name in ("main", "sub1", "sub2"):
            role = "main" if name == "main" else "sub"
            await add_in_process(api, fakes[name], role=role, backfill_since="2020-01-01T00:00:00Z")
        assert (await api.post("/api/sync?wait=true")).json()["counts"]["created"] == 1
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        fakes["sub1"].place_order([("SKU-MUG-001", 1)])
        await s.sync()  # a copy to main: main's inventory is taken, sub2 still unknown
        await s.add_store("sub2")
        run = await s.sync()
        assert run["status"] == "succeeded", run
        s.exact("sub2", order["id"], "main")
        full = await s.sync(mode="full")
        assert full["counts"]["created"] == 0, full
        s.exact("sub2", order["id"], "main")
