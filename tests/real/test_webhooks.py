"""Webhooks from real stores: wcsync installs its webhooks on a real store, the store's Action
Scheduler delivers them (signed) to wcsync on loopback, and the orders reach their targets with
the scheduler off, so nothing but the webhook moves them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.sync.discover.webhooks import ORDER_TOPICS
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync
from tests.real.stores import RealStore
from tests.waiting import PATIENCE

pytestmark = pytest.mark.real

# Delivery goes through Action Scheduler (every 5 s on the kit's stores, driven by a cron pump
# every 2 s); a stock site with no system cron can take minutes.
DELIVERY_TIMEOUT = max(90.0, PATIENCE)
TARGETS = {"main": ("sub1", "sub2"), "sub2": ("main",)}


async def remove_wcsync_webhooks(store: RealStore) -> None:
    """The stores outlive each test's wcsync: leave no webhook pointing at a closed port."""
    for hook in await store.request("GET", "/webhooks", params={"per_page": "100"}):
        if str(hook["name"]).startswith("wcsync "):
            await store.request("DELETE", f"/webhooks/{hook['id']}", params={"force": "true"})


@pytest.fixture
async def hooked(wcsync: Wcsync) -> AsyncIterator[Wcsync]:
    for store in wcsync.stores.values():
        await remove_wcsync_webhooks(store)
    try:
        yield wcsync
    finally:
        for store in wcsync.stores.values():
            await remove_wcsync_webhooks(store)


async def wait_for_status(store: RealStore, order_id: int, status: str, timeout: float) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        order = await store.order(order_id)
        if order["status"] == status or asyncio.get_running_loop().time() > deadline:
            return order
        await asyncio.sleep(1.0)


@pytest.mark.parametrize("origin_store", ["main", "sub2"])
async def test_webhooks_from_a_real_store_produce_and_update_the_replicas(
    hooked: Wcsync, origin_store: str
) -> None:
    wcsync = hooked
    await wcsync.add_all()
    wcsync.settings.public_url = wcsync.base_url
    response = await wcsync.api.post(f"/api/stores/{origin_store}/webhooks")
    assert response.status_code == 200, response.text
    installed = response.json()
    assert installed["ok"] is True, installed
    source = wcsync.stores[origin_store]
    on_store = [h for h in await source.request("GET", "/webhooks") if str(h["name"]).startswith("wcsync ")]
    assert sorted((h["topic"], h["status"]) for h in on_store) == sorted((t, "active") for t in ORDER_TOPICS)
    assert {h["delivery_url"] for h in on_store} == {f"{wcsync.base_url}/api/webhooks/{origin_store}"}

    order = await source.place_order([("SKU-MUG-001", 3)], fees=[("Gift card", "1.50")])
    origin_key = f"{origin_store}:{order['id']}"
    for target in TARGETS[origin_store]:
        found = await wcsync.stores[target].wait_for_replicas(
            origin_key, wcsync.started, timeout=DELIVERY_TIMEOUT
        )
        assert len(found) == 1, f"{target}: {len(found)} replicas of {origin_key} after {DELIVERY_TIMEOUT} s"
        assert_faithful_copy(await source.order(order["id"]), found[0], origin_store=origin_store)
    await wcsync.app.state.webhooks.wait_idle()
    runs = (await wcsync.api.get("/api/runs")).json()
    assert ("order", order["id"], "succeeded") in [(r["kind"], r["order_id"], r["status"]) for r in runs]

    # order.updated: a status set on the origin reaches the replicas the same way.
    await asyncio.sleep(1.1)
    await source.update(order["id"], status="completed")
    for target in TARGETS[origin_store]:
        (replica,) = await wcsync.stores[target].replicas(origin_key, wcsync.started)
        replica = await wait_for_status(wcsync.stores[target], replica["id"], "completed", DELIVERY_TIMEOUT)
        assert_faithful_copy(await source.order(order["id"]), replica, origin_store=origin_store)
    await wcsync.app.state.webhooks.wait_idle()
