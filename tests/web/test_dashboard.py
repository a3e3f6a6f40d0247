"""The /admin dashboard in a real Chromium, against wcsync and fake stores on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from app.testing import FakeStore
from app.testing.exact import assert_exact_copy
from tests.e2e.support import TOKEN, Stack, make_fake, stack
from tests.web.support import (
    PATIENCE_MS,
    PHONE,
    PHONE_390,
    TIMEZONE,
    chromium,
    new_page,
    screenshot,
    sign_in,
    skip_without_browser,
    text_of,
    wait_for_text,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Request

pytestmark = [pytest.mark.browser, skip_without_browser()]

SUB1 = {"SKU-TSHIRT-RED", "SKU-TSHIRT-BLUE", "SKU-MUG-001"}  # no hoodie


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # The browser tests are about the page; the engine's tests cover both databases.
    return f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


def two_stores(**sub_knobs: Any) -> dict[str, FakeStore]:
    return {"main": make_fake("main"), "sub1": make_fake("sub1", SUB1, **sub_knobs)}


async def registered(s: Stack) -> None:
    await s.add_store("main", role="main")
    await s.add_store("sub1", routing="all")


async def test_sign_in_refuses_a_wrong_token_and_keeps_the_token_out_of_urls(
    sqlite_url: str, browser: Browser
) -> None:
    async with stack(sqlite_url, two_stores()) as s:
        await registered(s)
        base = str(s.api.base_url).rstrip("/")
        async with new_page(browser, base) as page:
            requests: list[Request] = []
            page.on("request", lambda request: requests.append(request))

            response = await page.goto("/admin")
            assert response is not None and response.status == 200
            assert await text_of(page, "h1") == "Sign in"
            assert await page.locator("#pending-total").count() == 0  # no dashboard before sign-in
            await screenshot(page, "01-signed-out", docs=True)

            await page.get_by_label("Admin token").fill("not-the-token")
            async with page.expect_response("**/admin/login") as refused:
                await page.get_by_role("button", name="Sign in").click()
            assert (await refused.value).status == 401
            assert "Sign-in refused" in await text_of(page, "#login-error")
            assert await page.context.cookies() == []
            await screenshot(page, "01-signed-out-refused")

            await sign_in(page)
            assert page.url == f"{base}/admin"
            (cookie,) = await page.context.cookies()
            assert cookie["name"] == "wcsync_session" and cookie["value"] != TOKEN
            assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
            assert cookie["secure"] is False  # plain http on loopback; https sets Secure
            # Script cannot read the token, and it never travels in a URL.
            assert TOKEN not in await page.evaluate("document.cookie")
            await wait_for_text(page, "#pending-total", "0")
            assert all(TOKEN not in r.url for r in requests)
            api_calls = [r for r in requests if "/api/" in r.url]
            assert api_calls, "the page made no API call"
            for call in api_calls:
                assert call.headers.get("x-requested-with") == "wcsync", call.url
                assert "authorization" not in call.headers

            await page.get_by_role("button", name="Sign out").click()
            await page.wait_for_selector("#signin-title")
            assert await page.context.cookies() == []
            after = await page.request.get("/api/pending")
            assert after.status == 401


async def test_badge_shows_pending_then_sync_now_shows_progress_and_clears_it(
    sqlite_url: str, browser: Browser
) -> None:
    fakes = two_stores()
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(4)]
    # One order a batch and a slow sub-store, so the run's progress can be seen moving.
    async with stack(sqlite_url, fakes, batch_size=1) as s:
        await registered(s)
        fakes["sub1"].knobs.down = True
        seeded = await s.sync()  # discovers the orders; sub1 cannot take them yet
        assert seeded["status"] == "partial", seeded
        pending = (await s.api.get("/api/pending")).json()
        assert pending["main_to_sub"] == {"sub1": 4}

        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await wait_for_text(page, "#pending-total", "4")
            assert await text_of(page, "#pending-summary") == "4 orders waiting"
            row = page.locator('#pending-table tr[data-store="sub1"]')
            assert (
                await text_of(page, '#pending-table tr[data-store="sub1"] [data-direction="main_to_sub"]')
                == "4"
            )
            assert await row.count() == 1
            assert await page.locator("#badges").get_attribute("aria-live") == "polite"
            await screenshot(page, "02-dashboard-pending-one-store")

            fakes["sub1"].knobs.down = False
            fakes["sub1"].knobs.latency_per_order_ms = 1500.0
            await page.get_by_role("button", name="Sync Now").click()
            # Part-way: the bar shows some orders done, not all.
            await page.wait_for_function(
                "() => { const bar = document.querySelector('#sync-progress');"
                " return bar.hasAttribute('value') && bar.value > 0 && bar.value < bar.max; }",
                timeout=PATIENCE_MS,
            )
            assert "Syncing:" in await text_of(page, "#sync-progress-text")
            assert await page.locator("#sync-progress-text").get_attribute("aria-live") == "polite"
            await screenshot(page, "03-sync-in-progress", docs=True)

            await page.wait_for_selector("#sync-outcome", timeout=PATIENCE_MS)
            assert await text_of(page, "#sync-outcome") == "Sync finished."
            assert await text_of(page, '[data-count="created"] dd') == "4"
            assert await text_of(page, '[data-count="failed"] dd') == "0"
            assert await page.eval_on_selector(
                "#sync-progress", "bar => bar.value === bar.max && bar.max === 4"
            )
            await wait_for_text(page, "#pending-total", "0")
            assert await text_of(page, "#pending-summary") == "All caught up"
            await page.wait_for_selector("#recent-runs-table")
            await screenshot(page, "04-sync-finished", docs=True)

        for order in orders:
            assert len(s.replicas("sub1", f"main:{order['id']}")) == 1


async def test_failed_order_shows_its_reason_and_retry_succeeds_once_fixed(
    sqlite_url: str, browser: Browser
) -> None:
    fakes = two_stores()
    hoodie = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # sub1 does not sell it
    mug = fakes["main"].place_order([("SKU-MUG-001", 2)])
    async with stack(sqlite_url, fakes) as s:
        await registered(s)
        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await page.get_by_role("button", name="Sync Now").click()
            await page.wait_for_selector("#sync-outcome", timeout=PATIENCE_MS)
            assert await text_of(page, "#sync-outcome") == "Sync finished with problems."
            assert await text_of(page, '[data-count="created"] dd') == "1"
            assert await text_of(page, '[data-count="failed"] dd') == "1"
            failed_in_run = await text_of(page, "#sync-failed-orders")
            assert f"main #{hoodie['id']} → sub1" in failed_in_run
            assert "A product is missing on the target store" in failed_in_run
            await wait_for_text(page, "#failed-total", "1")

            await page.get_by_role("navigation").get_by_role("link", name="Failed orders", exact=True).click()
            row = page.locator("#failed-table tbody tr")
            await row.first.wait_for()
            assert await row.count() == 1
            cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
            # The order as an owner knows it: customer, total with currency, date, status, and
            # its screen in WooCommerce (the main store keeps orders as posts).
            ref, facts, link = cells[0].split("\n")
            assert ref == f"main #{hoodie['id']}" and link == "Open in WooCommerce"
            assert facts.startswith("Ada Lovelace · US$") and facts.endswith("processing")
            assert hoodie["total"] in facts.replace(",", "")
            placed = datetime.fromisoformat(hoodie["date_created_gmt"] + "+00:00")
            placed = placed.astimezone(ZoneInfo(TIMEZONE))
            assert placed.strftime("%d/%m/%Y") in facts
            href = await row.get_by_role("link", name="Open in WooCommerce").get_attribute("href")
            assert href == f"{s.urls['main']}/wp-admin/post.php?post={hoodie['id']}&action=edit"
            assert await text_of(page, "#failed-count") == "1 order failed."
            assert cells[1] == "sub1"
            assert cells[2].startswith("A product is missing on the target store")
            assert "SKU-HOODIE-L" in cells[2]
            assert cells[3] == "1"
            # The reason says what to press, and the button beside it says the same.
            assert cells[2].endswith("press Sync Order."), cells[2]
            assert cells[5].startswith("Sync Order"), cells[5]
            # The heading gets focus when a tab is chosen, for keyboard and screen-reader users.
            assert await page.evaluate("document.activeElement.id") == "failed-title"
            await screenshot(page, "05-failed-orders", docs=True)

            retry = page.get_by_role("button", name=f"Sync Order {hoodie['id']} from main to sub1")
            await retry.click()
            await wait_for_text(page, "#failed-table .retry-status", "Still failed")
            assert s.replicas("sub1", f"main:{hoodie['id']}") == []

            fakes["sub1"].add_product("SKU-HOODIE-L", "Hoodie (L)", "39.00")
            await retry.click()
            await wait_for_text(page, "#failed-table .retry-status", "Synced: sub1 #")
            (replica,) = s.replicas("sub1", f"main:{hoodie['id']}")
            assert await text_of(page, "#failed-table .retry-status") == f"Synced: sub1 #{replica['id']}."
            await wait_for_text(page, "#failed-total", "0")
            # The answer stays in view after the badge's next refresh.
            await page.wait_for_timeout(3500)
            assert await text_of(page, "#failed-table .retry-status") == f"Synced: sub1 #{replica['id']}."
            await page.reload()
            await page.wait_for_selector("#no-failed")

            # The order's history, found by store and id.
            await page.get_by_role("navigation").get_by_role("link", name="Find an order", exact=True).click()
            lookup = page.locator("#lookup-form")
            await lookup.get_by_label("Store", exact=True).select_option("main")
            await lookup.get_by_label("Order id").fill(str(hoodie["id"]))
            await page.get_by_role("button", name="Show its sync history").click()
            await page.wait_for_selector("#order-events")
            history = await text_of(page, "#order-events")
            assert "failed" in history and "created" in history
            assert f"sub1 #{replica['id']}" in await text_of(page, "#order-view table")
            await _assert_local_times(page, "#order-events time")
            await screenshot(page, "06-order-history-retried")
        assert len(s.replicas("sub1", f"main:{mug['id']}")) == 1


async def _assert_local_times(page: Page, selector: str) -> None:
    """Times carry ISO UTC in datetime= and read in the browser's zone (Tokyo here)."""
    times = page.locator(selector)
    assert await times.count() > 0
    for i in range(await times.count()):
        element = times.nth(i)
        iso = await element.get_attribute("datetime")
        assert iso is not None and iso.endswith("Z")
        local = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(TIMEZONE))
        assert (await element.inner_text()).strip() == local.strftime("%d/%m/%Y, %H:%M:%S")


async def test_stores_show_health_check_edit_and_disable(sqlite_url: str, browser: Browser) -> None:
    fakes = {**two_stores(), "sub2": make_fake("sub2")}
    fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(sqlite_url, fakes) as s:
        await registered(s)
        fakes["sub2"].knobs.down = True
        await s.add_store("sub2")
        await s.sync()
        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await page.get_by_role("navigation").get_by_role("link", name="Stores", exact=True).click()
            sub1 = page.locator('article[data-store="sub1"]')
            sub2 = page.locator('article[data-store="sub2"]')
            await sub1.wait_for()
            assert await text_of(page, 'article[data-store="sub1"] [data-fact="order-storage"]') == (
                "as posts (post.php screens)"
            )
            assert "sub-store" in await sub1.inner_text()
            last_error = sub2.locator('[data-fact="last-error"]')
            assert "503" in await last_error.inner_text()  # sub2's last error, in plain view, in red
            assert await last_error.get_attribute("class") == "bad"
            await _assert_local_times(page, 'article[data-store="sub1"] time')

            await sub1.get_by_role("button", name="Check").click()
            await sub1.locator('.checks li[data-check="write"]').wait_for()
            verdicts = await sub1.locator(".checks li").all_inner_texts()
            assert all(v.startswith("✓ Pass") for v in verdicts), verdicts
            names = await sub1.locator(".checks li").evaluate_all("items => items.map(i => i.dataset.check)")
            assert names[:3] == ["reachable", "read", "write"]
            await sub2.get_by_role("button", name="Check").click()
            await wait_for_text(page, 'article[data-store="sub2"] [role="status"]', "failed a check")
            assert (await sub2.locator('.checks li[data-check="reachable"]').inner_text()).startswith(
                "✗ Fail"
            )
            await screenshot(page, "07-stores", docs=True)

            # Once sub2 answers again, its last error is shown as past, not in red.
            fakes["sub2"].knobs.down = False
            await s.sync()
            await page.reload()
            await sub2.wait_for()
            text = await last_error.inner_text()
            assert text.startswith("none since the last success; before it:") and "503" in text, text
            assert await last_error.get_attribute("class") is None
            (order,) = fakes["main"].orders.values()
            (copy,) = s.replicas("sub2", f"main:{order['id']}")
            assert_exact_copy(order, copy, origin_store="main")

            await sub2.get_by_role("button", name="Disable").click()
            await wait_for_text(page, 'article[data-store="sub2"] [role="status"]', "sub2 is disabled")
            assert (await s.api.get("/api/stores/sub2")).json()["enabled"] is False
            assert await sub2.get_by_role("button", name="Enable").count() == 1

            await sub1.get_by_role("button", name="Edit").click()
            await sub1.get_by_label("Orders it receives").select_option("skus")
            await sub1.get_by_role("button", name="Save").click()
            await wait_for_text(page, 'article[data-store="sub1"] [role="status"]', "sub1 saved")
            assert (await s.api.get("/api/stores/sub1")).json()["routing"] == "skus"

            await page.get_by_text("Add a store").click()
            form = page.locator("#store-form")
            await form.get_by_label("Name").fill("sub3")
            await form.get_by_label("Site URL").fill("http://127.0.0.1:9")  # nothing listens there
            await form.get_by_label("Consumer key").fill("ck_sub3_0123456789")
            await form.get_by_label("Consumer secret").fill("cs_sub3_0123456789")
            await form.get_by_role("button", name="Add store").click()
            # Like `wcsync store add`: checked first, refused, with the checks and a way past them.
            await wait_for_text(page, "#store-form-status", "sub3 was not added: its check failed")
            reachable = await text_of(page, '#store-form-checks li[data-check="reachable"]')
            assert "Cannot reach the store" in reachable
            assert (await s.api.get("/api/stores/sub3")).status_code == 404
            await form.get_by_role("button", name="Add anyway").click()
            await wait_for_text(page, "#store-form-status", "sub3 added without a check")
            await page.locator('article[data-store="sub3"]').wait_for()
            listed = (await s.api.get("/api/stores/sub3")).json()
            assert listed["base_url"] == "http://127.0.0.1:9" and listed["role"] == "sub"
            assert await page.locator("#store-form-checks").is_hidden()


async def test_pages_fit_a_375_px_phone(sqlite_url: str, browser: Browser) -> None:
    fakes = {**two_stores(), "sub2": make_fake("sub2")}
    fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # fails on sub1: fills the failed list
    fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(sqlite_url, fakes) as s:
        await registered(s)
        await s.add_store("sub2")
        fakes["sub2"].knobs.down = True
        await s.sync()  # both orders wait for sub2
        pending = (await s.api.get("/api/pending")).json()
        assert (pending["main_to_sub"], pending["failed"]) == ({"sub2": 2}, 1)
        async with new_page(browser, str(s.api.base_url), viewport=PHONE) as page:
            await page.goto("/admin")
            assert await _page_width(page) <= PHONE["width"]
            await screenshot(page, "08-phone-signed-out")
            await sign_in(page)
            await wait_for_text(page, "#pending-total", "2")
            for view, ready in (
                ("overview", "#recent-runs-table"),
                ("failed", "#failed-table"),
                ("lookup", "#lookup-form"),
                ("stores", 'article[data-store="sub1"]'),
                ("runs", "#runs-table"),
            ):
                await page.goto(f"/admin#{view}")
                await page.wait_for_selector(ready)
                width = await _page_width(page)
                assert width <= PHONE["width"], f"#{view} is {width}px wide on a {PHONE['width']}px phone"
                if view in ("overview", "failed"):
                    await screenshot(page, f"09-phone-{view}", docs=view == "overview")
                if view == "failed":
                    # sub2 is down: both its orders wait, each with the attempt made and the next
                    # one's time (issue 18: "Attempts 0", "Next try —").
                    waiting = page.locator("#retrying-table tbody tr")
                    assert await waiting.count() == 2
                    for cells in [await r.locator("td").all_inner_texts() for r in await waiting.all()]:
                        assert cells[1].strip() == "sub2" and cells[3].strip() == "1", cells
                        assert cells[4].strip() not in ("", "—"), cells
                    # An order in the list opens its history.
                    await page.locator("#failed-table tbody tr button.link").first.click()
                    await page.wait_for_selector("#order-events")
                    assert page.url.endswith("#lookup")
                    assert "SKU-HOODIE-L" in await text_of(page, "#order-events")
                    assert await _page_width(page) <= PHONE["width"]
                    await screenshot(page, "09-phone-order")
            # Controls stay big enough to tap.
            box = await page.get_by_role("navigation").get_by_role("link", name="Overview").bounding_box()
            assert box is not None and box["height"] >= 32


async def test_plugin_tokens_are_created_shown_once_and_revoked(sqlite_url: str, browser: Browser) -> None:
    async with stack(sqlite_url, two_stores()) as s:
        await registered(s)
        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await page.goto("/admin#stores")
            await page.locator("#tokens-list p").wait_for()
            assert await text_of(page, "#tokens-list") == "No token yet."
            await page.locator("#token-store").select_option("sub1")
            await page.get_by_label("Note (optional)").fill("shop one")
            await page.get_by_role("button", name="Create token").click()
            field = page.locator("#token-value")
            await field.wait_for()
            token = await field.input_value()
            assert token.startswith("wcst_")
            plugin = {"Authorization": f"Bearer {token}"}
            assert (await s.api.get("/api/pending", headers=plugin)).status_code == 200
            row = page.locator("#tokens-table tbody tr")
            assert await row.count() == 1
            listed = await row.inner_text()
            assert "sub1" in listed and "shop one" in listed and token[:11] in listed and token not in listed
            # Shown once: a reload lists the token but never shows it again.
            await page.reload()
            await page.locator("#tokens-table").wait_for()
            assert token not in await page.content()

            revoke = row.get_by_role("button", name="Revoke")
            await revoke.click()
            assert (await s.api.get("/api/pending", headers=plugin)).status_code == 200  # asked, not done
            await row.get_by_role("button", name="Press again to revoke").click()
            await wait_for_text(page, "#token-created", "revoked")
            assert await text_of(page, "#tokens-list") == "No token yet."
            assert (await s.api.get("/api/pending", headers=plugin)).status_code == 401


async def test_layout_add_store_form_history_and_phone_runs(sqlite_url: str, browser: Browser) -> None:
    fakes = two_stores()
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(sqlite_url, fakes) as s:
        await registered(s)
        await s.sync()
        await s.sync()
        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await page.goto("/admin#stores")
            await page.locator('article[data-store="sub1"]').wait_for()
            await page.get_by_text("Add a store").click()
            # Measured in one frame: the store cards above the form render as their data comes,
            # and boxes read one after another could straddle such a shift.
            url, key_label, backfill, status, button = await page.evaluate(
                """selectors => selectors.map(s => {
                    const r = document.querySelector(s).getBoundingClientRect();
                    return {y: r.y, height: r.height};
                })""",
                [
                    "#store-url",
                    'label[for="store-key"]',
                    "#store-backfill",
                    "#store-form-status",
                    '#store-form button[type="submit"]',
                ],
            )
            # No gap under a full-width field: the next label follows within the form's spacing.
            assert 0 <= key_label["y"] - (url["y"] + url["height"]) <= 24, (url, key_label)
            assert status is not None
            assert button["y"] - (backfill["y"] + backfill["height"]) <= 60, (backfill, button)

            await page.goto("/admin#lookup")
            await page.locator("#lookup-store option").first.wait_for(state="attached")
            await page.locator("#lookup-store").select_option("main")
            await page.get_by_label("Order id").fill(str(order["id"]))
            await page.get_by_role("button", name="Show its sync history").click()
            await page.locator("#order-events").wait_for()
            table = await page.locator("#order-view table").bounding_box()
            history = await page.locator("#order-view h3").bounding_box()
            assert table and history and history["y"] - (table["y"] + table["height"]) >= 16
            await screenshot(page, "10-order-history-spacing")

        async with new_page(browser, str(s.api.base_url), viewport=PHONE) as page:
            await sign_in(page)
            await page.goto("/admin#runs")
            await page.locator("#runs-table tbody tr").first.wait_for()
            rows = page.locator("#runs-table tbody tr")
            assert await rows.count() == 2
            card = await rows.first.bounding_box()
            assert card is not None and card["height"] <= 180, f"a run card is {card} on a phone"
            counts = rows.first.locator("td.num")
            tops = {round((await counts.nth(i).bounding_box() or {"y": -1})["y"]) for i in range(4)}
            assert len(tops) == 1, "the four counts share one line"
            assert await _page_width(page) <= PHONE["width"]
            await screenshot(page, "09-phone-runs")


async def _page_width(page: Page) -> int:
    width: int = await page.evaluate("document.scrollingElement.scrollWidth")
    return width


async def test_api_docs_render_offline(sqlite_url: str, browser: Browser) -> None:
    async with stack(sqlite_url, {}) as s:
        base = str(s.api.base_url).rstrip("/")
        async with new_page(browser, base) as page:
            elsewhere: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
            violations: list[str] = []
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
            )
            await page.goto("/docs")
            await page.locator(".swagger-ui .opblock-summary-path").first.wait_for()
            paths = await page.locator(".swagger-ui .opblock-summary-path").all_inner_texts()
            assert "/api/stores" in paths and "/api/tokens" in paths
            assert elsewhere == [] and violations == []
            await screenshot(page, "11-api-docs", full_page=False)


async def test_orders_are_counted_once_with_copies_as_the_detail_and_link_to_woocommerce(
    sqlite_url: str, browser: Browser
) -> None:
    fakes = {**two_stores(), "sub2": make_fake("sub2", SUB1)}
    fakes["sub1"].state.storage = "hpos"
    mugs = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(2)]
    hoodie = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # neither sub-store sells it
    async with stack(sqlite_url, fakes) as s:
        await registered(s)
        await s.add_store("sub2")
        fakes["sub1"].knobs.down = fakes["sub2"].knobs.down = True
        await s.sync()  # three orders, each waiting for two sub-stores
        pending = (await s.api.get("/api/pending")).json()
        assert (pending["orders"], pending["copies"]) == (3, 6)

        async with new_page(browser, str(s.api.base_url)) as page:
            await sign_in(page)
            await wait_for_text(page, "#pending-total", "3")
            assert await text_of(page, "#pending-summary") == "3 orders waiting (6 copies)"
            badge = await page.locator("#badge-pending").get_attribute("aria-label")
            assert badge == "3 orders waiting to sync"
            per_store = '#pending-table tbody tr[data-store="sub1"] [data-direction="main_to_sub"]'
            assert await text_of(page, per_store) == "3"
            footer = '#pending-table tfoot [data-direction="main_to_sub"]'
            assert await text_of(page, footer) == "3 (6 copies)"
            await screenshot(page, "02-dashboard-pending", docs=True)

            fakes["sub1"].knobs.down = fakes["sub2"].knobs.down = False
            await page.get_by_role("button", name="Sync Now").click()
            await page.wait_for_selector("#sync-outcome", timeout=PATIENCE_MS)
            assert await text_of(page, '[data-count="created"] dd') == "4"
            assert await text_of(page, '[data-count="failed"] dd') == "2"
            await wait_for_text(page, "#failed-total", "1")  # one order, failed on two stores
            await wait_for_text(page, "#failed-notice", "1 order failed and needs attention (2 copies)")

            await page.goto("/admin#failed")
            rows = page.locator("#failed-table tbody tr")
            await rows.first.wait_for()
            assert await rows.count() == 1
            assert await text_of(page, "#failed-count") == "1 order failed (2 copies)."
            row = rows.first
            assert (await row.locator("td").nth(1).inner_text()).split() == ["sub1", "sub2"]
            assert "Ada Lovelace" in await row.locator(".order-facts").inner_text()
            href = await row.get_by_role("link", name="Open in WooCommerce").get_attribute("href")
            assert href == f"{s.urls['main']}/wp-admin/post.php?post={hoodie['id']}&action=edit"
            retry = row.get_by_role("button", name=f"Sync Order {hoodie['id']} from main to sub1, sub2")
            assert await retry.count() == 1

            # An order copied to an HPOS store links to WooCommerce's own orders screen there.
            mug = mugs[0]
            await page.goto("/admin#lookup")
            await page.locator("#lookup-store option").first.wait_for(state="attached")
            await page.locator("#lookup-store").select_option("main")
            await page.get_by_label("Order id").fill(str(mug["id"]))
            await page.get_by_role("button", name="Show its sync history").click()
            await page.locator("#order-events").wait_for()
            (copy,) = s.replicas("sub1", f"main:{mug['id']}")
            link = page.locator("#order-view").get_by_role(
                "link", name=f"Open sub1 #{copy['id']} in WooCommerce"
            )
            assert await link.get_attribute("href") == (
                f"{s.urls['sub1']}/wp-admin/admin.php?page=wc-orders&action=edit&id={copy['id']}"
            )
            assert "Ada Lovelace" in await text_of(page, "#order-view .order-facts")

            # Sync Order on an order that has not changed: "already in sync", never "changed".
            await page.get_by_role("button", name="Sync Order").click()
            await wait_for_text(page, "#order-events", "already in sync")
            history = await text_of(page, "#order-events")
            assert "origin order changed" not in history
            await screenshot(page, "06-order-history", docs=True)

        async with new_page(browser, str(s.api.base_url), viewport=PHONE_390) as page:
            await sign_in(page)
            for view, ready in (
                ("overview", "#recent-runs-table"),
                ("failed", "#failed-table"),
                ("stores", 'article[data-store="sub2"]'),
                ("runs", "#runs-table"),
            ):
                await page.goto(f"/admin#{view}")
                await page.wait_for_selector(ready)
                width = await _page_width(page)
                assert width <= PHONE_390["width"], f"#{view} is {width}px wide on a 390 px phone"
            await page.goto("/admin#runs")
            card = await page.locator("#runs-table tbody tr").first.bounding_box()
            assert card is not None and card["height"] <= 180, f"a run card is {card} on a 390 px phone"
            await page.goto("/admin#failed")
            await page.locator("#failed-table tbody tr").first.wait_for()
            await screenshot(page, "09-phone-failed-390")
            # The Add-a-store form on the phone: one field under the other, no gaps between.
            await page.goto("/admin#stores")
            await page.get_by_text("Add a store").click()
            # Each field (label, input, help) sits under the one before it at the form's spacing
            # (.75rem), with no empty band between.
            gaps = await page.eval_on_selector_all(
                "#store-form .field",
                """fields => fields.map(f => f.getBoundingClientRect())
                    .map((box, i, all) => i ? Math.round(box.top - all[i - 1].bottom) : 0).slice(1)""",
            )
            assert len(gaps) == 7 and all(0 <= gap <= 16 for gap in gaps), gaps  # 8 fields
            await screenshot(page, "09-phone-add-store-390")
