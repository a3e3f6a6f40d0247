"""Money and line meta on the real stores (issue 15 items 7, 8, 11): main (7.8.2, posts), sub1
(7.8.2, HPOS) and sub2 (10.6.2, HPOS).

What WooCommerce does, measured here and modelled by the fake store (tests/testing/
test_money_and_meta.py):
- a store set to KWD with 3 decimals answers every amount with 3 places ("10.005"), keeps a
  refund of 1.235 as 1.235, and refuses a refund above its remainder rounded to its decimals
  ("Invalid refund amount.", HTTP 500);
- a refund of a shipping line or a fee is a line of that kind on the refund, with
  `_refunded_item_id`; a 0.00 shipping line takes a 5.00 refund without a word;
- a line's meta is written entry by entry with `update_meta_data`: a create keeps one entry a
  key (the last value), an entry named by its id is rewritten in place, key included.

Every store setting changed here is restored in a `finally`, and the products made for routing
are deleted: the stores are shared by the whole run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok
from tests.real.stores import ADA, ADA_SHIPPING, RealStore

pytestmark = pytest.mark.real

TICK = 1.1  # WooCommerce dates have whole seconds
STORES = ("main", "sub1", "sub2")


@asynccontextmanager
async def currency(stores: dict[str, RealStore], code: str, decimals: int) -> AsyncIterator[None]:
    """Every store in `code` with `decimals` price decimals for the test; restored after."""
    names = ("woocommerce_currency", "woocommerce_price_num_decimals")
    before: dict[str, dict[str, Any]] = {}
    try:
        for name in STORES:
            store = stores[name]
            before[name] = {k: (await store.request("GET", f"/settings/general/{k}"))["value"] for k in names}
            for key, value in zip(names, (code, str(decimals)), strict=True):
                await store.request("PUT", f"/settings/general/{key}", json={"value": value})
        yield
    finally:
        for name, values in before.items():
            for key, value in values.items():
                await stores[name].request("PUT", f"/settings/general/{key}", json={"value": value})


@asynccontextmanager
async def products(
    stores: dict[str, RealStore], where: dict[str, Sequence[str]]
) -> AsyncIterator[dict[str, dict[str, int]]]:
    """Products sold by some stores only (SKU -> the stores that sell it), so that a `skus`
    routed store gets a partial copy; deleted after. Returns store -> SKU -> product id."""
    made: dict[str, dict[str, int]] = {name: {} for name in STORES}
    try:
        for sku, names in where.items():
            for name in names:
                found = await stores[name].request("GET", "/products", params={"sku": sku})
                if found:
                    made[name][sku] = found[0]["id"]
                    continue
                body = {"name": f"Test {sku}", "sku": sku, "type": "simple", "regular_price": "10.00"}
                made[name][sku] = (await stores[name].request("POST", "/products", json=body))["id"]
        yield made
    finally:
        for name, by_sku in made.items():
            for product_id in by_sku.values():
                await stores[name].request("DELETE", f"/products/{product_id}", params={"force": "true"})


async def add_store(wcsync: Wcsync, name: str, *, role: str = "sub", routing: str = "all") -> None:
    info = wcsync.stores[name].info
    body = {
        "name": name,
        "role": role,
        "routing": routing,
        "base_url": info.base_url,
        "consumer_key": info.consumer_key,
        "consumer_secret": info.consumer_secret,
        "auth_mode": "basic",
    }
    response = await wcsync.api.post("/api/stores", json=body)
    assert response.status_code == 201, response.text


async def create(store: RealStore, lines: list[dict[str, Any]], shipping: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "processing",
        "payment_method": "bacs",
        "payment_method_title": "Direct bank transfer",
        "billing": ADA,
        "shipping": ADA_SHIPPING,
        "line_items": lines,
        "shipping_lines": (
            [{"method_id": "flat_rate", "method_title": "Flat rate", "total": shipping}] if shipping else []
        ),
    }
    order: dict[str, Any] = await store.request("POST", "/orders", json=body)
    return order


async def exact_refunds(store: RealStore, order_id: int) -> list[Decimal]:
    """The order's refunds as the store keeps them (read with 6 places), smallest first (a copy's
    refunds are matched to the origin's by their mark, and may be made in either order when both
    are copied in one pass)."""
    order = await store.request("GET", f"/orders/{order_id}", params={"dp": 6})
    return sorted(-Decimal(r["total"]) for r in order["refunds"])


async def one_copy(wcsync: Wcsync, name: str, order_id: int) -> dict[str, Any]:
    (copy,) = await wcsync.stores[name].replicas(f"main:{order_id}", wcsync.started)
    return copy


async def test_dinar_refunds_are_copied_to_the_fils(wcsync: Wcsync) -> None:
    """A KWD refund of 1.235 was sent as 1.24; the full refund of a 10.005 order as 10.01, which
    WooCommerce refuses (500), so the link was parked."""
    stores = wcsync.stores
    async with currency(stores, "KWD", 3):
        await wcsync.add_all()
        main = stores["main"]
        mug = main.product_id("SKU-MUG-001")
        order = await create(
            main, [{"product_id": mug, "quantity": 2, "subtotal": "8.505", "total": "8.505"}], "1.500"
        )
        assert (order["currency"], order["total"]) == ("KWD", "10.005")
        assert_run_ok(await wcsync.sync(), order)
        await asyncio.sleep(TICK)
        # A line refund of 1.235, then the rest, 8.770: both reach the copies in one pass.
        line = order["line_items"][0]
        await main.refund(
            order["id"],
            amount="1.235",
            api_refund=False,
            line_items=[{"id": line["id"], "quantity": 1, "refund_total": "1.235"}],
        )
        await main.refund(order["id"], amount="8.770", reason="returned", api_refund=False)
        run = await wcsync.sync()
        assert_run_ok(run, order)
        origin = await main.order(order["id"])
        assert origin["status"] == "refunded"
        for name in ("sub1", "sub2"):
            copy = await one_copy(wcsync, name, order["id"])
            assert (copy["currency"], copy["total"]) == ("KWD", "10.005")
            assert await exact_refunds(stores[name], copy["id"]) == [Decimal("1.235"), Decimal("8.770")]
            assert copy["status"] == "refunded"
            assert_faithful_copy(origin, copy, origin_store="main")
        failed = (await wcsync.api.get("/api/links?state=failed")).json()["items"]
        assert failed == []


async def test_partial_copies_in_yen_get_no_shipping_and_whole_yen_shares(wcsync: Wcsync) -> None:
    """Under `skus` routing sub1 sells only A and sub2 only B of an order of A, B and C (C stays
    on main) with 500 yen shipping. The origin's shipping refund reaches neither partial copy
    (each carries the shipping at 0); a 100-yen goodwill refund is split by share in whole yen,
    29 + 28 = 57 = 100 x 2000 / 3500, never 28.57 each."""
    stores = wcsync.stores
    where = {"SKU-H2-A": ("main", "sub1"), "SKU-H2-B": ("main", "sub2"), "SKU-H2-C": ("main",)}
    async with currency(stores, "JPY", 0), products(stores, where) as ids:
        await add_store(wcsync, "main", role="main")
        await add_store(wcsync, "sub1", routing="skus")
        await add_store(wcsync, "sub2", routing="skus")
        main = stores["main"]
        lines = [
            {"product_id": ids["main"][sku], "quantity": 1, "subtotal": "1000", "total": "1000"}
            for sku in where
        ]
        order = await create(main, lines, "500")
        assert order["total"] == "3500"
        assert_run_ok(await wcsync.sync(), order)
        copies = {name: await one_copy(wcsync, name, order["id"]) for name in ("sub1", "sub2")}
        for copy in copies.values():
            assert copy["total"] == "1000" and copy["shipping_lines"][0]["total"] == "0"
        await asyncio.sleep(TICK)
        shipping = order["shipping_lines"][0]
        await main.refund(
            order["id"],
            amount="500",
            reason="late",
            api_refund=False,
            line_items=[{"id": shipping["id"], "refund_total": "500"}],
        )
        await main.refund(order["id"], amount="100", reason="goodwill", api_refund=False)
        assert_run_ok(await wcsync.sync(), order)
        shares = {name: await exact_refunds(stores[name], copy["id"]) for name, copy in copies.items()}
        # No shipping refund on either; the goodwill split in whole yen.
        assert shares == {"sub1": [Decimal(29)], "sub2": [Decimal(28)]}
        for name, copy in copies.items():
            copy = await stores[name].order(copy["id"])
            assert copy["status"] == "processing" and copy["total"] == "1000"


async def test_repeated_line_meta_is_copied_in_order_and_then_left_alone(wcsync: Wcsync) -> None:
    """An add-on's two "Engraving" entries on one line: every entry reaches both WooCommerce
    versions, in order, and a second pass writes nothing (the copies' dates do not move)."""
    stores = wcsync.stores
    await wcsync.add_all()
    main = stores["main"]
    mug = main.product_id("SKU-MUG-001")
    # What an add-on does at checkout, made through REST: distinct keys, then a rename by id.
    entries = [("Engraving", "Ada"), ("Gift message", "Happy birthday"), ("Engraving", "Lovelace")]
    posted = [{"key": "Engraving", "value": "Ada"}, {"key": "Gift message", "value": "Happy birthday"}]
    order = await create(
        main,
        [
            {
                "product_id": mug,
                "quantity": 1,
                "meta_data": [*posted, {"key": "_h2_engraving", "value": "Lovelace"}],
            }
        ],
        "5.00",
    )
    line = order["line_items"][0]
    slot = next(m["id"] for m in line["meta_data"] if m["key"] == "_h2_engraving")
    order = await main.update(
        order["id"],
        line_items=[{"id": line["id"], "meta_data": [{"id": slot, "key": "Engraving", "value": "Lovelace"}]}],
    )
    origin = await main.order(order["id"])

    def shown(o: dict[str, Any]) -> list[tuple[str, Any]]:
        return [
            (m["key"], m["value"]) for m in o["line_items"][0]["meta_data"] if not m["key"].startswith("_")
        ]

    assert shown(origin) == entries
    assert_run_ok(await wcsync.sync(), order)
    before = {}
    for name in ("sub1", "sub2"):
        copy = await one_copy(wcsync, name, order["id"])
        assert shown(copy) == entries, name
        assert not any(m["key"].startswith("_wcsync_slot") for m in copy["line_items"][0]["meta_data"])
        assert_faithful_copy(origin, copy, origin_store="main")
        before[name] = copy
    await asyncio.sleep(TICK)
    view = (await wcsync.api.post(f"/api/orders/main/{order['id']}/sync")).json()
    assert all(link["state"] == "synced" for link in view["links"]), view["links"]
    for name, copy in before.items():
        after = await stores[name].order(copy["id"])
        assert after["date_modified_gmt"] == copy["date_modified_gmt"], name  # nothing written
        assert after["line_items"][0]["meta_data"] == copy["line_items"][0]["meta_data"]
