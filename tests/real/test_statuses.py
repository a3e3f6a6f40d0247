"""Order statuses registered by a plugin (tests/real/mu-plugins/statuses.php: wc-awaiting-pickup on
every store, wc-shipped on main and sub1 only), on the real stores: how WooCommerce 7.8.2 (posts,
HPOS) and 10.6.2 (HPOS) list and write them, then wcsync copying a status the target has, failing
in words (or mapping) where it lacks it, and a status set on a copy going back to its origin.
Copies are read back and compared (content, not a count)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.woocommerce.client import ALL_ORDER_STATUSES
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok
from tests.real.stores import API, RealStore

pytestmark = pytest.mark.real

TICK = 1.1
CORE = ",".join(ALL_ORDER_STATUSES)


async def test_how_woocommerce_lists_and_writes_a_plugins_status(stores: dict[str, RealStore]) -> None:
    for name, has_shipped in (("main", True), ("sub1", True), ("sub2", False)):
        store = stores[name]
        totals = await store.request("GET", "/reports/orders/totals")
        slugs = {row["slug"]: row["name"] for row in totals}
        assert slugs["awaiting-pickup"] == "Awaiting pickup", (name, slugs)
        assert ("shipped" in slugs) is has_shipped, (name, slugs)
        order = await store.place_order([("SKU-STICKER", 1)])
        status = "shipped" if has_shipped else "awaiting-pickup"
        moved = await store.update(order["id"], status=status)
        assert moved["status"] == status
        listed = {}
        for query, named in (("any", "any"), ("core", CORE)):
            found = await store.request("GET", "/orders", params={"status": named, "include": order["id"]})
            listed[query] = [o["id"] for o in found]
        # `any` lists it; a list of WooCommerce's own statuses (the only way to list trash) does not.
        assert listed == {"any": [order["id"]], "core": []}, (name, listed)
        if not has_shipped:
            # A store that lacks it refuses it in a single update...
            refused = await store.http.put(f"{API}/orders/{order['id']}", json={"status": "shipped"})
            assert refused.status_code == 400 and refused.json()["code"] == "rest_invalid_param"
            listing = await store.http.get(f"{API}/orders", params={"status": "shipped"})
            assert listing.status_code == 400
            # ...but a batch makes the order `pending`, answering 200: never send it one.
            update = {"update": [{"id": order["id"], "status": "shipped"}]}
            batch = await store.request("POST", "/orders/batch", json=update)
            assert batch["update"][0]["status"] == "pending"


def link_to(view: dict[str, Any], target: str) -> dict[str, Any]:
    return next(ln for ln in view["links"] if ln["target"]["store"] == target)


async def view(wcsync: Wcsync, store: str, order_id: int) -> dict[str, Any]:
    response = await wcsync.api.get(f"/api/orders/{store}/{order_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_plugins_status_reaches_the_copies_that_can_hold_it(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    main, sub1, sub2 = (wcsync.stores[n] for n in ("main", "sub1", "sub2"))
    order = await main.place_order([("SKU-MUG-001", 1), ("SKU-STICKER", 2)])
    assert_run_ok(await wcsync.sync(), order)
    origin_key = f"main:{order['id']}"
    await asyncio.sleep(TICK)

    # main (posts) -> shipped: sub1 (HPOS 7.8) has it, sub2 (10.6) lacks it.
    await main.update(order["id"], status="shipped")
    run = await wcsync.sync()
    origin = await main.order(order["id"])
    (copy1,) = await sub1.replicas(origin_key, wcsync.started)
    assert_faithful_copy(origin, copy1, origin_store="main")
    assert copy1["status"] == "shipped"
    (copy2,) = await sub2.replicas(origin_key, wcsync.started)
    assert copy2["status"] == "processing", copy2["status"]  # never written as pending
    link = link_to(await view(wcsync, "main", order["id"]), "sub2")
    assert link["state"] == "failed" and "'sub2' has no order status 'shipped'" in link["last_error"], link
    assert run["status"] == "partial", run

    # The admin maps it; Sync Order writes the mapped status, the rest exact.
    wcsync.settings.status_map = "sub2:shipped=completed"
    await wcsync.sync_order("main", order["id"])
    (copy2,) = await sub2.replicas(origin_key, wcsync.started)
    assert_faithful_copy(origin, copy2, origin_store="main", status=False)
    assert copy2["status"] == "completed"

    # A plugin's status set on a copy (sub1) goes back to its origin, and on to sub2, which has
    # that one too.
    await asyncio.sleep(TICK)
    await sub1.update(copy1["id"], status="awaiting-pickup")
    assert_run_ok(await wcsync.sync(), order)
    origin = await main.order(order["id"])
    assert origin["status"] == "awaiting-pickup"
    for store in (sub1, sub2):
        (copy,) = await store.replicas(origin_key, wcsync.started)
        assert_faithful_copy(origin, copy, origin_store="main")
