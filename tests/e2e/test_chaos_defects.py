"""Defects the chaos suite (bench/chaos.py) found, each pinned end to end with wcsync in process
and fake stores, checked on the stores themselves."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app.db import session_scope
from app.models import Direction, LinkState, utcnow
from app.sync import repository as repo
from app.sync.discover.listing import discover_one, discover_source
from app.sync.write import replicate as replicate_module
from app.sync.write.batch import load_claimed
from app.sync.write.replicate import push_batch
from app.testing.exact import assert_exact_copy
from tests.e2e.support import add_in_process, in_process, make_fake


def copies(fake: Any, origin: str) -> list[dict[str, Any]]:
    return list(fake.find_by_meta("_wcsync_origin", origin))


async def discovered_and_claimed(ctx: Any, *, lease_seconds: int) -> tuple[Any, Any, list[int], Any]:
    """Discovery of main's orders, then sub1's due links claimed and mapped as a worker does:
    (main, sub1, the link ids, what push_batch takes as `claimed`)."""
    async with session_scope(ctx.session_factory) as session:
        main = await repo.get_store(session, "main")
        sub1 = await repo.get_store(session, "sub1")
    await discover_source(ctx, main, Direction.main_to_sub, run_id=None)
    async with session_scope(ctx.session_factory) as session:
        ids = await repo.claim_due_links(
            session,
            target_store_id=sub1.id or 0,
            direction=Direction.main_to_sub,
            limit=10,
            owner=ctx.owner,
            lease_seconds=lease_seconds,
            now=utcnow(),
        )
        claimed = await load_claimed(session, ids)
    return main, sub1, ids, claimed


async def test_an_edit_in_the_same_second_read_during_the_create_is_copied(database_url: str) -> None:
    """The order is claimed and mapped; while its create is out, the shop edits it within the same
    second (same `date_modified_gmt`) and wcsync reads that version. The create's result must not
    mark the link synced to the version it did not send: the edit would never reach the copy
    (chaos seeds 204, 205: an address changed on the origin, the copy kept the old one)."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (app, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await asyncio.sleep(1.1)
        ctx = app.state.engine.ctx
        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        main, sub1, ids, claimed = await discovered_and_claimed(ctx, lease_seconds=60)
        assert len(ids) == 1
        # The edit, in the second the order was created (WooCommerce dates have whole seconds).
        edited = fakes["main"].update_order_direct(
            order["id"],
            shipping={"address_1": "19 Main Street"},
            date_modified_gmt=order["date_modified_gmt"],
        )
        assert edited["date_modified_gmt"] == order["date_modified_gmt"]
        body = await ctx.clients.get(main).get_order(order["id"])
        await discover_one(ctx, main, body, run_id=None)
        await push_batch(ctx, sub1, ids, run_id=None, claimed=claimed)
        async with session_scope(ctx.session_factory) as session:
            (link,) = await repo.links_by_ids(session, ids)
        assert link.state == LinkState.pending, "synced to a version it did not send"
        response = await api.post("/api/sync?wait=true")
        assert response.status_code == 200, response.text
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")


async def test_a_copy_adopted_after_a_lost_reply_is_made_equal_and_sends_no_status_back(
    database_url: str,
) -> None:
    """The order is claimed and mapped, then the origin moves on to `completed` and wcsync reads
    that; the create (of the version mapped before) is made but its reply is lost. Reconciliation
    adopts the copy: it must be read and made equal, and its status (wcsync's own write, newer
    than the origin's change) must not be taken for one set on its store and written back over
    the origin's."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes, store_timeout_seconds=1.0, lease_seconds=2) as (app, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await asyncio.sleep(1.1)
        ctx = app.state.engine.ctx
        order = fakes["main"].place_order([("SKU-MUG-001", 2)])
        main, sub1, ids, claimed = await discovered_and_claimed(ctx, lease_seconds=2)
        await asyncio.sleep(1.1)
        fakes["main"].update_order_direct(order["id"], status="completed")
        body = await ctx.clients.get(main).get_order(order["id"])
        await discover_one(ctx, main, body, run_id=None)
        await asyncio.sleep(1.1)  # the copy is made a second after the origin's change
        fakes["sub1"].fail_next("drop_after_create")
        await push_batch(ctx, sub1, ids, run_id=None, claimed=claimed)
        (made,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert made["status"] == "processing"  # the version that was sent
        await asyncio.sleep(2.5)  # the lease and the store timeout are over: it is reconciled
        for _ in range(3):
            response = await api.post("/api/sync?wait=true")
            assert response.status_code == 200, response.text
        assert fakes["main"].orders[order["id"]]["status"] == "completed"
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")


async def test_a_crash_between_a_copy_and_its_refunds_leaves_them_owed(database_url: str) -> None:
    """The origin is refunded before it is first copied. The copy is made and recorded; the
    process dies before the refund is copied to it (chaos seed 406). The link must not read as
    done: once its lease is over, the next pass copies the refund."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes, store_timeout_seconds=1.0, lease_seconds=2) as (app, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await asyncio.sleep(1.1)
        ctx = app.state.engine.ctx
        order = fakes["main"].place_order([("SKU-MUG-001", 2)])
        fakes["main"].state.create_refund(order["id"], {"amount": "5.00", "api_refund": False})
        main, sub1, ids, claimed = await discovered_and_claimed(ctx, lease_seconds=2)

        async def crash(*args: Any, **kwargs: Any) -> Any:
            raise asyncio.CancelledError  # the process dies here

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(replicate_module, "copy_refunds", crash)
            with pytest.raises(asyncio.CancelledError):
                await push_batch(ctx, sub1, ids, run_id=None, claimed=claimed)
        (made,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert made["refunds"] == []
        async with session_scope(ctx.session_factory) as session:
            (link,) = await repo.links_by_ids(session, ids)
        assert link.state != LinkState.synced, "done, with a refund still to copy"
        await asyncio.sleep(2.5)  # the lease is over
        response = await api.post("/api/sync?wait=true")
        assert response.status_code == 200, response.text
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")
        assert (await api.get("/api/pending")).json()["copies"] == 0


async def test_a_full_copy_refunded_in_full_follows_its_origins_status(database_url: str) -> None:
    """The origin is refunded in full (both sides read `refunded`), then its admin sets it back to
    `completed`. A full copy follows its origin's status; only a partial copy whose every line
    was refunded stays `refunded`."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main")
        await add_in_process(api, fakes["sub1"])
        await asyncio.sleep(1.1)
        order = fakes["main"].place_order([("SKU-MUG-001", 2)])
        assert (await api.post("/api/sync?wait=true")).status_code == 200
        fakes["main"].state.create_refund(order["id"], {"amount": order["total"], "api_refund": False})
        await asyncio.sleep(1.1)
        assert (await api.post("/api/sync?wait=true")).status_code == 200
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert copy["status"] == "refunded"
        await asyncio.sleep(1.1)
        fakes["main"].update_order_direct(order["id"], status="completed")
        assert (await api.post("/api/sync?wait=true")).status_code == 200
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")


async def test_a_full_sync_of_a_store_brought_back_copies_what_was_placed_while_it_was_away(
    database_url: str,
) -> None:
    """sub1 is removed; an order placed meanwhile is read (no other store takes it: sub2 sells
    none of its SKUs) and recorded with no link. sub1 comes back, and a Full sync of sub1 over
    that window must copy the order there, though its version is one wcsync already holds
    (chaos seed 2055)."""
    fakes = {
        "main": make_fake("main"),
        "sub1": make_fake("sub1"),
        "sub2": make_fake("sub2", skus={"SKU-MUG-001"}),
    }
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, fakes["main"], role="main")
        body = await add_in_process(api, fakes["sub1"])
        await add_in_process(api, fakes["sub2"], routing="skus")
        await asyncio.sleep(1.1)
        assert (await api.delete("/api/stores/sub1")).status_code == 204
        order = fakes["main"].place_order([("SKU-STICKER", 2)])
        assert (await api.post("/api/sync?wait=true")).status_code == 200
        await add_in_process(api, fakes["sub1"], backfill_since=body["backfill_since"])
        since = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = await api.post(
            "/api/sync?wait=true", json={"mode": "full", "store": "sub1", "since": since}
        )
        assert response.status_code == 200, response.text
        (copy,) = copies(fakes["sub1"], f"main:{order['id']}")
        assert_exact_copy(fakes["main"].orders[order["id"]], copy, origin_store="main")
        assert copies(fakes["sub2"], f"main:{order['id']}") == []
