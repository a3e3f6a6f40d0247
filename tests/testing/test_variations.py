"""Variable products and their variations, as recorded on real 7.8.2 and 10.6.2 stores.

The recorder's ``variations`` cases run against a fake store of the same version and storage
(``recorded/real-*/v*``): creating a variable product and its variations, finding them (by a
variation's SKU, a SKU list, the variations route; never in a plain listing), order lines by
parent + variation, variation id or variation SKU, line meta, line refunds and the refunds the
store refuses. Then the demo catalogue's variable product, through the fake's own API.
"""

from __future__ import annotations

import pytest

from app.testing import DEMO_CATALOG, FakeStore, Knobs
from tests.testing.conftest import API, make_store
from tests.testing.replay import (
    REALWC_CATALOG,
    assert_replays,
    normalized,
    recorded,
    recorded_cases,
    replayed,
)

KNOWN_SKUS = {p["sku"] for p in REALWC_CATALOG} | {"SKU-POLO"}


@pytest.mark.parametrize(("folder", "case"), recorded_cases("v"))
def test_replays_the_recording(folder: str, case: str) -> None:
    real, fake = recorded(folder, case), replayed(folder, "variations")[case]
    if case == "v04b-products-list":
        # The real store also lists its filler products, in creation order within a second:
        # compare the products both stores have, by SKU. No variation is ever listed.
        def listed(record: dict) -> list:
            body = record["response"]["body"]
            return sorted((p["sku"], normalized(p)) for p in body if p["sku"] in KNOWN_SKUS)

        assert fake["response"]["status"] == real["response"]["status"] == 200
        assert listed(fake) == listed(real)
        assert all(p["type"] != "variation" for p in fake["response"]["body"])
        return
    assert_replays(real, fake)


@pytest.fixture
async def demo() -> FakeStore:
    return make_store(catalog=DEMO_CATALOG)


class TestDemoCatalogue:
    async def test_listing_shows_the_parent_only_and_sku_finds_a_variation(self, demo: FakeStore) -> None:
        async with demo.client() as client:
            listed = (await client.get(f"{API}/products", params={"per_page": 100})).json()
            found = (await client.get(f"{API}/products", params={"sku": "SKU-POLO-M,SKU-MUG-001"})).json()
            parent = (await client.get(f"{API}/products", params={"sku": "SKU-POLO"})).json()[0]
            variations = (await client.get(f"{API}/products/{parent['id']}/variations")).json()
        assert sorted(p["sku"] for p in listed) == sorted(p["sku"] for p in DEMO_CATALOG)
        assert [(p["sku"], p["type"]) for p in found] == [
            ("SKU-POLO-M", "variation"),
            ("SKU-MUG-001", "simple"),
        ]
        assert found[0]["parent_id"] == parent["id"]
        assert parent["type"] == "variable" and parent["price"] == "20.00" and len(parent["variations"]) == 3
        assert [v["sku"] for v in variations] == ["SKU-POLO-L", "SKU-POLO-M", "SKU-POLO-S"]
        assert "parent_id" not in variations[0]  # 7.8's variations route has no parent_id

    @pytest.mark.parametrize("reference", ["variation sku", "parent and variation", "variation as product"])
    async def test_a_line_by_variation_becomes_parent_and_variation(
        self, demo: FakeStore, reference: str
    ) -> None:
        parent_id, variation_id = demo.product_id("SKU-POLO"), demo.product_id("SKU-POLO-M")
        line = {
            "variation sku": {"sku": "SKU-POLO-M"},
            "parent and variation": {"product_id": parent_id, "variation_id": variation_id},
            "variation as product": {"product_id": variation_id},
        }[reference]
        async with demo.client() as client:
            response = await client.post(
                f"{API}/orders",
                json={"status": "processing", "line_items": [{**line, "quantity": 2}]},
            )
        item = response.json()["line_items"][0]
        assert (item["product_id"], item["variation_id"], item["sku"]) == (
            parent_id,
            variation_id,
            "SKU-POLO-M",
        )
        assert item["name"] == "Polo Shirt - M" and item["parent_name"] == "Polo Shirt"
        assert item["total"] == "44.00" and item["price"] == 22
        assert [(m["key"], m["value"], m["display_key"]) for m in item["meta_data"]][0] == (
            "size",
            "M",
            "Size",
        )
        # The variation's stock moves, not the parent's.
        assert demo.products[variation_id]["stock_quantity"] == 48
        assert demo.products[parent_id]["stock_quantity"] is None

    async def test_storefront_checkout_by_variation_sku(self, demo: FakeStore) -> None:
        order = demo.place_order([("SKU-POLO-L", 1), ("SKU-MUG-001", 1)])
        assert [(i["sku"], i["variation_id"] != 0) for i in order["line_items"]] == [
            ("SKU-POLO-L", True),
            ("SKU-MUG-001", False),
        ]
        assert order["total"] == "38.50"  # 24.00 + 9.50 + 5.00 shipping

    async def test_line_meta_is_kept_after_the_attribute_meta(self, demo: FakeStore) -> None:
        async with demo.client() as client:
            response = await client.post(
                f"{API}/orders",
                json={
                    "line_items": [
                        {
                            "sku": "SKU-POLO-S",
                            "quantity": 1,
                            "meta_data": [{"key": "Engraving", "value": "Ada"}],
                        }
                    ]
                },
            )
        meta = response.json()["line_items"][0]["meta_data"]
        assert [(m["key"], m["display_key"], m["display_value"]) for m in meta] == [
            ("size", "Size", "S"),
            ("Engraving", "Engraving", "Ada"),
        ]

    async def test_line_refund_names_the_variation(self, demo: FakeStore) -> None:
        order = demo.place_order([("SKU-POLO-M", 1)])
        line = order["line_items"][0]["id"]
        async with demo.client() as client:
            response = await client.post(
                f"{API}/orders/{order['id']}/refunds",
                json={"amount": "22.00", "api_refund": False, "line_items": [{"id": line, "quantity": 1}]},
            )
            too_much = await client.post(
                f"{API}/orders/{order['id']}/refunds", json={"amount": "100.00", "api_refund": False}
            )
        refunded = response.json()["line_items"][0]
        assert (refunded["variation_id"], refunded["parent_name"], refunded["sku"]) == (
            demo.product_id("SKU-POLO-M"),
            "Polo Shirt",
            "SKU-POLO-M",
        )
        assert too_much.status_code == 500
        assert too_much.json() == {
            "code": "woocommerce_rest_cannot_create_order_refund",
            "message": "Invalid refund amount.",
            "data": 500,
        }

    @pytest.mark.parametrize(("version", "amount"), [("7.8", "0.00"), ("10.6", "22.00")])
    async def test_hpos_refund_read_back(self, version: str, amount: str) -> None:
        """7.8 HPOS reads amount 0.00 and reason "" from the refunds routes; the order's
        refunds[] is right; 10.6 reads them right (real-*-hpos/v09a-d)."""
        store = make_store(storage="hpos", catalog=DEMO_CATALOG, knobs=Knobs(wc_version=version))
        order = store.place_order([("SKU-POLO-M", 1)])
        async with store.client() as client:
            made = await client.post(
                f"{API}/orders/{order['id']}/refunds",
                json={"amount": "22.00", "reason": "size", "api_refund": False},
            )
            listed = (await client.get(f"{API}/orders/{order['id']}/refunds")).json()
            again = (await client.get(f"{API}/orders/{order['id']}")).json()
        assert made.json()["amount"] == listed[0]["amount"] == amount
        assert again["refunds"][0]["total"] == "-22.00" and again["refunds"][0]["reason"] == "size"
        await store.aclose()

    async def test_catalogue_added_through_the_control_api_keeps_variations(self) -> None:
        store = FakeStore("solo")
        store.load_catalog([DEMO_CATALOG[-1]])
        assert sorted(p["type"] for p in store.products.values()) == [
            "variable",
            "variation",
            "variation",
            "variation",
        ]
        async with store.client() as client:
            unknown = await client.get(f"{API}/products/{store.product_id('SKU-POLO')}/variations/1")
        assert unknown.status_code == 404
        await store.aclose()


async def test_a_variation_on_the_variations_route_of_10_6() -> None:
    store = make_store(catalog=DEMO_CATALOG, knobs=Knobs(wc_version="10.6"))
    parent = store.product_id("SKU-POLO")
    async with store.client() as client:
        response = await client.get(f"{API}/products/{parent}/variations/{store.product_id('SKU-POLO-S')}")
    body = response.json()
    assert (body["name"], body["type"], body["parent_id"]) == ("S", "variation", parent)
    assert body["attributes"] == [{"id": 0, "name": "Size", "slug": "size", "option": "S"}]
    assert body["_links"]["self"][0]["targetHints"] == {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}
    await store.aclose()
