"""wcsync on a WordPress multisite network (sub-directory mode): two sub-sites of one WordPress
6.8.12 with WooCommerce 10.6.2 network-activated, `/shopa/` (HPOS) as the main store and
`/shopb/` (posts) as a sub-store, reached at base URLs with a path (tests/real/multisite.py).
Orders go both ways and are read back whole; real webhooks from a sub-site move an order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.sync.discover.webhooks import ORDER_TOPICS
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok
from tests.real.multisite import add_shops
from tests.real.test_webhooks import DELIVERY_TIMEOUT, remove_wcsync_webhooks, wait_for_status

pytestmark = pytest.mark.real

TICK = 1.1  # WooCommerce dates have whole seconds


async def test_the_shops_are_sub_sites_of_one_network(netsync: Wcsync) -> None:
    """What the rest relies on: two sites of one network, each its own shop, at a path."""
    shopa, shopb = netsync.stores["shopa"], netsync.stores["shopb"]
    assert shopa.info.site == shopb.info.site
    for shop in (shopa, shopb):
        assert shop.info.base_url.endswith(f"/{shop.name}"), shop.info.base_url
        index = (await shop.http.get("/wp-json/")).json()
        assert index["home"] == shop.info.base_url, index["home"]
    # Each sub-site has its own catalogue: the same SKUs under other ids.
    assert all(shopa.product_id(sku) != shopb.product_id(sku) for sku in shopa.info.products)
    # The stores' checks pass for base URLs with a path (Basic auth and OAuth 1.0a).
    await add_shops(netsync)
    for name in ("shopa", "shopb"):
        response = await netsync.api.post(f"/api/stores/{name}/check")
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True, response.json()


async def test_orders_replicate_between_sub_sites_both_ways(netsync: Wcsync) -> None:
    await add_shops(netsync)
    shopa, shopb = netsync.stores["shopa"], netsync.stores["shopb"]
    order = await shopa.place_order(
        [("SKU-TSHIRT-RED", 2), ("SKU-MUG-001", 1)], fees=[("Gift wrap", "2.50")], note="Network order"
    )
    run = await netsync.sync()
    assert_run_ok(run, order)
    origin = await shopa.order(order["id"])
    (replica,) = await shopb.replicas(f"shopa:{order['id']}", netsync.started)
    assert_faithful_copy(origin, replica, origin_store="shopa")
    # The copy names shopb's own products for the SKUs.
    assert sorted(i["product_id"] for i in replica["line_items"]) == sorted(
        shopb.product_id(s) for s in ("SKU-TSHIRT-RED", "SKU-MUG-001")
    )

    # A status set on the sub-site's copy flows back to the main sub-site's origin.
    await asyncio.sleep(TICK)
    await shopb.update(replica["id"], status="completed")
    assert_run_ok(await netsync.sync(), order)
    origin = await shopa.order(order["id"])
    assert origin["status"] == "completed"
    (replica,) = await shopb.replicas(f"shopa:{order['id']}", netsync.started)
    assert_faithful_copy(origin, replica, origin_store="shopa")

    # An order placed on the sub-store's sub-site reaches the main one.
    sub_order = await shopb.place_order([("SKU-HOODIE-L", 1)], shipping="3.00", note="From shopb")
    assert_run_ok(await netsync.sync(), sub_order)
    (copy,) = await shopa.replicas(f"shopb:{sub_order['id']}", netsync.started)
    assert_faithful_copy(await shopb.order(sub_order["id"]), copy, origin_store="shopb")


@pytest.fixture
async def hooked(netsync: Wcsync) -> AsyncIterator[Wcsync]:
    for shop in netsync.stores.values():
        await remove_wcsync_webhooks(shop)
    try:
        yield netsync
    finally:
        for shop in netsync.stores.values():
            await remove_wcsync_webhooks(shop)


async def test_webhooks_from_a_sub_site_produce_and_update_the_copy(hooked: Wcsync) -> None:
    wcsync = hooked
    await add_shops(wcsync)
    wcsync.settings.public_url = wcsync.base_url
    response = await wcsync.api.post("/api/stores/shopa/webhooks")
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True, response.json()
    shopa, shopb = wcsync.stores["shopa"], wcsync.stores["shopb"]
    on_shop = [h for h in await shopa.request("GET", "/webhooks") if str(h["name"]).startswith("wcsync ")]
    assert sorted((h["topic"], h["status"]) for h in on_shop) == sorted((t, "active") for t in ORDER_TOPICS)
    # Webhooks belong to their sub-site: the other shop of the network has none.
    assert [h for h in await shopb.request("GET", "/webhooks") if str(h["name"]).startswith("wcsync ")] == []

    order = await shopa.place_order([("SKU-MUG-001", 3)], fees=[("Gift card", "1.50")])
    key = f"shopa:{order['id']}"
    found = await shopb.wait_for_replicas(key, wcsync.started, timeout=DELIVERY_TIMEOUT)
    assert len(found) == 1, f"{len(found)} copies of {key} after {DELIVERY_TIMEOUT} s"
    assert_faithful_copy(await shopa.order(order["id"]), found[0], origin_store="shopa")
    await wcsync.app.state.webhooks.wait_idle()
    runs = (await wcsync.api.get("/api/runs")).json()
    assert ("order", order["id"], "succeeded") in [(r["kind"], r["order_id"], r["status"]) for r in runs]

    await asyncio.sleep(TICK)
    await shopa.update(order["id"], status="completed")
    (replica,) = await shopb.replicas(key, wcsync.started)
    replica = await wait_for_status(shopb, replica["id"], "completed", DELIVERY_TIMEOUT)
    assert_faithful_copy(await shopa.order(order["id"]), replica, origin_store="shopa")
    await wcsync.app.state.webhooks.wait_idle()
