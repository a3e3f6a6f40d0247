"""Order summaries, order storage from real system_status answers, and admin screen URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.sync.orderinfo import order_admin_url, order_storage, order_summary
from tests.conftest import RECORDED


@pytest.mark.parametrize(
    ("recording", "storage"),
    [
        ("real-7.8-posts/s07-system-status.json", "posts"),
        ("real-7.8-hpos/s07-system-status.json", "hpos"),
        ("real-10.6-hpos/s07-system-status.json", "hpos"),
        ("posts/35a-system-status.json", "posts"),
        ("hpos/35a-system-status.json", "hpos"),
    ],
)
def test_storage_from_what_real_stores_answered(recording: str, storage: str) -> None:
    answer = json.loads((RECORDED / recording).read_text())["response"]["body"]
    assert order_storage(answer) == storage


def test_storage_from_the_datastore_alone_or_unknown() -> None:
    hpos = "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore"
    assert order_storage({"settings": {"order_datastore": hpos}}) == "hpos"
    assert order_storage({"settings": {"order_datastore": "WC_Order_Data_Store_CPT"}}) == "posts"
    assert order_storage({"settings": {}}) is None
    assert order_storage({}) is None


def test_admin_url_in_both_forms() -> None:
    assert order_admin_url("https://shop.test/sub/", "posts", 5857) == (
        "https://shop.test/sub/wp-admin/post.php?post=5857&action=edit"
    )
    assert order_admin_url("https://shop.test", "hpos", 5857) == (
        "https://shop.test/wp-admin/admin.php?page=wc-orders&action=edit&id=5857"
    )
    assert order_admin_url("https://shop.test", None, 5857) is None
    assert order_admin_url("https://shop.test", "hpos", None) is None


def test_summary_names_the_customer_and_keeps_total_currency_and_date() -> None:
    order = {
        "total": "57.50",
        "currency": "EUR",
        "date_created_gmt": "2026-11-02T09:15:00",
        "billing": {"first_name": " Ada ", "last_name": "Lovelace", "company": "Engines"},
    }
    assert order_summary(order) == {
        "customer": "Ada Lovelace",
        "total": "57.50",
        "currency": "EUR",
        "created_gmt": datetime(2026, 11, 2, 9, 15, tzinfo=UTC),
    }
    shipped = {"billing": {"first_name": ""}, "shipping": {"first_name": "Grace", "last_name": ""}}
    assert order_summary(shipped)["customer"] == "Grace"
    assert order_summary({"billing": {"company": "Acme"}})["customer"] == "Acme"
    assert order_summary({"billing": "junk", "total": ""}) == {
        "customer": None,
        "total": None,
        "currency": None,
        "created_gmt": None,
    }
