"""What real WooCommerce does where the fake store (app/testing) once differed and no recording
covers it, stated once and checked on both: the real stores of each version (`make test-real`)
and the fake behaving as that version (`make test`). The real store is the authority; a failure
on the fake side alone is the fake drifting from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.testing import DEMO_CATALOG, FakeStore, Knobs
from tests.real.harness import STORES, StoreInfo
from tests.real.stores import RealStore, open_stores

API = "/wp-json/wc/v3"
VERSIONS = {"7.8": ("7.8.2", "6.1.9"), "10.6": ("10.6.2", "6.8.12")}


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.real)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def stores(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[dict[str, RealStore]]:
    """The harness's three stores, or fakes of the same versions and storages."""
    if backend == "real":
        async with open_stores(request.getfixturevalue("real_stores")) as real:
            yield real
        return
    fakes = {
        name: FakeStore(name, storage=storage, catalog=DEMO_CATALOG, knobs=Knobs(wc_version=line))  # type: ignore[arg-type]
        for name, line, storage in STORES
    }
    opened: dict[str, RealStore] = {}
    try:
        for name, line, storage in STORES:
            fake = fakes[name]
            woocommerce, wordpress = VERSIONS[line]
            info = StoreInfo(
                name=name,
                base_url=fake.base_url,
                consumer_key=fake.consumer_key,
                consumer_secret=fake.consumer_secret,
                hpos=storage == "hpos",
                woocommerce=woocommerce,
                wordpress=wordpress,
                products={str(p["sku"]): fake.product_id(str(p["sku"])) for p in DEMO_CATALOG},
                site=Path("/nonexistent"),
            )
            http = httpx.AsyncClient(
                transport=fake.transport(),
                base_url=fake.base_url,
                auth=(fake.consumer_key, fake.consumer_secret),
            )
            opened[name] = RealStore(info, http)
        yield opened
    finally:
        for store in opened.values():
            await store.http.aclose()
        for fake in fakes.values():
            await fake.aclose()


async def answer(store: RealStore, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await store.http.request(method, API + path, json=body)
    return response.status_code, response.json()


async def order_with_every_line(store: RealStore) -> dict[str, Any]:
    return await store.place_order([("SKU-MUG-001", 1)], fees=[("Fee", "1.00")])


@pytest.mark.parametrize("name", ["main", "sub1", "sub2"])
async def test_removing_a_line_the_order_no_longer_has(stores: dict[str, RealStore], name: str) -> None:
    """WooCommerce 7.8 removes a line sent with quantity 0 (or an emptied shipping or fee line)
    through remove_item(), which ignores an id the order does not have: a resent removal is a
    no-op. WooCommerce 10.6 checks the id first and answers 400 woocommerce_rest_invalid_item_id."""
    store = stores[name]
    order = await order_with_every_line(store)
    shipping_id = order["shipping_lines"][0]["id"]
    removed = await store.update(order["id"], shipping_lines=[{"id": shipping_id, "method_id": None}])
    assert removed["shipping_lines"] == []
    resent = [
        {"line_items": [{"id": 999999, "quantity": 0}]},
        {"shipping_lines": [{"id": shipping_id, "method_id": None}]},
        {"fee_lines": [{"id": 999998, "name": None}]},
    ]
    for body in resent:
        status, reply = await answer(store, "PUT", f"/orders/{order['id']}", body)
        if store.info.woocommerce.startswith("7."):
            assert status == 200, (body, reply)
            assert len(reply["line_items"]) == 1 and len(reply["fee_lines"]) == 1
        else:
            assert (status, reply["code"]) == (400, "woocommerce_rest_invalid_item_id"), (body, reply)
    # Updating (not removing) an unknown line id is refused on both versions (recorded v08c).
    status, reply = await answer(
        store, "PUT", f"/orders/{order['id']}", {"line_items": [{"id": 999999, "quantity": 2}]}
    )
    assert (status, reply["code"]) == (400, "woocommerce_rest_invalid_item_id")


@pytest.mark.parametrize("name", ["main", "sub2"])
async def test_a_failed_create_leaves_an_order_behind(stores: dict[str, RealStore], name: str) -> None:
    """An unknown coupon fails the create after the order was saved: 7.8 leaves a `pending`
    order (recorded 43a/43b); 10.6 turns it into a `checkout-draft`, names it in
    data.new_draft_order_id and HTML-escapes the coupon code's quotes in its message."""
    store = stores[name]
    body = {
        "status": "processing",
        "line_items": [{"product_id": store.product_id("SKU-MUG-001"), "quantity": 1}],
        "coupon_lines": [{"code": "no-such-coupon"}],
        "meta_data": [{"key": "_wcsync_origin", "value": f"facts:{name}"}],
    }
    status, reply = await answer(store, "POST", "/orders", body)
    assert (status, reply["code"]) == (400, "woocommerce_rest_invalid_coupon")
    if store.info.woocommerce.startswith("7."):
        assert reply == {
            "code": "woocommerce_rest_invalid_coupon",
            "message": 'Coupon "no-such-coupon" does not exist!',
            "data": {"status": 400},
        }
        return
    assert (
        reply["message"] == "Coupon &quot;no-such-coupon&quot; cannot be applied because it does not exist."
    )
    draft = await store.order(reply["data"]["new_draft_order_id"])
    assert draft["status"] == "checkout-draft"
    assert [(m["key"], m["value"]) for m in draft["meta_data"]] == [("_wcsync_origin", f"facts:{name}")]
    assert [(i["sku"], i["quantity"]) for i in draft["line_items"]] == [("SKU-MUG-001", 1)]
