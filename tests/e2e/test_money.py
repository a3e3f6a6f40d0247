"""Money and line meta end to end (issue 15 items 7, 8, 11), over loopback with the fake stores,
each checked on what the stores hold: a KWD store's refunds to the fils, a yen split in whole
yen that sums exactly, no shipping refunded to a partial copy that never charged it, and a
line's repeated meta copied entry by entry with nothing left to write."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from app.testing import FakeStore
from tests.e2e.support import Stack, make_fake, stack

TICK = 1.1


def set_currency(fake: FakeStore, currency: str, decimals: int) -> None:
    fake.state.set_setting("general", "woocommerce_currency", currency)
    fake.state.set_setting("general", "woocommerce_price_num_decimals", str(decimals))


async def refund(fake: FakeStore, order_id: int, body: dict[str, Any]) -> None:
    async with fake.client() as http:
        response = await http.post(
            f"/wp-json/wc/v3/orders/{order_id}/refunds", json={**body, "api_refund": False}
        )
        assert response.status_code == 201, response.text


def refunded(fake: FakeStore, order: dict[str, Any]) -> list[Decimal]:
    """The copy's refunds as its store keeps them (exactly, whatever it shows), oldest first."""
    return [fake.state.refunds[r["id"]].amount for r in reversed(order["refunds"])]


async def failed_links(s: Stack) -> list[dict[str, Any]]:
    return list((await s.api.get("/api/links?state=failed")).json()["items"])


def order_writes(fake: FakeStore) -> int:
    """Writes of orders themselves (notes and refunds aside)."""
    kinds = ("POST /orders/batch", "POST /orders/{id}", "PUT /orders/{id}")
    return sum(n for label, n in fake.stats.requests.items() if label in kinds)


async def test_dinar_refunds_are_copied_to_the_fils(database_url: str) -> None:
    """A refund of 1.235 KWD was sent as 1.24; the rest of a 10.005 order as 10.01, which
    WooCommerce refuses (500), parking the link."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    for fake in fakes.values():
        set_currency(fake, "KWD", 3)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        order = fakes["main"].place_order([("SKU-MUG-001", 1)], shipping_total="0.505")
        assert (order["currency"], order["total"]) == ("KWD", "10.005")
        assert (await s.sync())["status"] == "succeeded"
        copy = s.exact("main", order["id"], "sub1")
        assert (copy["currency"], copy["total"]) == ("KWD", "10.005")
        await asyncio.sleep(TICK)
        mug = order["line_items"][0]
        await refund(
            fakes["main"],
            order["id"],
            {"amount": "1.235", "line_items": [{"id": mug["id"], "quantity": 1, "refund_total": "1.235"}]},
        )
        assert (await s.sync())["status"] == "succeeded"
        copy = s.exact("main", order["id"], "sub1")
        assert refunded(fakes["sub1"], copy) == [Decimal("1.235")]
        assert [r["total"] for r in copy["refunds"]] == ["-1.235"]
        await asyncio.sleep(TICK)
        await refund(fakes["main"], order["id"], {"amount": "8.770", "reason": "returned"})
        run = await s.sync()
        assert run["status"] == "succeeded", run
        copy = s.exact("main", order["id"], "sub1")
        assert refunded(fakes["sub1"], copy) == [Decimal("1.235"), Decimal("8.770")]
        assert copy["status"] == "refunded"
        assert await failed_links(s) == []


def routed_stores(skus: dict[str, str]) -> dict[str, FakeStore]:
    fakes = {"main": make_fake("main")}
    fakes.update({name: make_fake(name, {sku}) for name, sku in skus.items()})
    return fakes


async def test_a_yen_split_is_whole_yen_and_sums_exactly(database_url: str) -> None:
    """A 100-yen goodwill refund of a 3,000-yen order whose three lines went to three stores: 33,
    33 and 34 yen, never 33.33 each (which a yen store shows as 33 and keeps as 33.33)."""
    skus = {"tees": "SKU-TSHIRT-RED", "hoodies": "SKU-HOODIE-L", "mugs": "SKU-MUG-001"}
    fakes = routed_stores(skus)
    for fake in fakes.values():
        set_currency(fake, "JPY", 0)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        for name in skus:
            await s.add_store(name, routing="skus")
        order = fakes["main"].place_order([(sku, 1) for sku in skus.values()], shipping_total="0")
        order = fakes["main"].update_order_direct(
            order["id"],
            line_items=[
                {"id": line["id"], "subtotal": "1000", "total": "1000"} for line in order["line_items"]
            ],
        )
        assert order["total"] == "3000"
        assert (await s.sync())["status"] == "succeeded"
        await asyncio.sleep(TICK)
        await refund(fakes["main"], order["id"], {"amount": "100", "reason": "goodwill"})
        run = await s.sync()
        assert run["status"] == "succeeded", run
        shares = []
        for name, sku in skus.items():
            copy = s.exact("main", order["id"], name, sold={sku})
            (share,) = refunded(fakes[name], copy)
            assert share == share.to_integral_value(), (name, share)
            shares.append(share)
        assert sorted(shares) == [Decimal(33), Decimal(33), Decimal(34)]


async def test_a_partial_copy_is_never_refunded_shipping_it_never_charged(database_url: str) -> None:
    """The origin refunds its 5.00 shipping: the partial copies carry that shipping at 0.00, and
    were each refunded 5.00 of the lines they hold."""
    skus = {"tees": "SKU-TSHIRT-RED", "hoodies": "SKU-HOODIE-L"}
    fakes = routed_stores(skus)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        for name in skus:
            await s.add_store(name, routing="skus")
        order = fakes["main"].place_order([(sku, 1) for sku in skus.values()])
        assert (await s.sync())["status"] == "succeeded"
        await asyncio.sleep(TICK)
        shipping = order["shipping_lines"][0]
        await refund(
            fakes["main"],
            order["id"],
            {
                "amount": "5.00",
                "reason": "late",
                "line_items": [{"id": shipping["id"], "refund_total": "5.00"}],
            },
        )
        run = await s.sync()
        assert run["status"] == "succeeded", run
        for name, sku in skus.items():
            copy = s.exact("main", order["id"], name, sold={sku})
            assert copy["shipping_lines"][0]["total"] == "0.00"
            assert copy["refunds"] == [], (name, copy["refunds"])
            assert copy["status"] == "processing"
        # A later refund of the T-shirt still reaches its copy, whole.
        await asyncio.sleep(TICK)
        tee = order["line_items"][0]
        await refund(
            fakes["main"],
            order["id"],
            {
                "amount": tee["total"],
                "line_items": [{"id": tee["id"], "quantity": 1, "refund_total": tee["total"]}],
            },
        )
        assert (await s.sync())["status"] == "succeeded"
        copy = s.exact("main", order["id"], "tees", sold={"SKU-TSHIRT-RED"})
        assert refunded(fakes["tees"], copy) == [Decimal(tee["total"])]
        assert s.exact("main", order["id"], "hoodies", sold={"SKU-HOODIE-L"})["refunds"] == []
        assert await failed_links(s) == []


async def test_repeated_line_meta_is_copied_whole_and_then_left_alone(database_url: str) -> None:
    """Two "Engraving" entries from an add-on: the copy has both, in order, after one pass; the
    next passes write nothing."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    entries = [("Engraving", "Ada"), ("Gift message", "Happy birthday"), ("Engraving", "Lovelace")]
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        order = fakes["main"].place_order([("SKU-MUG-001", 1), ("SKU-STICKER", 2)])
        order = fakes["main"].add_line_meta(order["id"], order["line_items"][0]["id"], entries)
        assert (await s.sync())["status"] == "succeeded"
        copy = s.exact("main", order["id"], "sub1")
        shown = [
            (m["key"], m["value"]) for m in copy["line_items"][0]["meta_data"] if not m["key"].startswith("_")
        ]
        assert shown == entries
        assert not any(m["key"].startswith("_wcsync_slot") for m in copy["line_items"][0]["meta_data"])
        await s.notes_written()
        before = order_writes(fakes["sub1"])
        assert before == 2  # the create, and the update that renamed the second engraving
        for _ in range(2):
            await asyncio.sleep(TICK)
            fakes["main"].update_order_direct(order["id"], customer_note="ring twice")
            assert (await s.sync())["status"] == "succeeded"
        copy = s.exact("main", order["id"], "sub1")
        assert copy["customer_note"] == "ring twice"
        # The customer note, once; the engravings never again.
        assert order_writes(fakes["sub1"]) == before + 1
