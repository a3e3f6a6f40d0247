"""The background schedule, Sync Now coalescing, and the CLI against a running service."""

from __future__ import annotations

import asyncio

import pytest

from app import cli
from app.db import create_engine, is_sqlite
from app.scheduler import LEADER_LOCK_KEY, LeaderLock
from tests.e2e.support import TOKEN, make_fake, stack
from tests.pglocks import cut_lock_holder
from tests.waiting import until


async def test_the_schedule_replicates_without_anyone_pressing_sync(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with stack(
        database_url, fakes, scheduler_enabled=True, replicate_interval_seconds=1, discover_interval_seconds=1
    ) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        await until(
            lambda: s.replicas("sub1", f"main:{order['id']}"), "the schedule to copy the order to sub1"
        )
        s.exact("main", order["id"], "sub1")
        runs = (await s.api.get("/api/runs")).json()
        assert {r["kind"] for r in runs} <= {"scheduled", "discovery"} and runs


async def test_two_sync_now_clicks_share_one_pass(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1", latency_base_ms=200)}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        first, second = await asyncio.gather(s.api.post("/api/sync"), s.api.post("/api/sync"))
        assert first.status_code == second.status_code == 202
        assert first.json()["run_id"] == second.json()["run_id"]
        assert [first.json()["new"], second.json()["new"]].count(True) == 1
        run = (await s.api.post("/api/sync?wait=true")).json()
        s.exact("main", order["id"], "sub1")
        assert run["status"] == "succeeded"


async def test_leader_lock_lets_one_process_schedule(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite is one process: it always leads (asserted in the next test)")
    one, two = create_engine(database_url), create_engine(database_url)
    first, second = LeaderLock(one, database_url), LeaderLock(two, database_url)
    try:
        assert await first.is_leader() is True
        assert await second.is_leader() is False
        await first.release()
        assert await second.is_leader() is True
    finally:
        await first.release()
        await second.release()
        await one.dispose()
        await two.dispose()


async def test_a_leader_whose_connection_was_cut_leads_again(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("SQLite is one process: it always leads")
    one, two = create_engine(database_url), create_engine(database_url)
    first, second = LeaderLock(one, database_url), LeaderLock(two, database_url)
    try:
        assert await first.is_leader() is True
        await cut_lock_holder(two, LEADER_LOCK_KEY)
        assert await second.is_leader() is True  # the lock went with the connection
        assert await first.is_leader() is False
        await second.release()
        assert await first.is_leader() is True
    finally:
        await first.release()
        await second.release()
        await one.dispose()
        await two.dispose()


async def test_sqlite_always_leads(tmp_path: object) -> None:
    url = "sqlite+aiosqlite:///:memory:"
    assert await LeaderLock(create_engine(url), url).is_leader() is True


async def test_cli_sync_wait_and_status(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
        url = str(s.api.base_url)
        code = await asyncio.to_thread(cli.main, ["sync", "--wait", "--url", url])
        out = capsys.readouterr()
        assert code == 0 and "succeeded: created 1" in out.out
        assert "1/1" in out.err  # the progress bar
        s.exact("main", order["id"], "sub1")
        assert await asyncio.to_thread(cli.main, ["status", "--url", url]) == 0
        out = capsys.readouterr().out
        assert "pending: 0   failed: 0" in out and "succeeded" in out
        monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", "wrong")
        assert await asyncio.to_thread(cli.main, ["status", "--url", url]) == 2
        assert "401" in capsys.readouterr().err


def test_progress_bar() -> None:
    assert cli.progress_bar(5, 10, width=10) == "[#####.....] 5/10"
    assert cli.progress_bar(0, 0, width=4) == "[....] 0/0"  # nothing to do is not "all done"


async def test_cli_store_add_list_check_remove(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = {"sub1": make_fake("sub1")}
    async with stack(database_url, fakes) as s:
        monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
        monkeypatch.setenv("WCSYNC_STORE_SECRET", fakes["sub1"].consumer_secret)
        url = str(s.api.base_url)

        def run(*argv: str) -> int:
            return cli.main([*argv, "--url", url])

        assert (
            await asyncio.to_thread(
                run,
                "store",
                "add",
                "sub1",
                "--role",
                "sub",
                "--base-url",
                s.urls["sub1"],
                "--consumer-key",
                fakes["sub1"].consumer_key,
                "--auth-mode",
                "basic",
            )
            == 0
        )
        assert "added sub store sub1" in capsys.readouterr().out
        assert await asyncio.to_thread(run, "store", "list") == 0
        listed = capsys.readouterr().out
        assert "sub1" in listed and fakes["sub1"].consumer_secret not in listed
        assert await asyncio.to_thread(run, "store", "check", "sub1") == 0
        checked = capsys.readouterr().out
        assert "ok   read" in checked and "ok   write" in checked
        assert await asyncio.to_thread(run, "store", "remove", "sub1") == 0
        assert await asyncio.to_thread(run, "store", "check", "sub1") == 2
        assert "No store named 'sub1'" in capsys.readouterr().err
