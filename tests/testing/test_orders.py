"""Order writes: totals, dates per storage, batches, refunds, emails and the direct helpers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.testing import DEMO_CATALOG, SIMPLE_CATALOG, FakeStore
from tests.testing.conftest import API, make_store


def tick(store: FakeStore, seconds: float = 1.0) -> None:
    store.knobs.clock_skew_seconds += seconds


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/orders", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestCatalogue:
    def test_one_sku_has_different_ids_in_different_stores(self) -> None:
        stores = [make_store(name) for name in ("main", "sub1", "sub2", "sub3")]
        mug_ids = {store.product_id("SKU-MUG-001") for store in stores}
        assert len(mug_ids) == 4
        assert [p["sku"] for p in DEMO_CATALOG] == [
            "SKU-TSHIRT-RED",
            "SKU-TSHIRT-BLUE",
            "SKU-MUG-001",
            "SKU-HOODIE-L",
            "SKU-STICKER",
            "SKU-POLO",
        ]
        assert [v["sku"] for v in DEMO_CATALOG[-1].get("variations", [])] == [
            "SKU-POLO-S",
            "SKU-POLO-M",
            "SKU-POLO-L",
        ]
        assert [p["sku"] for p in SIMPLE_CATALOG] == [p["sku"] for p in DEMO_CATALOG[:5]]

    def test_explicit_offset_and_added_products_continue_the_sequence(self) -> None:
        store = make_store(product_id_offset=10)
        assert store.product_id("SKU-TSHIRT-RED") == 10 and store.product_id("SKU-STICKER") == 14
        # The variable polo takes 15 and its three variations 16-18.
        assert store.product_id("SKU-POLO") == 15 and store.product_id("SKU-POLO-L") == 18
        extra = store.add_product("SKU-EXTRA", "Extra", "1.00", stock=3)
        assert extra["id"] == 19 and extra["stock_quantity"] == 3 and extra["manage_stock"] is True
        with pytest.raises(ValueError):
            store.add_product("SKU-EXTRA", "Again", "2.00")

    async def test_products_by_sku_and_pages(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/products", params={"sku": "SKU-MUG-001,SKU-STICKER"})
        assert sorted(p["sku"] for p in response.json()) == ["SKU-MUG-001", "SKU-STICKER"]
        paged = await client.get(f"{API}/products", params={"per_page": 2, "_fields": "id,sku"})
        # Six products: the five simple ones and the variable polo, never its variations.
        assert paged.headers["x-wp-total"] == "6" and paged.headers["x-wp-totalpages"] == "3"
        assert all(set(p) == {"id", "sku"} for p in paged.json())
        assert 'rel="next"' in paged.headers["link"]


class TestCreate:
    async def test_totals_keep_posted_line_totals_and_derive_the_discount(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = await create(
            client,
            line_items=[
                {"sku": "SKU-TSHIRT-RED", "quantity": 2, "subtotal": "39.98", "total": "30.00"},
                {"product_id": store.product_id("SKU-MUG-001"), "quantity": 1},
            ],
            shipping_lines=[{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.00"}],
            fee_lines=[{"name": "Gift wrap", "total": "1.50"}],
        )
        assert [(i["total"], i["price"]) for i in order["line_items"]] == [("30.00", 15), ("9.50", 9.5)]
        assert order["discount_total"] == "9.98"
        assert order["total"] == "45.00"  # 30.00 + 9.50 + 4.00 + 1.50
        assert order["shipping_total"] == "4.00"
        assert order["status"] == "pending" and order["needs_payment"] is True

    async def test_processing_sets_date_paid_reduces_stock_and_emails(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        before = store.products[store.product_id("SKU-MUG-001")]["stock_quantity"]
        order = await create(
            client,
            status="processing",
            billing={"email": "ada@example.test"},
            line_items=[{"sku": "SKU-MUG-001", "quantity": 3}],
        )
        assert order["date_paid_gmt"] == order["date_created_gmt"]
        assert store.products[store.product_id("SKU-MUG-001")]["stock_quantity"] == before - 3
        assert order["line_items"][0]["meta_data"][0]["key"] == "_reduced_stock"
        assert [(e["to"], e["subject"]) for e in store.emails] == [
            ("admin@main.example.test", f"[WC rig main]: New order #{order['id']}"),
            ("ada@example.test", "Your WC rig main order has been received!"),
        ]

    async def test_set_paid_completes_payment(self, client: httpx.AsyncClient) -> None:
        order = await create(client, set_paid=True, line_items=[{"sku": "SKU-MUG-001", "quantity": 1}])
        assert order["status"] == "processing" and order["date_paid"] is not None

    async def test_a_line_needs_a_product_reference(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(f"{API}/orders", json={"line_items": [{"quantity": 1}]})
        assert response.status_code == 400
        assert response.json()["code"] == "woocommerce_rest_required_product_reference"
        assert store.orders == {}

    async def test_unknown_coupon_leaves_a_pending_order_with_the_meta(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            f"{API}/orders",
            json={
                "status": "processing",
                "line_items": [{"sku": "SKU-MUG-001", "quantity": 1}],
                "coupon_lines": [{"code": "SAVE10"}],
                "meta_data": [{"key": "_wcsync_origin", "value": "main:9"}],
            },
        )
        assert response.status_code == 400
        assert response.json()["message"] == 'Coupon "SAVE10" does not exist!'
        (orphan,) = store.find_by_meta("_wcsync_origin", "main:9")
        assert orphan["status"] == "pending" and orphan["total"] == "9.50"
        assert store.stats.orders_created == 1


class TestUpdate:
    async def test_meta_only_put_moves_date_modified_on_hpos_but_not_posts(self) -> None:
        for storage, moves in (("posts", False), ("hpos", True)):
            store = make_store(storage=storage)
            order = store.place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": "main:1"})
            tick(store, 2)
            async with store.client() as client:
                response = await client.put(
                    f"{API}/orders/{order['id']}",
                    json={"meta_data": [{"key": "_wcsync_origin", "value": "main:2"}]},
                )
            body = response.json()
            assert body["meta_data"][0] == {
                "id": order["meta_data"][0]["id"],
                "key": "_wcsync_origin",
                "value": "main:2",
            }
            assert (body["date_modified_gmt"] != order["date_modified_gmt"]) is moves, storage

    async def test_posts_date_moves_for_status_and_note_only(self) -> None:
        store = make_store(storage="posts")
        order = store.place_order([("SKU-MUG-001", 1)], status="pending")
        async with store.client() as client:
            for body, moves in (
                ({"billing": {"city": "Paris"}}, False),
                ({"line_items": [{"sku": "SKU-STICKER", "quantity": 1}]}, False),
                ({"customer_note": "ring twice"}, True),
                ({"status": "on-hold"}, True),
            ):
                before = store.orders[order["id"]]["date_modified_gmt"]
                tick(store, 2)
                response = await client.put(f"{API}/orders/{order['id']}", json=body)
                assert response.status_code == 200
                assert (response.json()["date_modified_gmt"] != before) is moves, body

    async def test_line_quantity_zero_deletes_and_quantity_alone_keeps_the_total(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = await create(
            client,
            line_items=[{"sku": "SKU-TSHIRT-RED", "quantity": 2}, {"sku": "SKU-MUG-001", "quantity": 1}],
        )
        red, mug = (item["id"] for item in order["line_items"])
        url = f"{API}/orders/{order['id']}"
        after = (await client.put(url, json={"line_items": [{"id": red, "quantity": 0}]})).json()
        assert [i["id"] for i in after["line_items"]] == [mug] and after["total"] == "9.50"
        after = (await client.put(url, json={"line_items": [{"id": mug, "quantity": 5}]})).json()
        assert (after["line_items"][0]["total"], after["line_items"][0]["price"]) == ("9.50", 1.9)
        wrong = await client.put(url, json={"line_items": [{"id": 123456, "quantity": 1}]})
        assert wrong.status_code == 400 and wrong.json()["code"] == "woocommerce_rest_invalid_item_id"

    async def test_missing_order_is_400_on_put_404_on_get_and_delete(self, client: httpx.AsyncClient) -> None:
        assert (await client.put(f"{API}/orders/424242", json={})).status_code == 400
        assert (await client.get(f"{API}/orders/424242")).status_code == 404
        assert (await client.delete(f"{API}/orders/424242")).status_code == 404

    async def test_completed_sets_date_and_emails_the_customer(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = store.place_order([("SKU-MUG-001", 1)])
        sent = len(store.emails)
        response = await client.put(f"{API}/orders/{order['id']}", json={"status": "completed"})
        assert response.json()["date_completed_gmt"] is not None
        assert [e["subject"] for e in store.emails[sent:]] == ["Your WC rig main order is now complete"]

    async def test_trash_then_gone_then_force(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        order = store.place_order([("SKU-MUG-001", 1)])
        url = f"{API}/orders/{order['id']}"
        assert (await client.delete(url)).json()["status"] == "processing"
        assert store.orders[order["id"]]["status"] == "trash"
        again = await client.delete(url)
        assert again.status_code == 410 and again.json()["code"] == "woocommerce_rest_already_trashed"
        assert (await client.delete(url, params={"force": "true"})).status_code == 200
        assert order["id"] not in store.orders


class TestBatch:
    async def test_more_than_100_items_is_413_and_nothing_happens(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        existing = store.place_order([("SKU-MUG-001", 1)])
        body = {
            "create": [{"line_items": [{"sku": "SKU-STICKER", "quantity": 1}]}] * 99,
            "update": [{"id": existing["id"], "status": "completed"}],
            "delete": [existing["id"]],
        }
        response = await client.post(f"{API}/orders/batch", json=body)
        assert response.status_code == 413
        assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"
        assert list(store.orders) == [existing["id"]]
        assert store.orders[existing["id"]]["status"] == "processing"
        body["delete"] = []
        assert (await client.post(f"{API}/orders/batch", json=body)).status_code == 200
        assert len(store.orders) == 100

    async def test_items_succeed_or_fail_alone_in_request_order(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        existing = store.place_order([("SKU-MUG-001", 1)])
        response = await client.post(
            f"{API}/orders/batch",
            json={
                "delete": [existing["id"], 999],
                "create": [
                    {"status": "not-a-status", "line_items": [{"sku": "SKU-STICKER", "quantity": 1}]},
                    {"id": existing["id"]},
                ],
                "update": [{"id": 999, "status": "completed"}],
            },
        )
        body = response.json()
        assert list(body) == ["create", "update", "delete"]
        assert body["create"][0]["status"] == "pending"
        assert body["create"][1] == {
            "id": 0,
            "error": {
                "code": "woocommerce_rest_shop_order_exists",
                "message": "Cannot create existing shop_order.",
                "data": {"status": 400},
            },
        }
        assert body["update"][0]["error"]["data"] == {"status": 400}
        assert body["delete"][0]["id"] == existing["id"]
        assert body["delete"][1] == {
            "id": 999,
            "error": {
                "code": "woocommerce_rest_shop_order_invalid_id",
                "message": "Invalid ID.",
                "data": {"status": 404},
            },
        }
        assert existing["id"] not in store.orders  # batch deletes skip the trash


class TestRefundsAndNotes:
    async def test_refund_needs_api_refund_false_and_a_valid_amount(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = store.place_order([("SKU-MUG-001", 1)])  # 14.50 with shipping
        url = f"{API}/orders/{order['id']}/refunds"
        gateway = await client.post(url, json={"amount": "1.00"})
        assert gateway.status_code == 500
        assert gateway.json()["code"] == "woocommerce_rest_cannot_create_order_refund"
        too_much = await client.post(url, json={"amount": "20.00", "api_refund": False})
        assert too_much.status_code == 500 and too_much.json()["data"] == 500
        partial = await client.post(url, json={"amount": "4.50", "api_refund": False, "reason": "r1"})
        assert partial.status_code == 201
        rest = await client.post(url, json={"amount": "10.00", "api_refund": False})
        assert rest.status_code == 201
        refunded = store.orders[order["id"]]
        assert refunded["status"] == "refunded" and refunded["total"] == "14.50"
        assert [r["total"] for r in refunded["refunds"]] == ["-10.00", "-4.50"]

    async def test_hpos_reads_refunds_back_empty(self) -> None:
        store = make_store(storage="hpos")
        order = store.place_order([("SKU-MUG-001", 1)])
        async with store.client() as client:
            created = await client.post(
                f"{API}/orders/{order['id']}/refunds",
                json={"amount": "2.00", "reason": "dent", "api_refund": False},
            )
            listed = await client.get(f"{API}/orders/{order['id']}/refunds")
        assert (created.json()["amount"], created.json()["reason"]) == ("0.00", "")
        assert listed.json()[0]["amount"] == "0.00"
        assert store.orders[order["id"]]["refunds"][0] == {
            "id": created.json()["id"],
            "reason": "dent",
            "total": "-2.00",
        }

    async def test_customer_note_emails_and_keeps_date_modified(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = store.place_order([("SKU-MUG-001", 1)])
        tick(store, 2)
        response = await client.post(
            f"{API}/orders/{order['id']}/notes", json={"note": "Shipped today", "customer_note": True}
        )
        assert response.status_code == 201
        assert store.emails[-1]["type"] == "customer_note"
        assert store.orders[order["id"]]["date_modified_gmt"] == order["date_modified_gmt"]
        assert store.notes[order["id"]][0]["note"] == "Shipped today"
        missing = await client.post(f"{API}/orders/{order['id']}/notes", json={})
        assert missing.status_code == 400 and missing.json()["code"] == "rest_missing_callback_param"


class TestDirectHelpers:
    def test_place_order_is_a_checkout(self, store: FakeStore) -> None:
        order = store.place_order(
            [("SKU-TSHIRT-RED", 2), ("SKU-STICKER", 1)],
            customer_note="gift",
            meta={"ref": "A1"},
            shipping_total="0.00",
        )
        assert order["created_via"] == "checkout" and order["status"] == "processing"
        assert order["total"] == "43.23" and order["shipping_lines"] == []
        assert order["meta_data"][0]["key"] == "ref" and order["customer_note"] == "gift"
        assert order["date_paid_gmt"] == order["date_created_gmt"] is not None
        assert store.orders[order["id"]] == order
        with pytest.raises(KeyError):
            store.place_order([("SKU-NOPE", 1)])

    def test_update_direct_always_bumps_and_can_set_dates(self, store: FakeStore) -> None:
        order = store.place_order([("SKU-MUG-001", 1)], meta={"a": "1"})
        tick(store, 2)
        edited = store.update_order_direct(order["id"], meta={"a": "2"})
        assert edited["date_modified_gmt"] > order["date_modified_gmt"]  # wp-admin saves the post
        placed = store.update_order_direct(order["id"], date_modified_gmt="2020-01-02T03:04:05")
        assert placed["date_modified"] == placed["date_modified_gmt"] == "2020-01-02T03:04:05"
        with pytest.raises(KeyError):
            store.update_order_direct(987654, status="completed")

    async def test_find_by_meta_sees_trashed_orders(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        order = store.place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": "main:5"})
        await client.delete(f"{API}/orders/{order['id']}")
        (found,) = store.find_by_meta("_wcsync_origin", "main:5")
        assert found["status"] == "trash"
        assert {m["key"] for m in found["meta_data"]} >= {"_wp_trash_meta_status", "_wp_trash_meta_time"}
        restored = store.update_order_direct(order["id"], status="processing")
        assert {m["key"] for m in restored["meta_data"]} == {"_wcsync_origin"}
