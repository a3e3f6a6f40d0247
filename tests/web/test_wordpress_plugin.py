"""The WordPress companion plugin: PHP 8.1+ syntax, WordPress conventions that can be read from
the source, and its behaviour run against stand-ins of the WordPress functions it calls
(tests/web/wp_harness.php)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.support import skip_without_browser

if TYPE_CHECKING:
    from playwright.async_api import Route

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "deploy" / "wordpress" / "wcsync-admin"
HARNESS = Path(__file__).resolve().parent / "wp_harness.php"
PHP = shutil.which("php")
PHP_FILES = sorted(PLUGIN.rglob("*.php"))
TOKEN = "tok-SECRET-0123456789"  # the harness's saved token

needs_php = pytest.mark.skipif(
    PHP is None, reason="php is not installed (apt-get install -y php-cli); the PHP checks need it"
)


def source(name: str) -> str:
    return (PLUGIN / name).read_text(encoding="utf-8")


def all_sources() -> dict[str, str]:
    return {str(p.relative_to(PLUGIN)): p.read_text(encoding="utf-8") for p in PHP_FILES}


def calls(text: str, function: str) -> list[str]:
    """Each `function( ... )` call in `text`, with balanced parentheses (strings ignored)."""
    found: list[str] = []
    for match in re.finditer(rf"\b{re.escape(function)}\s*\(", text):
        depth, i, quote = 0, match.end() - 1, ""
        while i < len(text):
            char = text[i]
            if quote:
                if char == "\\":
                    i += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    found.append(text[match.start() : i + 1])
                    break
            i += 1
    return found


def test_plugin_files_exist() -> None:
    names = {str(p.relative_to(PLUGIN)) for p in PLUGIN.rglob("*") if p.is_file()}
    assert {"wcsync-admin.php", "readme.txt", "uninstall.php", "assets/wcsync-admin.js"} <= names
    assert len(PHP_FILES) >= 5


@needs_php
def test_php_version_is_at_least_8_1() -> None:
    assert PHP is not None
    version = subprocess.run(
        [PHP, "-r", "echo PHP_VERSION_ID;"], capture_output=True, text=True, check=True
    ).stdout
    assert int(version) >= 80100, f"PHP {version} is older than the plugin's minimum, 8.1"


@needs_php
@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(p.relative_to(PLUGIN)))
def test_php_lint_is_clean(path: Path) -> None:
    assert PHP is not None
    result = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax errors detected" in result.stdout


def test_plugin_header_and_readme() -> None:
    main = source("wcsync-admin.php")
    for header in ("Plugin Name:", "Requires PHP:      8.1", "Text Domain:       wcsync-admin", "License:"):
        assert header in main
    readme = source("readme.txt")
    assert readme.startswith("=== wcsync Admin ===")
    for field in ("Requires PHP: 8.1", "Stable tag: 0.1.0", "== Installation ==", "== Description =="):
        assert field in readme


def test_every_php_file_refuses_direct_access() -> None:
    for name, text in all_sources().items():
        guard = "WP_UNINSTALL_PLUGIN" if name == "uninstall.php" else "ABSPATH"
        assert re.search(rf"defined\(\s*'{guard}'\s*\)\s*\|\|\s*exit;", text), name


def test_every_rest_route_checks_capability_and_nonce() -> None:
    rest = source("includes/class-wcsync-admin-rest.php")
    routes = calls(rest, "register_rest_route")
    assert len(routes) == 6
    for route in routes:
        assert "'permission_callback' => array( $this, 'check_permission' )" in route, route
        assert "__return_true" not in route
    (check,) = re.findall(r"function check_permission\(.*?\n\t}\n", rest, flags=re.S)
    assert "current_user_can( Wcsync_Admin_Settings::CAPABILITY )" in check
    assert "wp_verify_nonce( $nonce, 'wp_rest' )" in check
    assert "const CAPABILITY   = 'manage_woocommerce';" in source("includes/class-wcsync-admin-settings.php")
    # The scripts get the nonce the routes check.
    assert "wp_create_nonce( 'wp_rest' )" in source("includes/class-wcsync-admin-orders.php")
    assert "'X-WP-Nonce': config.nonce" in source("assets/wcsync-admin.js")


def test_output_is_escaped() -> None:
    """Every echo and every printf argument goes through an escaping function."""
    escapers = ("esc_html", "esc_attr", "esc_url", "absint(", "checked(", "wp_kses")
    for name, text in all_sources().items():
        for statement in re.findall(r"\becho\b(.*?);", text, flags=re.S):
            literal = re.fullmatch(r"\s*'[^'$]*'\s*", statement)
            assert literal or any(e in statement for e in escapers), f"{name}: echo{statement}"
        for call in calls(text, "printf"):
            arguments = call.split("\n")[2:-1]  # the lines after the format string
            for line in arguments:
                line = line.strip()
                if line:
                    assert line.startswith(escapers), f"{name}: printf argument {line!r} is not escaped"
        assert "esc_html" in text or "echo" not in text, name


def test_token_is_never_handed_to_the_browser() -> None:
    orders = source("includes/class-wcsync-admin-orders.php")
    (localized,) = calls(orders, "wp_localize_script")
    assert "token" not in localized.lower()
    settings = source("includes/class-wcsync-admin-settings.php")
    (token_field,) = re.findall(r"function field_token\(.*?\n\t}\n", settings, flags=re.S)
    assert 'value=""' in token_field and "$this->token()" not in token_field
    assert "Authorization' => 'Bearer ' . $this->settings->token()" in source(
        "includes/class-wcsync-admin-client.php"
    )


def test_request_input_is_sanitized() -> None:
    for name, text in all_sources().items():
        for use in re.findall(r"\$_(?:GET|POST|REQUEST)\[[^\]]+\][^;]*", text):
            assert "wp_unslash" in use and "sanitize_" in use, f"{name}: {use}"


# --- behaviour, against stand-ins of WordPress ---------------------------------------------


@cache
def _harness() -> dict[str, Any]:
    assert PHP is not None
    result = subprocess.run(
        [PHP, "-d", "error_reporting=-1", "-d", "display_errors=stderr", str(HARNESS), str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Notices, warnings and deprecations would be printed here.
    assert result.stderr == "", result.stderr
    facts: dict[str, Any] = json.loads(result.stdout)
    return facts


@pytest.fixture
def facts() -> dict[str, Any]:
    if PHP is None:
        pytest.skip("php is not installed (apt-get install -y php-cli)")
    return _harness()


def test_routes_refuse_without_capability_or_nonce(facts: dict[str, Any]) -> None:
    routes = facts["routes"]
    assert set(routes) == {
        "wcsync-admin/v1/pending",
        "wcsync-admin/v1/status",
        "wcsync-admin/v1/sync",
        r"wcsync-admin/v1/runs/(?P<id>\d+)",
        r"wcsync-admin/v1/orders/(?P<id>\d+)",
        r"wcsync-admin/v1/orders/(?P<id>\d+)/sync",
    }
    for name, route in routes.items():
        assert route["no_cap"]["error"] == "rest_forbidden", name
        assert route["no_nonce"] == {
            "error": "rest_cookie_invalid_nonce",
            "status": 403,
            "message": route["no_nonce"]["message"],
        }, name
        assert route["bad_nonce"]["error"] == "rest_cookie_invalid_nonce", name
        assert route["allowed"] is True, name
    assert routes["wcsync-admin/v1/sync"]["methods"] == "POST"
    assert routes[r"wcsync-admin/v1/orders/(?P<id>\d+)/sync"]["methods"] == "POST"


def test_pending_counts_this_store_only(facts: dict[str, Any]) -> None:
    # sub1: 2 coming down from main + 1 going up; sub2's 4 are not its business.
    assert facts["pending_sub"]["data"] == {"store": "sub1", "role": "sub", "pending": 3, "failed": 3}
    # The main store sees every waiting order, once however many copies it waits for (7).
    assert facts["pending_main"]["data"]["pending"] == 6
    requests = facts["pending_requests"]
    assert [r["url"] for r in requests] == [
        "http://wcsync.test:8000/api/stores/sub1",
        "http://wcsync.test:8000/api/pending",
        "http://wcsync.test:8000/api/links?state=failed&store=sub1&limit=1",
    ]
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in requests)


def test_sync_now_and_sync_order_call_wcsync(facts: dict[str, Any]) -> None:
    assert facts["sync_sub_body"] == {"direction": "both", "store": "sub1"}
    assert facts["sync_main_body"] == {"direction": "both"}
    assert facts["sync_sub"]["data"]["run_id"] == 9
    assert facts["order_requests"] == [
        "GET http://wcsync.test:8000/api/orders/sub1/42",
        "POST http://wcsync.test:8000/api/orders/sub1/42/sync",
    ]


def test_wcsync_errors_become_clear_messages(facts: dict[str, Any]) -> None:
    assert facts["token_refused"]["error"] == "wcsync_token_refused"
    assert facts["token_refused"]["status"] == 502  # not 401: the admin is signed in to WordPress
    assert facts["unreachable"]["error"] == "wcsync_unreachable"
    assert TOKEN not in json.dumps([facts["token_refused"], facts["unreachable"]])
    # A wcsync that does not answer costs one call a minute for the menu bubble, not one a page.
    assert facts["bubble_count_down"] is None
    assert facts["bubble_calls_when_down"] == 1


def test_scripts_get_a_nonce_and_never_the_token(facts: dict[str, Any]) -> None:
    localized = facts["localized"]
    assert localized["nonce"] == "good-nonce"
    assert localized["root"] == "https://shop.test/wp-json/wcsync-admin/v1/"
    assert TOKEN not in facts["localized_json"]
    assert facts["localized_without_cap"] == []


def test_orders_notice_on_both_list_screens_only(facts: dict[str, Any]) -> None:
    for screen in ("notice_hpos_list", "notice_classic_list"):
        html = facts[screen]
        assert 'id="wcsync-admin-sync-now"' in html and "<progress" in html, screen
        assert 'aria-live="polite"' in html
    assert facts["notice_hpos_edit"] == ""
    assert facts["notice_without_cap"] == ""


class _Ids(HTMLParser):
    """The attributes of every element carrying a given id, in document order."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if dict(attrs).get("id") == self.element_id:
            self.found.append(dict(attrs))


def elements_with_id(html: str, element_id: str) -> list[dict[str, str | None]]:
    parser = _Ids(element_id)
    parser.feed(html)
    return parser.found


def test_sync_order_box_on_both_storages(facts: dict[str, Any]) -> None:
    assert [(b["screen"], b["context"]) for b in facts["meta_boxes"]] == [
        ("woocommerce_page_wc-orders", "side"),
        ("shop_order", "side"),
    ]
    for screen, order_id in (("meta_box_hpos", "42"), ("meta_box_posts", "43")):
        html = facts[screen]
        assert 'class="postbox ' in html, "the box is rendered inside WordPress' postbox wrapper"
        # The script reads the order id from document.getElementById("wcsync-admin-order"), the
        # first element with that id: it must be the box's own div, and the only one.
        found = elements_with_id(html, "wcsync-admin-order")
        assert len(found) == 1, f"{screen}: {len(found)} elements share the id wcsync-admin-order"
        assert found[0].get("data-order-id") == order_id, screen
    assert "<script>" not in facts["meta_box_hpos"]
    assert "&lt;script&gt;" in facts["meta_box_hpos"]


def test_menu_bubble_on_the_orders_item(facts: dict[str, Any]) -> None:
    home, orders = facts["menu"]
    assert home == "Home"
    assert orders.startswith('Orders <span class="awaiting-mod wcsync-admin-bubble count-12"')
    assert '<span class="wcsync-admin-count">12</span>' in orders


def test_customer_emails_suppressed_for_replicas_only(facts: dict[str, Any]) -> None:
    assert "woocommerce_email_enabled_customer_processing_order" in facts["email_filters"]
    assert "woocommerce_email_recipient_customer_completed_order" in facts["email_filters"]
    assert not any("new_order" in f for f in facts["email_filters"])  # the shop's own emails stay
    assert facts["email_enabled_replica"] is False
    assert facts["email_enabled_own"] is True
    assert facts["email_recipient_replica"] == ""
    assert facts["email_recipient_own"] == "a@example.com"
    assert facts["admin_email_untouched"] is True


def test_origin_filter_adds_a_meta_query(facts: dict[str, Any]) -> None:
    assert facts["origin_query"]["meta_query"] == [
        {"key": "x", "value": "y"},
        {"key": "_wcsync_origin", "value": "main:42", "compare": "="},
    ]
    # A malformed value matches nothing rather than every order.
    assert facts["origin_query_bad"]["meta_query"][0]["value"] == "invalid:0"
    assert facts["origin_query_none"] == {"a": 1}
    assert facts["rest_index"]["wcsync_admin"] == {"origin_filter": True, "suppress_emails": True}


def test_optional_behaviours_are_off_by_default(facts: dict[str, Any]) -> None:
    assert facts["filters_by_default"] == ["rest_index"]


def test_settings_keep_the_token_and_refuse_bad_values(facts: dict[str, Any]) -> None:
    assert facts["token_blank_keeps"] == TOKEN
    assert facts["token_new"] == "new-token"
    assert facts["sanitized"] == {
        "url": "",
        "store": "sub-1",
        "suppress_emails": True,
        "origin_filter": False,
    }
    assert facts["settings_errors"] == ["wcsync_admin_url"]


@pytest.mark.browser
@skip_without_browser()
async def test_sync_order_box_script_asks_for_the_order_inside_the_postbox(facts: dict[str, Any]) -> None:
    """The plugin's script, in Chromium, over the box as the harness renders it inside the
    postbox: it must ask for this order, not for orders/NaN."""
    from tests.web.support import chromium, new_page

    root = facts["localized"]["root"]
    config = {**facts["localized"], "root": root}
    script = (PLUGIN / "assets" / "wcsync-admin.js").read_text(encoding="utf-8")
    page_html = (
        '<!doctype html><html><body><div id="poststuff">'
        + facts["meta_box_hpos"]
        + f"</div><script>window.wcsyncAdmin = {json.dumps(config)};</script><script>{script}</script>"
        + "</body></html>"
    )
    view = {
        "store": "sub1",
        "order_id": 42,
        "links": [{"target": {"store": "main", "order_id": 1234}, "state": "synced", "last_error": None}],
        "events": [],
    }
    asked: list[str] = []

    async def rest(route: Route) -> None:
        asked.append(f"{route.request.method} {route.request.url.removeprefix(root)}")
        await route.fulfill(json=view)

    async def screen(route: Route) -> None:
        await route.fulfill(body=page_html, content_type="text/html")

    async with chromium() as browser, new_page(browser, "https://shop.test") as page:
        await page.route(f"{root}**", rest)
        await page.route("https://shop.test/wp-admin/**", screen)
        await page.goto("/wp-admin/admin.php?page=wc-orders&action=edit&id=42")
        await page.wait_for_selector("#wcsync-admin-links table")
        assert "#1234" in await page.locator("#wcsync-admin-links").inner_text()
        await page.get_by_role("button", name="Sync Order").click()
        await page.wait_for_function("() => !document.getElementById('wcsync-admin-sync-order').disabled")
    assert asked == ["GET orders/42", "POST orders/42/sync"]
