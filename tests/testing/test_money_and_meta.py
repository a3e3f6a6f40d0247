"""The fake store as real WooCommerce 7.8 (posts, HPOS) and 10.6 (HPOS) behave, measured on the
real stores (tests/real/test_money.py): `update_meta_data` on a line's meta, refunds of shipping
lines and fees, and a store whose currency has three decimals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.testing import FakeStore
from app.testing.knobs import Knobs
from tests.testing.conftest import API, make_store

STORES = [("posts", "7.8"), ("hpos", "7.8"), ("hpos", "10.6")]


@pytest.fixture(params=STORES, ids=["7.8-posts", "7.8-hpos", "10.6-hpos"])
async def any_store(request: pytest.FixtureRequest) -> AsyncIterator[FakeStore]:
    storage, version = request.param
    store = make_store(storage=storage, knobs=Knobs(wc_version=version))
    yield store
    await store.aclose()


async def call(http: httpx.AsyncClient, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await http.request(method, API + path, **kw)
    assert response.status_code == status, response.text
    return response.json()


def meta(order: dict[str, Any]) -> list[tuple[int, str, Any]]:
    return [(m["id"], m["key"], m["value"]) for m in order["line_items"][0]["meta_data"]]


def keys(order: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for _, k, v in meta(order) if k != "_reduced_stock"]


async def test_line_meta_is_written_as_update_meta_data_does(any_store: FakeStore) -> None:
    """The sequence tests/real/test_money.py runs on the real stores, with their answers."""
    mug = any_store.product_id("SKU-MUG-001")
    async with any_store.client() as http:
        line = {"product_id": mug, "quantity": 1}
        # A create keeps one entry a key: the repeated key's last value, in the first's place.
        twice = [{"key": "Engraving", "value": "Alpha"}, {"key": "Engraving", "value": "Beta"}]
        order = await call(
            http,
            "POST",
            "/orders",
            201,
            json={"line_items": [{**line, "meta_data": [*twice, {"key": "Colour", "value": "Red"}]}]},
        )
        assert keys(order) == [("Engraving", "Beta"), ("Colour", "Red")]
        # Ids the line does not have add the entry, deleting the key's others: one entry.
        unknown = [{"id": 999991, **twice[0]}, {"id": 999992, **twice[1]}]
        order = await call(
            http, "POST", "/orders", 201, json={"line_items": [{**line, "meta_data": unknown}]}
        )
        assert keys(order) == [("Engraving", "Beta")]
        # Distinct keys, then a rename by id: two entries with one key, in their places.
        slot = [
            {"key": "Engraving", "value": "Alpha"},
            {"key": "Colour", "value": "Red"},
            {"key": "_wcsync_slot_2", "value": "Beta"},
        ]
        order = await call(http, "POST", "/orders", 201, json={"line_items": [{**line, "meta_data": slot}]})
        oid, lid = order["id"], order["line_items"][0]["id"]
        ids = {k: i for i, k, _ in meta(order)}
        order = await call(
            http,
            "PUT",
            f"/orders/{oid}",
            json={
                "line_items": [
                    {
                        "id": lid,
                        "meta_data": [{"id": ids["_wcsync_slot_2"], "key": "Engraving", "value": "Beta"}],
                    }
                ]
            },
        )
        assert keys(order) == [("Engraving", "Alpha"), ("Colour", "Red"), ("Engraving", "Beta")]
        assert [i for i, k, _ in meta(order) if k == "Engraving"] == [ids["Engraving"], ids["_wcsync_slot_2"]]
        assert keys(await call(http, "GET", f"/orders/{oid}")) == keys(order)
        # Without an id: the first entry with the key takes the value, the others are deleted.
        order = await call(
            http,
            "PUT",
            f"/orders/{oid}",
            json={"line_items": [{"id": lid, "meta_data": [{"key": "Engraving", "value": "Q"}]}]},
        )
        assert keys(order) == [("Engraving", "Q"), ("Colour", "Red")]
        # An id it no longer has: the key's entries go, a new one is added at the end.
        order = await call(
            http,
            "PUT",
            f"/orders/{oid}",
            json={
                "line_items": [
                    {
                        "id": lid,
                        "meta_data": [{"id": ids["_wcsync_slot_2"], "key": "Colour", "value": "Blue"}],
                    }
                ]
            },
        )
        assert keys(order) == [("Engraving", "Q"), ("Colour", "Blue")]
        assert meta(order)[-1][1:] == ("Colour", "Blue")  # after _reduced_stock


async def test_a_refund_of_shipping_and_a_fee_is_a_line_of_each_kind(any_store: FakeStore) -> None:
    mug = any_store.product_id("SKU-MUG-001")
    async with any_store.client() as http:
        order = await call(
            http,
            "POST",
            "/orders",
            201,
            json={
                "status": "processing",
                "line_items": [{"product_id": mug, "quantity": 1, "subtotal": "10.00", "total": "10.00"}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "5.00"}],
                "fee_lines": [{"name": "Gift wrap", "total": "2.00", "tax_status": "none"}],
            },
        )
        ship, fee = order["shipping_lines"][0]["id"], order["fee_lines"][0]["id"]
        body = {
            "amount": "6.00",
            "api_refund": False,
            "line_items": [{"id": ship, "refund_total": "5.00"}, {"id": fee, "refund_total": "1.00"}],
        }
        refund = await call(http, "POST", f"/orders/{order['id']}/refunds", 201, json=body)
        assert refund["line_items"] == []
        (shipping,) = refund["shipping_lines"]
        assert (shipping["method_id"], shipping["total"]) == ("flat_rate", "-5.00")
        assert shipping["meta_data"][0]["key"] == "_refunded_item_id" and shipping["meta_data"][0][
            "value"
        ] == str(ship)
        (fee_line,) = refund["fee_lines"]
        assert (fee_line["name"], fee_line["total"]) == ("Gift wrap", "-1.00")
        assert fee_line["id"] < shipping["id"]  # the fee's refund line is made first
        (listed,) = await call(http, "GET", f"/orders/{order['id']}/refunds")
        assert listed["shipping_lines"][0]["total"] == "-5.00" and listed["fee_lines"][0]["total"] == "-1.00"


async def test_a_three_decimal_store_keeps_fils(any_store: FakeStore) -> None:
    mug = any_store.product_id("SKU-MUG-001")
    async with any_store.client() as http:
        for name, value in (("woocommerce_currency", "KWD"), ("woocommerce_price_num_decimals", "3")):
            setting = await call(http, "PUT", f"/settings/general/{name}", json={"value": value})
            assert setting["value"] == value
        assert (await call(http, "GET", "/settings/general/woocommerce_price_num_decimals"))["value"] == "3"
        order = await call(
            http,
            "POST",
            "/orders",
            201,
            json={
                "status": "processing",
                "line_items": [{"product_id": mug, "quantity": 2, "subtotal": "8.505", "total": "8.505"}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "1.500"}],
            },
        )
        assert (order["currency"], order["total"], order["shipping_total"]) == ("KWD", "10.005", "1.500")
        assert order["line_items"][0]["total"] == "8.505" and order["discount_total"] == "0.000"
        oid, lid = order["id"], order["line_items"][0]["id"]
        refund = {
            "amount": "1.235",
            "api_refund": False,
            "api_restock": False,
            "line_items": [{"id": lid, "quantity": 1, "refund_total": "1.235"}],
        }
        made = await call(http, "POST", f"/orders/{oid}/refunds", 201, json=refund)
        assert made["line_items"][0]["total"] == "-1.235"
        assert (await call(http, "GET", f"/orders/{oid}"))["refunds"][0]["total"] == "-1.235"
        refused = await call(
            http, "POST", f"/orders/{oid}/refunds", 500, json={"amount": "8.771", "api_refund": False}
        )
        assert refused["message"] == "Invalid refund amount."
        await call(http, "POST", f"/orders/{oid}/refunds", 201, json={"amount": "8.770", "api_refund": False})
        order = await call(http, "GET", f"/orders/{oid}")
        assert [r["total"] for r in order["refunds"]] == ["-8.770", "-1.235"] and order[
            "status"
        ] == "refunded"
        wide = await call(http, "GET", f"/orders/{oid}", params={"dp": 6})
        assert wide["total"] == "10.005000" and wide["refunds"][1]["total"] == "-1.235000"
        listed = await call(http, "GET", "/orders", params={"include": oid})
        assert listed[0]["total"] == "10.005"


async def test_a_store_without_decimals_writes_whole_yen() -> None:
    store = make_store()
    async with store.client() as http:
        await call(http, "PUT", "/settings/general/woocommerce_currency", json={"value": "JPY"})
        await call(http, "PUT", "/settings/general/woocommerce_price_num_decimals", json={"value": "0"})
        order = store.place_order([("SKU-MUG-001", 1)], shipping_total="500")
        assert order["currency"] == "JPY" and order["shipping_total"] == "500"
        assert "." not in order["total"]
    await store.aclose()
