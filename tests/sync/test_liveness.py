"""Runs left queued or running by a wcsync process that died are settled as failed, with a
reason, and never block the next pass; runs of live processes are left alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.config import Settings
from app.db import create_engine, is_sqlite, make_session_factory, session_scope
from app.models import Run, RunKind, RunStatus, utcnow
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.runs import liveness
from app.sync.runs.engine import SyncEngine
from app.sync.runs.liveness import ProcessMark
from tests.pglocks import cut_lock_holder
from tests.waiting import within


@asynccontextmanager
async def process(database_url: str) -> AsyncIterator[SyncEngine]:
    """One wcsync process's engine (no stores, so its passes have nothing to do)."""
    db = create_engine(database_url)
    settings = Settings(database_url=database_url, scheduler_enabled=False)
    engine = SyncEngine(
        make_session_factory(db),
        ClientRegistry(timeout=5, max_concurrency=1),
        settings,
        mark=ProcessMark(db, database_url),
    )
    await engine.startup()
    try:
        yield engine
    finally:
        await engine.shutdown()
        await db.dispose()


async def put_run(engine: SyncEngine, **values: Any) -> int:
    async with session_scope(engine.ctx.session_factory) as session:
        run = Run(**{"kind": RunKind.sync_now, "direction": "both", "status": RunStatus.running, **values})
        session.add(run)
        await session.flush()
        assert run.id is not None
        return run.id


async def get_run(engine: SyncEngine, run_id: int) -> Run:
    async with session_scope(engine.ctx.session_factory) as session:
        return await repo.get_run(session, run_id)


async def test_startup_settles_runs_of_dead_processes_and_continues_a_full_sync(database_url: str) -> None:
    async with process(database_url) as before:
        dead = await put_run(before, owner=424242, started_at=utcnow())
        walk = {"walk": {"main": {"page": 3}}, "drift": {"missing": 2}}
        full = await put_run(before, owner=None, mode="full", details=walk, status=RunStatus.queued)
        # `before` ends like a killed process would: its runs stay as they are.
    async with process(database_url) as after:
        settled = await get_run(after, dead)
        assert settled.status == RunStatus.failed
        assert settled.finished_at is not None
        assert "process running this pass stopped" in settled.errors[-1]["message"]
        assert (await get_run(after, full)).status == RunStatus.failed
        async with session_scope(after.ctx.session_factory) as session:
            runs = await repo.list_runs(session, limit=10, offset=0)
        resumed = [r for r in runs if r.details.get("resumed_from") == full]
        assert len(resumed) == 1, [r.details for r in runs]
        assert resumed[0].details["walk"] == walk["walk"]
        assert resumed[0].owner == after._mark.owner
        assert (await after.wait(resumed[0].id or 0, 30)).status == RunStatus.succeeded


async def test_an_orphan_found_while_running_does_not_block_sync_now(database_url: str) -> None:
    async with process(database_url) as engine:
        orphan = await put_run(engine, owner=777)  # a process that is gone
        run, new = await engine.request_run(kind=RunKind.sync_now)
        assert new is True
        assert run.id != orphan
        assert (await get_run(engine, orphan)).status == RunStatus.failed
        assert (await engine.wait(run.id or 0, 30)).status == RunStatus.succeeded


async def test_a_run_of_ours_whose_task_is_gone_is_settled(database_url: str) -> None:
    """A run this process owns but no longer runs (its last write failed, say) must not hold
    every later Sync Now back as 'already running'."""
    async with process(database_url) as engine:
        stuck = await put_run(engine, owner=engine._mark.owner)
        run, new = await engine.request_run(kind=RunKind.sync_now)
        assert new is True and run.id != stuck
        assert (await get_run(engine, stuck)).status == RunStatus.failed


async def test_runs_of_a_live_process_are_shared_then_settled_when_it_dies(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite serves one process: every other owner is dead (asserted above)")
    async with process(database_url) as one, process(database_url) as two:
        assert one._mark.owner != two._mark.owner
        # `one` is running a pass: `two` is asked for the same pass and joins it.
        busy = await put_run(one, owner=one._mark.owner, started_at=utcnow())
        one._inline.add(busy)
        run, new = await two.request_run(kind=RunKind.sync_now)
        assert (run.id, new) == (busy, False)
        assert (await get_run(two, busy)).status == RunStatus.running
        waiter = asyncio.create_task(two.wait(busy, 10, poll=0.05))
        await asyncio.sleep(0.2)
        assert not waiter.done()
        async with session_scope(one.ctx.session_factory) as session:
            (await repo.get_run(session, busy)).status = RunStatus.succeeded
        assert (await waiter).status == RunStatus.succeeded

        # `one` starts another pass and dies: its lock goes with its connection.
        left = await put_run(one, owner=one._mark.owner, started_at=utcnow())
        one._inline.add(left)
        waiter = asyncio.create_task(two.wait(left, 10, poll=0.05))
        await one._mark.release()
        assert (await waiter).status == RunStatus.failed
        run, new = await two.request_run(kind=RunKind.sync_now)
        assert new is True and run.id not in (busy, left)
        assert (await two.wait(run.id or 0, 30)).status == RunStatus.succeeded


async def test_a_process_that_draws_a_taken_key_draws_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite takes no lock")
    keys = iter([5, 5, 6])
    monkeypatch.setattr(liveness, "_new_key", lambda: next(keys))
    one_db, two_db = create_engine(database_url), create_engine(database_url)
    one, two = ProcessMark(one_db, database_url), ProcessMark(two_db, database_url)
    try:
        await one.hold()
        await two.hold()
        assert (one.owner, two.owner) == (5, 6)
        async with session_scope(make_session_factory(one_db)) as session:
            assert await one.live_owners(session) == {5, 6}
        await two.release()
        async with session_scope(make_session_factory(one_db)) as session:
            assert await one.live_owners(session) == {5}
    finally:
        await one.release()
        await two.release()
        await one_db.dispose()
        await two_db.dispose()


async def test_a_mark_whose_connection_was_cut_takes_its_lock_again(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite takes no lock")
    db = create_engine(database_url)
    mark = ProcessMark(db, database_url)
    try:
        await mark.hold()
        await cut_lock_holder(db, liveness.PROCESS_LOCK_NAMESPACE, mark.owner)
        async with session_scope(make_session_factory(db)) as session:
            assert mark.owner in await mark.live_owners(session)
            rows = await (await session.connection()).execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key"),
                {"key": mark.owner},
            )
            assert rows.scalar() == 1
    finally:
        await mark.release()
        await db.dispose()


async def test_an_orphan_another_process_is_settling_is_left_to_it(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite serves one process")
    async with process(database_url) as engine:
        orphan = await put_run(engine, owner=31337, mode="full", details={"walk": {}})
        factory = engine.ctx.session_factory
        async with session_scope(factory) as other:  # another process, mid-way through settling it
            await other.exec(select(Run).where(Run.id == orphan).with_for_update())
            # The other session holds its lock until this block ends: waiting on it would never end.
            run, new = await within(engine.request_run(kind=RunKind.sync_now), "Sync Now beside a locked run")
            assert new is True
            assert (await get_run(engine, orphan)).status == RunStatus.running
        await engine.wait(run.id or 0, 30)
        again, _ = await engine.request_run(kind=RunKind.sync_now)
        assert (await get_run(engine, orphan)).status == RunStatus.failed
        await engine.wait(again.id or 0, 30)
