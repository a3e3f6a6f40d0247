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

from tests.waiting import PATIENCE
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
    for field in ("Requires PHP: 8.1", "Stable tag: 0.2.0", "== Installation ==", "== Description =="):
        assert field in readme
    # One version everywhere, still activatable on WordPress 6.1 and WooCommerce 7.8.
    assert "Version:           0.2.0" in main and "define( 'WCSYNC_ADMIN_VERSION', '0.2.0' );" in main
    assert "Requires at least: 6.1" in main and "WC requires at least: 7.8" in main
    assert "Requires at least: 6.1" in readme


def test_every_php_file_refuses_direct_access() -> None:
    for name, text in all_sources().items():
        guard = "WP_UNINSTALL_PLUGIN" if name == "uninstall.php" else "ABSPATH"
        assert re.search(rf"defined\(\s*'{guard}'\s*\)\s*\|\|\s*exit;", text), name


def test_every_rest_route_checks_capability_and_nonce() -> None:
    rest = source("includes/class-wcsync-admin-rest.php")
    routes = calls(rest, "register_rest_route")
    assert len(routes) == 7
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
        timeout=PATIENCE,
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
        "wcsync-admin/v1/failed",
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
    # sub1: 2 coming down from main + 1 going up; sub2's 4 are not its business. Its failed
    # orders come from its own listing (only the orders it holds).
    summary = facts["pending_sub"]["data"]
    assert {k: summary[k] for k in ("store", "role", "pending", "copies", "failed", "failed_ids")} == {
        "store": "sub1",
        "role": "sub",
        "pending": 3,
        "copies": 3,
        "failed": 3,
        "failed_ids": [42, 44, 45],
    }
    assert summary["notice"] == {
        "kind": "failed",
        "text": "3 orders waiting to sync.",
        "failed_text": "3 orders failed and need attention.",
        "failed": 3,
        "settings_url": "",
    }
    requests = facts["pending_requests"]
    assert [r["url"] for r in requests] == [
        "http://wcsync.test:8000/api/stores/sub1",
        "http://wcsync.test:8000/api/pending",
        "http://wcsync.test:8000/api/stores/sub1/failed-orders?limit=100",
    ]
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in requests)
    # The refresh runs after the page has loaded, and still gives up within a second.
    assert all(r["timeout"] <= 1 for r in requests)
    assert {k: v for k, v in facts["summary_saved"].items() if k not in ("checked_at", "for")} == {
        k: v for k, v in summary.items() if k not in ("checked_at", "notice")
    }
    assert "for" not in summary


def test_counts_are_orders_with_copies_as_the_detail(facts: dict[str, Any]) -> None:
    # The main store: 6 orders waiting for 7 copies reads "6 orders", not "7".
    main = facts["pending_main"]["data"]
    assert (main["pending"], main["copies"]) == (6, 7)
    assert main["notice"]["text"] == "6 orders waiting to sync (7 copies)."
    assert main["notice"]["kind"] == "ok"
    assert facts["texts"] == {
        "one_of_two": "1 order waiting to sync (2 copies).",
        "one": "1 order waiting to sync.",
        "none": "No order is waiting to sync.",
        "three_of_5": "3 orders waiting to sync (5 copies).",
        "failed_one": "1 order failed and needs attention.",
        "failed_many": "4 orders failed and need attention.",
        "bubble_one": "1 order waiting for wcsync",
    }
    # Both numbers go through _n(), so every language gets its plural forms.
    assert facts["n_calls_for_orders_and_copies"] == 2
    text = source("includes/class-wcsync-admin-text.php")
    assert len(calls(text, "_n")) >= 5
    assert "pendingMany" not in source("includes/class-wcsync-admin-orders.php")


def test_the_failed_orders_list_links_each_order_here(facts: dict[str, Any]) -> None:
    listed = facts["failed_list"]["data"]
    assert (listed["total"], listed["message"]) == (3, "3 orders failed and need attention.")
    first = listed["items"][0]
    assert first["order_id"] == 42 and first["number"] == "N42"
    assert first["edit_url"] == "https://shop.test/wp-admin/post.php?post=42&action=edit"
    assert first["links"][0]["last_error"] == "Unknown SKU X on main"
    assert first["links"][0]["target"] == {"store": "main", "order_id": None}


def test_sync_now_and_sync_order_call_wcsync(facts: dict[str, Any]) -> None:
    assert facts["sync_sub_body"] == {"direction": "both", "store": "sub1"}
    assert facts["sync_main_body"] == {"direction": "both"}
    assert facts["sync_sub"]["data"]["run_id"] == 9
    assert facts["order_requests"] == [
        "GET http://wcsync.test:8000/api/orders/sub1/42",
        "POST http://wcsync.test:8000/api/orders/sub1/42/sync",
    ]
    assert (facts["run_running"]["message"], facts["run_running"]["finished"]) == (
        "Syncing: 1 of 3 copies…",
        False,
    )
    assert facts["run_finished"]["message"] == "Sync finished: 2 created, 1 updated, 0 skipped, 0 failed."
    assert facts["run_finished"]["finished"] is True


def test_a_replica_names_its_origin_with_a_link(facts: dict[str, Any]) -> None:
    assert facts["replica_requests"] == [
        "GET http://wcsync.test:8000/api/orders/sub1/42",
        "GET http://wcsync.test:8000/api/orders/sub1/42/origin",
    ]
    assert facts["replica_order"]["data"]["origin"] == {
        "store": "main",
        "order_id": 7,
        "label": "main:7",
        "admin_url": "http://main.test/wp-admin/post.php?post=7&action=edit",
    }
    # An order of the store's own asks for no origin.
    assert len(facts["order_requests"]) == 2
    # Known from an earlier look, the note is a link as soon as the box is drawn.
    (link,) = elements_with_id(facts["meta_box_origin_link"], "wcsync-admin-origin-link")
    assert link["href"] == "http://main.test/wp-admin/post.php?post=7&amp;action=edit".replace("&amp;", "&")


def test_wcsync_errors_become_clear_messages(facts: dict[str, Any]) -> None:
    assert facts["token_refused"]["error"] == "wcsync_token_refused"
    assert facts["token_refused"]["status"] == 502  # not 401: the admin is signed in to WordPress
    # A wrong token points at the settings page.
    assert (
        facts["token_refused_data"]["settings_url"]
        == "https://shop.test/wp-admin/admin.php?page=wcsync-admin"
    )
    # Plain words, not the transport's "cURL error 7: ...".
    assert facts["unreachable"] == {
        "error": "wcsync_unreachable",
        "status": 502,
        "message": "wcsync did not answer at http://wcsync.test:8000; is it running?",
    }
    assert facts["hung"] == {
        "error": "wcsync_not_answering",
        "status": 504,
        "message": "wcsync is not answering at http://wcsync.test:8000; is it running?",
    }
    # A hung wcsync: one call with a one-second timeout, and the first failure ends the refresh.
    assert facts["hung_requests"] == [{"url": "http://wcsync.test:8000/api/stores/main", "timeout": 1}]
    assert facts["error_saved"]["state"] == "error" and "not answering" in facts["error_saved"]["message"]
    everything = json.dumps(
        [facts["token_refused"], facts["unreachable"], facts["hung"], facts["error_saved"]]
    )
    assert TOKEN not in everything and "cURL" not in everything


def test_a_paused_token_is_said_in_an_owners_words_and_not_asked_again_before_the_pause_ends(
    facts: dict[str, Any],
) -> None:
    assert facts["token_paused"] == {
        "error": "wcsync_token_paused",
        "status": 502,
        "message": "wcsync refused the token saved for this store too many times, and stops checking "
        "it for 120 seconds. Enter a new store token in the wcsync settings.",
    }
    # Asked again after the pause (120 s), not after the usual minute.
    assert facts["token_paused_stale"] == [False, False, True]


def test_pages_never_call_wcsync(facts: dict[str, Any]) -> None:
    """The bubble (every admin page), the notice and the marks read the saved summary only."""
    assert facts["bubble_count_down"] is None and facts["bubble_count_unknown"] is None
    assert facts["page_calls"] == 0
    assert facts["menu_calls"] == 0
    assert facts["notice_error_calls"] == 0
    client = source("includes/class-wcsync-admin-client.php")
    (cached,) = re.findall(r"function cached_pending_count\(.*?\n\t}\n", client, flags=re.S)
    assert "request(" not in cached and "refresh(" not in cached
    orders = source("includes/class-wcsync-admin-orders.php")
    assert "->refresh(" not in orders and "->request(" not in orders and "->pending(" not in orders
    # A stale summary brings the script onto the page to refresh it after the load; a fresh one
    # does not.
    assert facts["dashboard_stale_script"] == "yes"
    assert facts["dashboard_fresh_script"] is False


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


def _notice(html: str) -> dict[str, Any]:
    (notice,) = elements_with_id(html, "wcsync-admin-notice")
    (button,) = elements_with_id(html, "wcsync-admin-sync-now")
    (failed,) = elements_with_id(html, "wcsync-admin-failed")
    (fix,) = elements_with_id(html, "wcsync-admin-fix")
    progress = [a for a in _elements_with_class(html, "wcsync-admin-progress")]
    return {
        "classes": (notice.get("class") or "").split(),
        "primary": "button-primary" in (button.get("class") or "").split(),
        "failed_link": None if "hidden" in failed else failed.get("href"),
        "fix_link": None if "hidden" in fix else fix.get("href"),
        "progress_hidden": all("hidden" in p for p in progress) and len(progress) == 1,
    }


def test_the_notice_looks_like_what_it_says(facts: dict[str, Any]) -> None:
    ok = _notice(facts["notice_ok"])
    assert "notice-info" in ok["classes"] and ok["primary"] and ok["progress_hidden"]
    assert ok["failed_link"] is None and ok["fix_link"] is None
    assert "1 order waiting to sync (2 copies)." in facts["notice_ok"]
    assert 'data-kind="checking"' in facts["notice_other_settings"]
    failed = _notice(facts["notice_failed"])
    assert "notice-warning" in failed["classes"] and failed["primary"]
    assert failed[
        "failed_link"
    ] == "https://shop.test/wp-admin/admin.php?page=wcsync-admin&amp;tab=failed".replace("&amp;", "&")
    assert "3 orders failed and need attention." in facts["notice_failed"]
    # An error is red, Sync Now is no longer the main action, and the words are plain.
    error = _notice(facts["notice_error"])
    assert "notice-error" in error["classes"] and "notice-info" not in error["classes"]
    assert not error["primary"] and error["progress_hidden"]
    assert "wcsync is not answering at http://wcsync.test:8000; is it running?" in facts["notice_error"]


def test_the_progress_bar_stays_hidden_until_sync_now() -> None:
    """The row is a flex box, but `hidden` must win (the rule used to override it)."""
    css = source("assets/wcsync-admin.css")
    assert re.search(r"\.wcsync-admin-notice \[hidden\]\s*{\s*display:\s*none !important;", css)
    assert not re.search(r"\.wcsync-admin-notice p\s*{[^}]*display:\s*flex", css)


def test_failed_orders_are_marked_in_both_orders_lists(facts: dict[str, Any]) -> None:
    assert list(facts["columns_posts"]) == ["cb", "order_number", "wcsync_admin"]
    assert list(facts["columns_hpos"]) == ["cb", "order_number", "wcsync_admin"]
    assert "Sync failed" in facts["mark_failed_post"] and "tab=failed" in facts["mark_failed_post"]
    assert "Sync failed" in facts["mark_failed_hpos"]
    assert facts["mark_ok_post"] == '<span class="wcsync-admin-mark" data-order-id="43"></span>'
    assert facts["mark_other_column"] == ""


class _Classes(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.name in (dict(attrs).get("class") or "").split():
            self.found.append(dict(attrs))


def _elements_with_class(html: str, name: str) -> list[dict[str, str | None]]:
    parser = _Classes(name)
    parser.feed(html)
    return parser.found


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
    assert orders.startswith(
        'Orders <span class="wcsync-admin-bubble count-12" title="12 orders waiting for wcsync"'
    )
    assert '<span class="wcsync-admin-count">12</span>' in orders
    # Not WooCommerce's red `awaiting-mod` bubble: a second one just like it read as a duplicate.
    assert "awaiting-mod" not in orders and "update-plugins" not in orders
    # Before the first summary: there, hidden, for the script to fill in.
    assert (
        'class="wcsync-admin-bubble count-0"' in facts["menu_unknown"] and " hidden>" in facts["menu_unknown"]
    )
    css = source("assets/wcsync-admin.css")
    assert re.search(r"#adminmenu \.wcsync-admin-bubble\s*{[^}]*background-color:\s*#2271b1", css)


def test_private_line_meta_is_hidden_in_the_order_items_box(facts: dict[str, Any]) -> None:
    hidden = facts["hidden_itemmeta"]
    assert hidden[:2] == ["_qty", "_tax_class"] and "_wcsync_origin_item" in hidden
    # Any _wcsync_ key, also one a later wcsync adds, is dropped from the formatted meta.
    assert facts["formatted_meta"] == [1]


def test_the_token_is_saved_without_autoload(facts: dict[str, Any]) -> None:
    assert facts["token_posted"] == ["wcst_posted", "no"]
    assert facts["token_reposted_autoload"] == "no"
    assert facts["upgraded"] == ["wcst_posted", "no", "0.2.0"]
    # options.php does not save it (it would create the option autoloaded).
    settings = source("includes/class-wcsync-admin-settings.php")
    assert "register_setting(\n\t\t\tself::GROUP,\n\t\t\tself::TOKEN_OPTION" not in settings
    assert "add_option( self::TOKEN_OPTION, $token, '', 'no' )" in settings


def test_uninstall_cleans_every_site_of_a_network(facts: dict[str, Any]) -> None:
    sites = facts["uninstalled_sites"]
    assert sorted(sites) == ["1", "2", "3"]
    for blog, left in sites.items():
        assert left == {"options": ["blogname"], "transients": ["other"]}, blog


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
    assert facts["rest_index"]["wcsync_admin"] == {
        "origin_filter": True,
        "suppress_emails": True,
        "marks_changes": True,
    }


def test_every_save_of_an_order_moves_its_date_on_the_posts_storage(facts: dict[str, Any]) -> None:
    """The posts storage keeps an order's date when its items, addresses, totals or meta are
    saved (real 7.8.2): the plugin moves it, so that wcsync sees the edit."""
    assert facts["marks_changes"] == {"saved": True, "new": None, "already": 1}


def test_optional_behaviours_are_off_by_default(facts: dict[str, Any]) -> None:
    # Only the REST index note and hiding wcsync's private line meta are always on.
    assert facts["filters_by_default"] == [
        "rest_index",
        "woocommerce_hidden_order_itemmeta",
        "woocommerce_order_item_get_formatted_meta_data",
    ]


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
    # A fresh summary: the script does not refresh it on this page.
    config = {**facts["localized"], "root": root, "refresh": ""}
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


def test_the_translation_template_is_up_to_date() -> None:
    """languages/wcsync-admin.pot holds every string of the text domain, plurals as plurals
    (`python -m tests.web.pot` writes it)."""
    from tests.web import pot

    assert pot.POT.read_text(encoding="utf-8") == pot.render(), "run: python -m tests.web.pot"
    found = pot.entries()
    plurals = {key for key in found if key[1] is not None}
    assert ("%s order waiting to sync", "%s orders waiting to sync") in plurals
    assert ("%s order failed and needs attention.", "%s orders failed and need attention.") in plurals
    # Every translation call of the sources is in it (a call the pattern missed would not be).
    calls_in_code = 0
    translate = re.compile(r"\b(?:__|_e|esc_html__|esc_attr__|esc_html_e|esc_attr_e|_n)\(")
    for path in PHP_FILES:
        # Without comments (a docblock may name _n()); a URL in a string is no comment.
        text = path.read_text(encoding="utf-8")
        code = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith(("//", "/*", "*"))
        )
        calls_in_code += len(translate.findall(code))
    assert sum(len(e["refs"]) for e in found.values()) == calls_in_code
    main = source("wcsync-admin.php")
    assert "Domain Path:       /languages" in main and "load_plugin_textdomain( 'wcsync-admin'" in main
