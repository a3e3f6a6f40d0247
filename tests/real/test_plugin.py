"""The wcsync-admin plugin in real WordPress, clicked in Chromium: installed and activated through
the Plugins screen on WordPress 6.1.9 (WooCommerce 7.8.2, posts and HPOS) and 6.8.12
(WooCommerce 10.6.2, HPOS), configured on its settings page with a store token, its notice on the
Orders screen, Sync Now, and the Sync Order box on an order screen of each storage; the copies are
then read back from the other stores. Then what an owner meets when something is wrong: failed
orders, a wrong token, and a hung or stopped wcsync, which must not slow any page."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync
from tests.real.harness import StoreInfo
from tests.real.wordpress import (
    activate_plugin,
    configure_plugin,
    install_plugin,
    order_edit_path,
    orders_list_path,
    probe_plugin,
    remove_plugin,
    save_settings,
    sign_in,
)
from tests.waiting import until
from tests.web.support import PATIENCE_MS, chromium, new_page, screenshot, skip_without_browser, wait_for_text

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.real, pytest.mark.browser, skip_without_browser()]

# Where a store's orders go: the main store's to both sub-stores, a sub-store's to the main store.
TARGETS = {"main": ("sub1", "sub2"), "sub1": ("main",), "sub2": ("main",)}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def store_token(wcsync: Wcsync, name: str) -> str:
    """A store token for the store's plugin, as the dashboard or `wcsync token create` makes one."""
    response = await wcsync.api.post("/api/tokens", json={"store": name, "label": "wordpress"})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


IS_ERROR = "() => document.getElementById('wcsync-admin-notice').dataset.kind === 'error'"
# The script has asked wcsync (the notice is first drawn from the last saved summary).
REFRESHED = "() => !!document.getElementById('wcsync-admin-notice').dataset.refreshed"
PENDING_TEXT = re.compile(r"(\d+) orders? waiting to sync|No order is waiting to sync")


def waiting_count(text: str) -> int:
    found = PENDING_TEXT.search(text)
    assert found, text
    return int(found.group(1) or 0)


async def notice_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate(
        """() => {
            const notice = document.getElementById('wcsync-admin-notice');
            const progress = notice.querySelector('.wcsync-admin-progress');
            const fix = document.getElementById('wcsync-admin-fix');
            const failed = document.getElementById('wcsync-admin-failed');
            return {
                classes: Array.from(notice.classList),
                text: document.getElementById('wcsync-admin-pending').textContent.trim(),
                primary: document.getElementById('wcsync-admin-sync-now')
                    .classList.contains('button-primary'),
                progressShown: progress.getBoundingClientRect().height > 0,
                fix: fix.hidden ? null : fix.href,
                failed: failed.hidden ? null : [failed.textContent.trim(), failed.href],
                background: getComputedStyle(notice).borderLeftColor,
            };
        }"""
    )
    return state


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
        token = await store_token(wcsync, name)
        checked = await configure_plugin(page, url=wcsync.base_url, token=token, store=name)
        role = "main" if name == "main" else "sub"
        assert checked == f"Connected: wcsync knows this store as {name} ({role}).", checked
        # "Settings saved." after saving, and the token kept out of the autoloaded options.
        saved = await page.locator("#setting-error-settings_updated p").inner_text()
        assert saved.strip() == "Settings saved.", saved
        probed = probe_plugin(info)
        assert probed["token_saved"] and probed["token_autoload"] in ("no", "off"), probed

        # The Orders screen's notice counts orders (not copies), once discovery (the
        # scheduler's job, off here) has seen a new order.
        placed = await store.place_order([("SKU-HOODIE-L", 1), ("SKU-STICKER", 3)], fees=[("Rush", "4.00")])
        await wcsync.discover()
        pending = await wcsync.pending()
        await page.goto(orders_list_path(info))
        # Before Sync Now the progress bar is not shown.
        assert not (await notice_state(page))["progressShown"]
        await page.wait_for_function(REFRESHED)
        text = (await page.locator("#wcsync-admin-pending").inner_text()).strip()
        expected = (
            pending["orders"]
            if name == "main"
            else pending["main_to_sub"].get(name, 0) + pending["sub_to_main"].get(name, 0)
        )
        assert waiting_count(text) == expected >= 1, (text, pending)
        if name == "main":
            # Two sub-stores: the new order waits for two copies, and counts once.
            assert pending["copies"] > pending["orders"], pending
            assert f"({pending['copies']} copies)" in text, text
        state = await notice_state(page)
        assert "notice-info" in state["classes"] and state["primary"] and not state["progressShown"], state
        # The menu bubble is wcsync's own: blue, not a second red WooCommerce count.
        bubble = page.locator("#adminmenu .wcsync-admin-bubble")
        await page.wait_for_function(
            "() => { const b = document.querySelector('#adminmenu .wcsync-admin-bubble');"
            " return b && !b.hidden; }"
        )
        assert (await bubble.locator(".wcsync-admin-count").inner_text()).strip() == str(expected)
        colours = await page.evaluate(
            """() => Array.from(document.querySelectorAll(
                    '#adminmenu .awaiting-mod, #adminmenu .wcsync-admin-bubble'))
                .filter(b => b.offsetParent !== null)
                .map(b => [b.className, getComputedStyle(b).backgroundColor])"""
        )
        ours = [c for cls, c in colours if "wcsync-admin-bubble" in cls]
        theirs = [c for cls, c in colours if "wcsync-admin-bubble" not in cls]
        assert len(ours) == 1 and ours[0] not in theirs, colours
        await screenshot(page, f"real-plugin-{name}-orders-notice", docs=name == "main")

        await page.get_by_role("button", name="Sync Now").click()
        assert (await notice_state(page))["progressShown"]
        await wait_for_text(page, "#wcsync-admin-progress-text", "Sync finished", timeout=PATIENCE_MS)
        finished = await page.locator("#wcsync-admin-progress-text").inner_text()
        assert f"{len(TARGETS[name])} created" in finished and "0 failed" in finished, finished
        await wait_for_text(page, "#wcsync-admin-pending", "No order is waiting to sync.")

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
        await screenshot(page, f"real-plugin-{name}-sync-order-box", docs=name == "sub2")

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


async def filler_order(wcsync: Wcsync, name: str) -> dict[str, Any]:
    """An order of a product whose SKU only this store has (the kit's FILLER products are on the
    sub-stores, not on the main store): its copy to the main store fails with an unknown SKU."""
    store = wcsync.stores[name]
    (product,) = await store.request("GET", "/products", params={"sku": "FILLER-001"})
    body = {"status": "processing", "line_items": [{"product_id": product["id"], "quantity": 2}]}
    order: dict[str, Any] = await store.request("POST", "/orders", json=body)
    return order


@pytest.mark.parametrize("name", ["sub1", "sub2"])
async def test_failed_orders_are_listed_marked_and_told_only_to_their_store(
    name: str, wcsync: Wcsync, browser: Browser, plugin_on: StoreInfo
) -> None:
    info = plugin_on
    await wcsync.add_all()
    failing = await filler_order(wcsync, name)
    await wcsync.discover()
    await wcsync.sync()
    failed_links = (await wcsync.api.get("/api/links", params={"state": "failed"})).json()["items"]
    # (Since the dashboard's merge an order reference also carries its admin link.)
    ours = [
        ln
        for ln in failed_links
        if (ln["origin"]["store"], ln["origin"]["order_id"]) == (name, failing["id"])
    ]
    assert len(ours) == 1 and ours[0]["target"]["store"] == "main", failed_links

    async with new_page(browser, info.base_url) as page:
        await sign_in(page)
        await activate_plugin(page)
        await configure_plugin(page, url=wcsync.base_url, token=await store_token(wcsync, name), store=name)
        await page.goto(orders_list_path(info))
        await page.wait_for_function(REFRESHED)
        state = await notice_state(page)
        failed = await wcsync.api.get(f"/api/stores/{name}/failed-orders")
        total = failed.json()["total"]
        assert total >= 1
        noun = "order failed and needs" if total == 1 else "orders failed and need"
        assert state["failed"][0] == f"{total} {noun} attention.", state
        assert state["failed"][1].endswith("/wp-admin/admin.php?page=wcsync-admin&tab=failed"), state
        assert "notice-warning" in state["classes"], state
        # The order's row in the Orders list carries the mark (server-drawn once the summary is
        # known, and set by the script after each refresh).
        mark = page.locator(f'.wcsync-admin-mark[data-order-id="{failing["id"]}"] .wcsync-admin-failed-mark')
        await mark.wait_for()
        assert (await mark.inner_text()).strip() == "Sync failed"
        await screenshot(page, f"real-plugin-{name}-failed-mark", docs=name == "sub1")

        # The link leads to the list, with the reason and a link to the order's own screen.
        await page.locator("#wcsync-admin-failed").click()
        await page.wait_for_selector("#wcsync-admin-failed-list table")
        row = page.locator(f'#wcsync-admin-failed-list tr[data-order-id="{failing["id"]}"]')
        cells = [c.strip() for c in (await row.first.inner_text()).split("\t")]
        assert cells[0] == f"#{failing['number']}" and cells[1] == "main", cells
        assert "FILLER-001" in cells[2], cells
        href = await row.first.locator("a").get_attribute("href")
        assert href is not None and str(failing["id"]) in href
        await screenshot(page, f"real-plugin-{name}-failed-list", docs=name == "sub1")
        await page.goto(href)
        heading = await page.locator("h2.woocommerce-order-data__heading").inner_text()
        assert f"#{failing['number']}" in heading, heading

    # The main store's plugin is not told of it: the main store does not have that order.
    main_failed = (await wcsync.api.get("/api/stores/main/failed-orders")).json()
    told_main = [
        (ln["origin"]["store"], ln["origin"]["order_id"]) for i in main_failed["items"] for ln in i["links"]
    ]
    assert (name, failing["id"]) not in told_main, main_failed


class Hung:
    """A 'wcsync' that accepts connections and never answers."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.held: list[socket.socket] = []
        self.address = ("127.0.0.1", int(self.server.getsockname()[1]))
        self.url = f"http://127.0.0.1:{self.address[1]}"
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


def closed_port_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


async def contacts_while_made(page: Page, info: StoreInfo, hung: Hung, path: str) -> int:
    """How many connections reached the hung 'wcsync' while the server made `path`: the page's
    HTML fetched without a browser (no script runs), then a connection of our own, accepted in
    order after any the page's PHP made (a call to wcsync while a page is made held every page
    3.5-4.6 s before this version)."""
    before = len(hung.held)
    response = await page.request.get(info.base_url + path)
    assert response.ok, (path, response.status)
    with socket.create_connection(hung.address):
        await until(lambda: len(hung.held) > before, f"the hung wcsync to accept a probe after {path}")
        # Our probe is the last one accepted; every connection before it is counted.
        return len(hung.held) - before - 1


@pytest.mark.parametrize("name", ["main", "sub2"])
async def test_a_hung_or_stopped_wcsync_slows_no_page_and_is_told_in_plain_words(
    name: str, wcsync: Wcsync, browser: Browser, plugin_on: StoreInfo
) -> None:
    info = plugin_on
    await wcsync.add_all()
    paths = [orders_list_path(info), "/wp-admin/index.php"]
    hung = Hung()
    try:
        async with new_page(browser, info.base_url) as page:
            await sign_in(page)
            await activate_plugin(page)
            for case, url in (("hung", hung.url), ("stopped", closed_port_url())):
                saved = await save_settings(page, url=url, token="wcst_" + "x" * 43, store=name)
                assert "Settings saved." in saved, saved
                if case == "hung":
                    # No page waits for wcsync: none calls it while it is made (its script asks
                    # after the page has loaded). A stopped wcsync runs the same code.
                    await page.goto("about:blank")  # no script of ours polls meanwhile
                    for path in paths:
                        # A call made while the page is made is made on every load; a request
                        # still running from an earlier page (the settings page's script, cron)
                        # may reach wcsync during one load, not during three in a row.
                        contacts = [await contacts_while_made(page, info, hung, path)]
                        while contacts[-1] and len(contacts) < 3:
                            contacts.append(await contacts_while_made(page, info, hung, path))
                        assert contacts[-1] == 0, (path, contacts)

                # The notice says what is wrong, at once and in plain words, in red; Sync Now is
                # no longer the main action, and no progress bar shows.
                await page.goto(orders_list_path(info))
                await page.wait_for_function(IS_ERROR)
                state = await notice_state(page)
                words = "is not answering" if case == "hung" else "did not answer"
                assert state["text"] == f"wcsync {words} at {url}; is it running?", state
                assert "cURL" not in state["text"]
                assert "notice-error" in state["classes"] and not state["primary"], state
                assert not state["progressShown"], state
                if case == "hung":
                    await screenshot(page, f"real-plugin-{name}-hung", docs=name == "main")
                    # Sync Now while wcsync hangs: an error, no bar left behind.
                    await page.get_by_role("button", name="Sync Now").click()
                    await page.wait_for_function(
                        "() => !document.getElementById('wcsync-admin-sync-now').disabled",
                        timeout=PATIENCE_MS,
                    )
                    state = await notice_state(page)
                    assert "notice-error" in state["classes"] and not state["progressShown"], state
    finally:
        hung.close()


@pytest.mark.parametrize("name", ["main", "sub2"])
async def test_a_wrong_token_is_red_and_links_to_the_settings(
    name: str, wcsync: Wcsync, browser: Browser, plugin_on: StoreInfo
) -> None:
    info = plugin_on
    await wcsync.add_all()
    async with new_page(browser, info.base_url) as page:
        await sign_in(page)
        await activate_plugin(page)
        await save_settings(page, url=wcsync.base_url, token="wcst_" + "w" * 43, store=name)
        await page.goto(orders_list_path(info))
        # Drawn from the summary the settings page's refresh saved, or refreshed now.
        await page.wait_for_function(IS_ERROR)
        state = await notice_state(page)
        assert "refused the token" in state["text"], state
        assert "notice-error" in state["classes"] and not state["primary"], state
        assert state["fix"] is not None, state
        assert state["fix"].endswith("/wp-admin/admin.php?page=wcsync-admin"), state
        await page.locator("#wcsync-admin-fix").click()
        await page.wait_for_selector("#wcsync_admin_token")


@pytest.mark.parametrize(("name", "origin"), [("main", "sub1"), ("sub2", "main")])
async def test_a_replica_links_to_its_origin_and_hides_wcsync_line_meta(
    name: str, origin: str, wcsync: Wcsync, browser: Browser, plugin_on: StoreInfo
) -> None:
    info = plugin_on
    await wcsync.add_all()
    placed = await wcsync.stores[origin].place_order([("SKU-MUG-001", 2)])
    await wcsync.discover()
    await wcsync.sync()
    (copy,) = await wcsync.stores[name].replicas(f"{origin}:{placed['id']}", wcsync.started)
    # The copy's line carries wcsync's private meta, which the items box must not show.
    assert any(m["key"] == "_wcsync_origin_item" for m in copy["line_items"][0]["meta_data"]), copy
    origin_info = wcsync.stores[origin].info
    async with new_page(browser, info.base_url) as page:
        await sign_in(page)
        await activate_plugin(page)
        await configure_plugin(page, url=wcsync.base_url, token=await store_token(wcsync, name), store=name)
        await page.goto(order_edit_path(info, copy["id"]))
        link = page.locator("a#wcsync-admin-origin-link")
        await link.wait_for()
        assert (await link.inner_text()).strip() == f"{origin}:{placed['id']}"
        href = await link.get_attribute("href")
        assert href == f"{origin_info.base_url}/wp-admin/post.php?post={placed['id']}&action=edit", href
        items = await page.locator("#woocommerce-order-items").inner_text()
        assert "Mug" in items or "SKU-MUG-001" in items, items
        assert "_wcsync" not in items, items
        await screenshot(page, f"real-plugin-{name}-replica-box", docs=name == "sub2")
        # The link opens the origin order on its own store (either storage).
        await page.goto(f"{origin_info.base_url}/wp-login.php")
        await page.fill("#user_login", "admin")
        await page.fill("#user_pass", "adminpass")
        await page.click("#wp-submit")
        await page.wait_for_selector("#wpadminbar")
        await page.goto(href)
        heading = await page.locator("h2.woocommerce-order-data__heading").inner_text()
        assert f"#{placed['number']}" in heading, (page.url, heading)
