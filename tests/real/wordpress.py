"""The WordPress admin of a real store, driven in Chromium as a store owner would: sign in,
install and activate the wcsync-admin plugin through the Plugins screen, fill in its settings,
and open the Orders screens of either order storage."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.real.harness import StoreInfo

if TYPE_CHECKING:
    from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "deploy" / "wordpress" / "wcsync-admin"
PLUGIN_FILE = "wcsync-admin/wcsync-admin.php"
RESET = Path(__file__).resolve().parent / "plugin_reset.php"
PROBE = Path(__file__).resolve().parent / "plugin_probe.php"
TOGGLE = Path(__file__).resolve().parent / "plugin_toggle.php"
ADMIN_USER, ADMIN_PASSWORD = "admin", "adminpass"


def remove_plugin(store: StoreInfo) -> None:
    """Deactivate the plugin, forget its settings and delete its folder: the stores are shared
    with the other real tests (an active plugin adds its namespace to the REST index)."""
    target = store.site / "wp-content" / "plugins" / "wcsync-admin"
    if target.exists():
        result = subprocess.run(
            ["php", str(RESET), str(store.site), store.base_url], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0 and result.stdout.strip() == "inactive", result.stdout + result.stderr
        shutil.rmtree(target)


def install_plugin(store: StoreInfo) -> None:
    """Copy the plugin into the store, as the README's first installation step says, after
    undoing what an earlier run may have left there."""
    remove_plugin(store)
    shutil.copytree(PLUGIN, store.site / "wp-content" / "plugins" / "wcsync-admin")


def orders_list_path(store: StoreInfo) -> str:
    return "/wp-admin/admin.php?page=wc-orders" if store.hpos else "/wp-admin/edit.php?post_type=shop_order"


def order_edit_path(store: StoreInfo, order_id: int) -> str:
    if store.hpos:
        return f"/wp-admin/admin.php?page=wc-orders&action=edit&id={order_id}"
    return f"/wp-admin/post.php?post={order_id}&action=edit"


async def sign_in(page: Page) -> None:
    await page.goto("/wp-login.php")
    await page.fill("#user_login", ADMIN_USER)
    await page.fill("#user_pass", ADMIN_PASSWORD)
    await page.click("#wp-submit")
    await page.wait_for_selector("#wpadminbar")


async def activate_plugin(page: Page) -> str:
    """Press Activate on the plugin's row of the Plugins screen; returns the notice WordPress
    shows (or its error)."""
    await page.goto("/wp-admin/plugins.php")
    row = page.locator(f'tr[data-plugin="{PLUGIN_FILE}"]')
    activate = row.locator("a", has_text="Activate")
    if await activate.count() == 0:
        # WordPress writes "Cannot Activate" instead of a link when the header's requirements fail.
        return (await row.inner_text()).strip()
    await activate.first.click()
    await page.wait_for_load_state()
    # WordPress' own notice (id "message"), or the error it prints when activation fails.
    notices = await page.locator("#message, #wpbody-content .error").all_inner_texts()
    return " ".join(n.strip() for n in notices)


async def plugin_is_active(page: Page) -> bool:
    await page.goto("/wp-admin/plugins.php")
    classes = await page.locator(f'tr[data-plugin="{PLUGIN_FILE}"]').first.get_attribute("class") or ""
    return "active" in classes.split()


def toggle_plugin(store: StoreInfo, on: bool) -> None:
    """Activate or deactivate the plugin from the command line, keeping its settings."""
    result = subprocess.run(
        ["php", str(TOGGLE), str(store.site), store.base_url, "on" if on else "off"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    expected = "active" if on else "inactive"
    assert result.returncode == 0 and result.stdout.strip() == expected, result.stdout + result.stderr


def probe_plugin(store: StoreInfo) -> dict[str, Any]:
    """What the plugin left in the store's database: the token option's autoload flag, read from
    wp_options, and its saved summary."""
    result = subprocess.run(
        ["php", str(PROBE), str(store.site), store.base_url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


async def save_settings(page: Page, *, url: str, token: str, store: str) -> str:
    """Fill in WooCommerce > wcsync and save; returns the notices the page then shows."""
    await page.goto("/wp-admin/admin.php?page=wcsync-admin")
    await page.fill("#wcsync_admin_url", url)
    await page.fill("#wcsync_admin_token", token)
    await page.fill("#wcsync_admin_store", store)
    await page.locator("#submit").click()
    await page.wait_for_load_state()
    notices = await page.locator(".wcsync-admin-settings .notice").all_inner_texts()
    return " ".join(n.strip() for n in notices)


async def configure_plugin(page: Page, *, url: str, token: str, store: str) -> str:
    """Fill in WooCommerce > wcsync, save, and press Check the connection; returns its result."""
    await save_settings(page, url=url, token=token, store=store)
    await page.get_by_role("button", name="Check the connection").click()
    result = page.locator("#wcsync-admin-check-result")
    await page.wait_for_function(
        "() => { const el = document.getElementById('wcsync-admin-check-result');"
        " return el && el.textContent.trim() && !el.textContent.includes('Checking'); }"
    )
    return (await result.inner_text()).strip()
