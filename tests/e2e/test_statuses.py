"""Order statuses a plugin registers (wc-shipped, wc-awaiting-pickup), end to end over fake stores
that register them as real ones do (tests/real/test_statuses.py checks the same on real
WooCommerce): an origin moved to one is seen, copied where the target has it, mapped or failed in
words where it lacks it; a copy moved to one goes back to its origin."""

from __future__ import annotations

import asyncio
from typing import Any

from app.testing import FakeStore
from app.testing.exact import assert_exact_copy
from tests.e2e.support import Stack, make_fake, stack

TICK = 1.1
PLUGIN = "shipped=Shipped,awaiting-pickup=Awaiting pickup"


def shop() -> dict[str, FakeStore]:
    """main and sub1 register both statuses; sub2 only awaiting-pickup."""
    return {
        "main": make_fake("main", extra_statuses=PLUGIN),
        "sub1": make_fake("sub1", extra_statuses=PLUGIN),
        "sub2": make_fake("sub2", extra_statuses="awaiting-pickup=Awaiting pickup"),
    }


async def replicated(s: Stack) -> dict[str, Any]:
    await s.add_store("main", role="main")
    await s.add_store("sub1")
    await s.add_store("sub2")
    order = s.fakes["main"].place_order([("SKU-MUG-001", 2)])
    run = await s.sync()
    assert run["status"] == "succeeded", run
    await asyncio.sleep(TICK)
    return order


async def link_to(s: Stack, store: str, order_id: int, target: str) -> dict[str, Any]:
    view = (await s.api.get(f"/api/orders/{store}/{order_id}")).json()
    return next(ln for ln in view["links"] if ln["target"]["store"] == target)


def copy_on(s: Stack, target: str, origin: str) -> dict[str, Any]:
    copies = s.replicas(target, origin)
    assert len(copies) == 1, copies
    return copies[0]


async def test_an_origin_moved_to_a_plugins_status_reaches_its_copies(database_url: str) -> None:
    async with stack(database_url, shop()) as s:
        order = await replicated(s)
        main = s.fakes["main"]
        main.update_order_direct(order["id"], status="shipped")
        run = await s.sync()
        # sub1 has the status: an exact copy, status included.
        s.exact("main", order["id"], "sub1")
        # sub2 lacks it: nothing is written there (a batch would make it `pending`), and the link
        # says which status and what to do.
        assert copy_on(s, "sub2", f"main:{order['id']}")["status"] == "processing"
        link = await link_to(s, "main", order["id"], "sub2")
        assert link["state"] == "failed", link
        assert "no order status 'shipped'" in link["last_error"]
        assert "WCSYNC_STATUS_MAP" in link["last_error"]
        assert run["status"] == "partial", run
        # A status both have goes everywhere.
        await asyncio.sleep(TICK)
        main.update_order_direct(order["id"], status="awaiting-pickup")
        await s.sync()
        for target in ("sub1", "sub2"):
            s.exact("main", order["id"], target)


async def test_the_status_map_writes_what_the_target_has(database_url: str) -> None:
    async with stack(database_url, shop(), status_map="sub2:shipped=completed") as s:
        order = await replicated(s)
        s.fakes["main"].update_order_direct(order["id"], status="shipped")
        run = await s.sync()
        assert run["status"] == "succeeded", run
        s.exact("main", order["id"], "sub1")
        copy = copy_on(s, "sub2", f"main:{order['id']}")
        assert_exact_copy(s.fakes["main"].orders[order["id"]], copy, origin_store="main", check_status=False)
        assert copy["status"] == "completed"
        # Planned again: nothing to write (the map is applied the same way every time).
        before = copy["date_modified_gmt"]
        await asyncio.sleep(TICK)
        await s.sync()
        assert copy_on(s, "sub2", f"main:{order['id']}")["date_modified_gmt"] == before


async def test_a_copy_moved_to_a_plugins_status_goes_back_to_its_origin(database_url: str) -> None:
    async with stack(database_url, shop()) as s:
        order = await replicated(s)
        replica = copy_on(s, "sub1", f"main:{order['id']}")
        s.fakes["sub1"].update_order_direct(replica["id"], status="awaiting-pickup")
        await s.sync()
        assert s.fakes["main"].orders[order["id"]]["status"] == "awaiting-pickup"
        await s.sync()  # the origin's other copies follow it
        for target in ("sub1", "sub2"):
            s.exact("main", order["id"], target)


async def test_a_copy_moved_to_a_status_its_origin_lacks_fails_in_words(database_url: str) -> None:
    fakes = shop()
    fakes["main"] = make_fake("main", extra_statuses="awaiting-pickup=Awaiting pickup")
    async with stack(database_url, fakes) as s:
        order = await replicated(s)
        replica = copy_on(s, "sub1", f"main:{order['id']}")
        s.fakes["sub1"].update_order_direct(replica["id"], status="shipped")
        await s.sync()
        # Never written as `pending`: the origin keeps its status, the copy keeps the one set there.
        assert s.fakes["main"].orders[order["id"]]["status"] == "processing"
        assert copy_on(s, "sub1", f"main:{order['id']}")["status"] == "shipped"
        link = await link_to(s, "main", order["id"], "sub1")
        assert link["state"] == "failed" and "'main' has no order status 'shipped'" in link["last_error"]
