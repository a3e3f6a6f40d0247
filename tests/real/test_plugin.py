"""The wcsync-admin plugin in real WordPress, clicked in Chromium: installed and activated through
the Plugins screen on WordPress 6.1.9 (WooCommerce 7.8.2, posts and HPOS) and 6.8.12
(WooCommerce 10.6.2, HPOS), configured on its settings page, its notice on the Orders screen,
Sync Now, and the Sync Order box on an order screen of each storage; the copies are then read
back from the other stores."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.support import TOKEN
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync
from tests.real.harness import StoreInfo
from tests.real.wordpress import (
    activate_plugin,
    configure_plugin,
    install_plugin,
    order_edit_path,
    orders_list_path,
    remove_plugin,
    sign_in,
)
from tests.web.support import chromium, new_page, screenshot, skip_without_browser, wait_for_text

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = [pytest.mark.real, pytest.mark.browser, skip_without_browser()]

# Where a store's orders go: the main store's to both sub-stores, a sub-store's to the main store.
TARGETS = {"main": ("sub1", "sub2"), "sub1": ("main",), "sub2": ("main",)}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
def plugin_on(wcsync: Wcsync, name: str) -> Iterator[StoreInfo]:
    """The plugin's files copied into the store; removed again afterwards."""
    info = wcsync.stores[name].info
    install_plugin(info)
    try:
        yield info
    finally:
        remove_plugin(info)


@pytest.mark.parametrize("name", ["main", "sub1", "sub2"])
async def test_plugin_activates_and_syncs_from_the_orders_screens(
    name: str, wcsync: Wcsync, browser: Browser, plugin_on: StoreInfo
) -> None:
    store = wcsync.stores[name]
    info = plugin_on
    await wcsync.add_all()

    async with new_page(browser, info.base_url) as page:
        await sign_in(page)
        notice = await activate_plugin(page)
        assert "Plugin activated." in notice, f"WordPress {info.wordpress}: {notice}"
        checked = await configure_plugin(page, url=wcsync.base_url, token=TOKEN, store=name)
        role = "main" if name == "main" else "sub"
        assert checked == f"Connected: wcsync knows this store as {name} ({role}).", checked

        # The Orders screen's notice counts what waits, once discovery (the scheduler's job,
        # off here) has seen a new order.
        placed = await store.place_order([("SKU-HOODIE-L", 1), ("SKU-STICKER", 3)], fees=[("Rush", "4.00")])
        await wcsync.discover()
        pending = await wcsync.pending()
        await page.goto(orders_list_path(info))
        await page.wait_for_function(
            "() => { const el = document.getElementById('wcsync-admin-pending');"
            " return el && /\\d+ orders? of this store/.test(el.textContent); }"
        )
        text = (await page.locator("#wcsync-admin-pending").inner_text()).strip()
        waiting = int(re.match(r"(\d+) orders? of this store", text).group(1))  # type: ignore[union-attr]
        expected = pending["total"] if name == "main" else pending["sub_to_main"].get(name, 0)
        assert waiting == expected >= 1, (text, pending)
        await screenshot(page, f"real-plugin-{name}-orders-notice")

        await page.get_by_role("button", name="Sync Now").click()
        await wait_for_text(page, "#wcsync-admin-progress-text", "Sync finished", timeout=120_000)
        finished = await page.locator("#wcsync-admin-progress-text").inner_text()
        assert f"{len(TARGETS[name])} created" in finished and "0 failed" in finished, finished
        await wait_for_text(page, "#wcsync-admin-pending", "No order of this store is waiting to sync.")

        origin = await store.order(placed["id"])
        for target in TARGETS[name]:
            (copy,) = await wcsync.stores[target].replicas(f"{name}:{placed['id']}", wcsync.started)
            assert_faithful_copy(origin, copy, origin_store=name)

        # The Sync Order box on this order's own screen (posts or HPOS).
        second = await store.place_order([("SKU-TSHIRT-BLUE", 1)], shipping="7.50", note="Sync Order box")
        await page.goto(order_edit_path(info, second["id"]))
        await page.wait_for_function(
            "() => !document.getElementById('wcsync-admin-links').textContent.includes('Checking')"
        )
        # Before the fix the box read its order id from WordPress' postbox and showed
        # "No route was found matching the URL and request method" (orders/NaN).
        box = (await page.locator("#wcsync-admin-links").inner_text()).strip()
        assert box == "wcsync has not copied this order anywhere yet.", box
        await page.get_by_role("button", name="Sync Order", exact=True).click()
        await page.wait_for_selector("#wcsync-admin-links table")
        await page.wait_for_function("() => !document.getElementById('wcsync-admin-sync-order').disabled")
        assert (await page.locator("#wcsync-admin-order-status").inner_text()).strip() == ""
        rows = await page.locator("#wcsync-admin-links tbody tr").all_inner_texts()
        await screenshot(page, f"real-plugin-{name}-sync-order-box")

        origin = await store.order(second["id"])
        shown: dict[str, str] = {}
        for row in rows:
            cells = row.split("\t")
            shown[cells[0].strip()] = cells[1].strip()
        assert sorted(shown) == sorted(TARGETS[name]), rows
        for target in TARGETS[name]:
            (copy,) = await wcsync.stores[target].replicas(f"{name}:{second['id']}", wcsync.started)
            assert shown[target] == f"#{copy['id']}", rows
            assert_faithful_copy(origin, copy, origin_store=name)
