"""Never missed, never doubled, on any clock (issue 9): each way an order was missed or copied
twice, end to end with wcsync in process and fake stores, checked on the stores themselves."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.models import RunKind
from app.testing import FakeStore
from app.testing.exact import assert_exact_copy
from tests.e2e.support import add_in_process, in_process, make_fake

TICK = 1.1


def copies(fake: FakeStore, origin: str) -> list[dict[str, Any]]:
    return fake.find_by_meta("_wcsync_origin", origin)


async def sync(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post("/api/sync?wait=true")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_store_whose_clock_runs_behind_keeps_its_first_orders(database_url: str) -> None:
    """The main store's clock is 4 minutes behind: an order placed right after it was added reads
    as placed 4 minutes before. It is copied; one placed before the store was added is not."""
    fakes = {"main": make_fake("main", clock_skew_seconds=-240.0), "sub1": make_fake("sub1")}
    before = fakes["main"].place_order([("SKU-MUG-001", 1)])
    # Whole-second dates and the skew's bound make the second around the moment of adding
    # ambiguous; wcsync then errs towards copying. This order is clearly before it.
    await asyncio.sleep(2.5)
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await asyncio.sleep(TICK)
        after = fakes["main"].place_order([("SKU-STICKER", 2)])
        run = await sync(api)
        assert run["status"] == "succeeded", run
        (copy,) = copies(fakes["sub1"], f"main:{after['id']}")
        assert_exact_copy(after, copy, origin_store="main")
        assert copies(fakes["sub1"], f"main:{before['id']}") == []
        assert (await api.get("/api/pending")).json()["total"] == 0
        check = (await api.post("/api/stores/main/check")).json()
        assert check["clock_skew_seconds"] == pytest.approx(-240, abs=2)


async def test_a_target_far_behind_gets_no_second_copy_after_a_restart(database_url: str) -> None:
    """sub1's clock is 500 s behind, beyond the 300 s reconcile margin. The create's reply never
    comes and the process dies; after the restart the first thing to happen is a Sync Order,
    which reconciles before anything has read sub1's clock: it must measure it first."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1", clock_skew_seconds=-500.0, hang_seconds=30)}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    settings = {"store_timeout_seconds": 1.0, "reconcile_margin_seconds": 300}
    async with in_process(database_url, fakes, **settings) as (app, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        fakes["sub1"].fail_next("timeout_after_create")
        run, _ = await app.state.engine.request_run(kind=RunKind.sync_now)
        while fakes["sub1"].stats.orders_created == 0:  # the create is in, its reply hangs
            await asyncio.sleep(0.05)
        task = app.state.engine._tasks[run.id]
        task.cancel()  # the process dies here
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(1.2)  # the lost request can no longer be running
    async with in_process(database_url, fakes, **settings) as (app, api):
        response = await api.post(f"/api/orders/main/{order['id']}/sync")
        assert response.status_code == 200, response.text
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")
        events = [e["kind"] for e in (await api.get(f"/api/orders/main/{order['id']}")).json()["events"]]
        assert "adopted" in events


async def test_orders_edited_while_listed_are_all_copied(database_url: str) -> None:
    """The fake store's `edit_while_listing` knob edits an order the client has just listed
    between its page requests, as a shop admin would: with page numbers the next page's first
    order was never read (149 of 150 copied); by keyset none is missed."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    orders = [fakes["main"].place_order([("SKU-STICKER", 1)]) for _ in range(150)]
    for i, order in enumerate(orders):  # a shop's history: one order a second
        stamp = f"2026-11-01T10:{i // 60:02d}:{i % 60:02d}"
        fakes["main"].update_order_direct(order["id"], date_modified_gmt=stamp)
    fakes["main"].knobs.edit_while_listing = 1
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        run = await sync(api)
        assert run["status"] == "succeeded", run
        assert fakes["main"].stats.requests["GET /orders"] >= 3  # several pages, edits between them
        missing = [o["id"] for o in orders if len(copies(fakes["sub1"], f"main:{o['id']}")) != 1]
        assert missing == []
        fakes["main"].knobs.edit_while_listing = 0
        await sync(api)
        for order in orders:
            (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
            assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")


async def test_a_store_removed_and_added_again_gets_no_duplicates(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        first = fakes["main"].place_order([("SKU-MUG-001", 1)])
        await sync(api)
        assert (await api.delete("/api/stores/sub1")).status_code in (200, 204)
        assert [s["name"] for s in (await api.get("/api/stores")).json()] == ["main"]
        second = fakes["main"].place_order([("SKU-MUG-001", 2)])
        await sync(api)
        assert copies(fakes["sub1"], f"main:{second['id']}") == []  # removed: nothing goes there
        await add_in_process(api, fakes["sub1"], routing="all")
        run = await sync(api)
        assert run["status"] == "succeeded", run
        for order in (first, second):
            (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
            assert_exact_copy(order, copy, origin_store="main")


async def test_copies_made_by_an_earlier_installation_are_adopted_not_made_again(
    database_url: str, tmp_path: Any
) -> None:
    """A new ledger (another database), the same stores: the first create to sub1 is preceded by
    an inventory of the copies already there."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        await sync(api)
    other = f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    async with in_process(other, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        run = await sync(api)
        assert run["status"] == "succeeded", run
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")


async def test_sync_now_never_joins_a_discovery_only_run(database_url: str) -> None:
    fakes = {"main": make_fake("main", latency_base_ms=300.0), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (app, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        discovery, _ = await app.state.engine.request_run(kind=RunKind.discovery)
        await asyncio.sleep(0.1)
        run = await sync(api)
        assert run["id"] != discovery.id and run["kind"] == "sync_now"
        assert run["counts"]["created"] == 1, run
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")


async def test_sync_order_racing_a_pass_answers_and_copies_once(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        answers = await asyncio.gather(
            *(api.post(f"/api/orders/main/{order['id']}/sync") for _ in range(3)),
            api.post("/api/sync?wait=true"),
        )
        assert [a.status_code for a in answers] == [200, 200, 200, 200], [a.text for a in answers]
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")


async def test_sync_order_with_a_routed_store_down_names_it(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "tees": make_fake("tees", {"SKU-TSHIRT-RED"})}
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["tees"], routing="skus")
        order = fakes["main"].place_order([("SKU-TSHIRT-RED", 1)])
        fakes["tees"].knobs.down = True
        response = await api.post(f"/api/orders/main/{order['id']}/sync")
        assert response.status_code == 502, response.text
        assert "tees" in response.text and "did not answer" in response.text


@pytest.fixture
async def converged(database_url: str) -> AsyncIterator[tuple[dict[str, FakeStore], httpx.AsyncClient]]:
    fakes = {
        "main": make_fake("main"),
        "sub1": make_fake("sub1"),
        "tees": make_fake("tees", {"SKU-TSHIRT-RED"}),
    }
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        await add_in_process(api, fakes["tees"], routing="skus")
        for items in ([("SKU-TSHIRT-RED", 1), ("SKU-MUG-001", 2)], [("SKU-STICKER", 3)]):
            fakes["main"].place_order(items)
        fakes["sub1"].place_order([("SKU-HOODIE-L", 1)])
        await sync(api)
        await asyncio.sleep(TICK)
        await sync(api)
        yield fakes, api


async def test_a_full_sync_after_convergence_finds_no_drift_and_writes_nothing(
    converged: tuple[dict[str, FakeStore], httpx.AsyncClient],
) -> None:
    fakes, api = converged

    def writes() -> int:
        return sum(
            n for f in fakes.values() for label, n in f.stats.requests.items() if not label.startswith("GET")
        )

    before = writes()
    response = await api.post("/api/sync?wait=true", json={"mode": "full"})
    run = response.json()
    assert run["status"] == "succeeded", run
    assert {k: v for k, v in run["drift"].items() if v} == {}
    assert run["counts"]["created"] == 0 and run["counts"]["updated"] == 0
    assert writes() == before


async def test_the_badge_says_when_discovery_fails_on_every_store(
    converged: tuple[dict[str, FakeStore], httpx.AsyncClient],
) -> None:
    fakes, api = converged
    for fake in fakes.values():
        fake.knobs.down = True
    await sync(api)
    pending = (await api.get("/api/pending")).json()
    assert pending["total"] == 0
    assert sorted(pending["stores_failing"]) == ["main", "sub1", "tees"]


async def test_woocommerce_10_drafts_are_never_copied_and_a_failed_create_leaves_none(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WooCommerce 10.x keeps a `checkout-draft` behind a create that fails after its first save
    (and lists it). Such a draft is never replicated, and the one a rejected create of wcsync's
    leaves is trashed like any leftover before the order is sent again."""
    from app.sync.write import batch

    fakes = {"main": make_fake("main", wc_version="10.6"), "sub1": make_fake("sub1", wc_version="10.6")}
    mapped = batch.map_order
    broken = {"left": 1}

    def with_a_bad_coupon(*args: Any, **kwargs: Any) -> Any:
        result = mapped(*args, **kwargs)
        if broken["left"]:  # a create the store refuses after saving it
            broken["left"] -= 1
            result.payload["coupon_lines"] = [{"code": "NO-SUCH-COUPON"}]
        return result

    monkeypatch.setattr(batch, "map_order", with_a_bad_coupon)
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        draft = fakes["main"].place_order([("SKU-MUG-001", 1)], status="checkout-draft")
        order = fakes["main"].place_order([("SKU-STICKER", 1)])
        run = await sync(api)
        assert run["status"] == "partial", run
        assert copies(fakes["sub1"], f"main:{draft['id']}") == []
        (left,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert left["status"] == "trash"  # the draft the failed create left, trashed
        (link,) = (await api.get("/api/links?state=failed")).json()["items"]
        assert "NO-SUCH-COUPON" in link["last_error"]
        response = await api.post(f"/api/orders/main/{order['id']}/sync")
        assert response.status_code == 200, response.text
        live = [c for c in copies(fakes["sub1"], f"main:{order['id']}") if c["status"] != "trash"]
        assert len(live) == 1
        assert_exact_copy(order, live[0], origin_store="main")
        assert (await api.get("/api/pending")).json()["total"] == 0


async def test_a_copy_adopted_from_an_earlier_installation_is_kept_equal_to_its_origin(
    database_url: str, tmp_path: Any
) -> None:
    """Found on real stores: a new ledger takes the copies already on a store into its ledger,
    but their origins were last changed before it began, so no pass reads them. When such a copy
    is edited on its store, wcsync reads its origin then and there, instead of failing the link
    with "the origin order has not been read yet" on every pass."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        await sync(api)
    await asyncio.sleep(2.5)  # the origin's last change is now clearly before the new ledger began
    other = f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    async with in_process(other, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await sync(api)  # the inventory adopts the copy
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        fakes["sub1"].update_order_direct(copy["id"], customer_note="changed on the sub-store")
        run = await sync(api)
        assert run["status"] == "succeeded", run
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")


async def test_an_idle_pass_reads_each_store_once_and_fetches_no_body(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        fakes["main"].place_order([("SKU-MUG-001", 1)])
        await sync(api)
        await asyncio.sleep(TICK)
        await sync(api)  # the order, still in the overlap, is read again after its second: settled
        before = {name: dict(f.stats.requests) for name, f in fakes.items()}
        await sync(api)
        for name, fake in fakes.items():
            sent = {k: v - before[name].get(k, 0) for k, v in fake.stats.requests.items()}
            assert {k: v for k, v in sent.items() if v} == {"GET /orders": 1}, (name, sent)


async def test_a_ledger_restored_from_a_backup_makes_no_second_copy(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database restored from a backup taken before a copy was made: after `wcsync ledger
    restored`, the copy made since is adopted, not made again. (SQLite: the backup is the file.)"""
    from app import cli
    from app.config import get_settings

    database, backup = tmp_path / "w.db", tmp_path / "backup.db"
    url = f"sqlite+aiosqlite:///{database}"
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        first = fakes["main"].place_order([("SKU-MUG-001", 1)])
        await sync(api)
    shutil.copy(database, backup)  # the nightly backup: it knows the first order's copy only
    async with in_process(url, fakes) as (_, api):
        second = fakes["main"].place_order([("SKU-MUG-001", 2)])
        await sync(api)
        (made,) = copies(fakes["sub1"], f"main:{second['id']}")
    shutil.copy(backup, database)  # restored

    monkeypatch.setenv("WCSYNC_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(cli.main, ["ledger", "restored"]) == 0
    finally:
        get_settings.cache_clear()

    async with in_process(url, fakes) as (_, api):
        third = fakes["main"].place_order([("SKU-MUG-001", 3)])
        run = await sync(api)
        assert run["status"] == "succeeded", run
        for order in (first, second, third):
            (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
            assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")
        assert copies(fakes["sub1"], f"main:{second['id']}")[0]["id"] == made["id"]
        history = (await api.get(f"/api/orders/main/{second['id']}")).json()
        assert "adopted" in str(history), history
