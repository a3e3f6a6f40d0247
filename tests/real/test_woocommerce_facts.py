"""What real WooCommerce does where the fake store (app/testing) is known to differ or has no
recording: checked on the real stores of each version, so that the fake can be brought to them
and a change of WooCommerce shows here first. (The fake itself is another helper's; these tests
state the real behaviour only.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.real.stores import RealStore

pytestmark = pytest.mark.real
API = "/wp-json/wc/v3"


async def answer(store: RealStore, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await store.http.request(method, API + path, json=body)
    return response.status_code, response.json()


async def order_with_every_line(store: RealStore) -> dict[str, Any]:
    return await store.place_order([("SKU-MUG-001", 1)], fees=[("Fee", "1.00")])


@pytest.mark.parametrize("name", ["main", "sub1", "sub2"])
async def test_removing_a_line_the_order_no_longer_has(stores: dict[str, RealStore], name: str) -> None:
    """WooCommerce 7.8 removes a line sent with quantity 0 (or an emptied shipping or fee line)
    through remove_item(), which ignores an id the order does not have: a resent removal is a
    no-op. WooCommerce 10.6 checks the id first and answers 400 woocommerce_rest_invalid_item_id.
    (The fake answers 400 on every version.)"""
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
