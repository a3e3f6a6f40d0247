"""Replication between real WooCommerce stores: main (7.8.2, posts), sub1 (7.8.2, HPOS) and
sub2 (10.6.2, HPOS), with wcsync on loopback. Each test reads the orders back from the stores
and compares their content (tests/real/checks.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.real.checks import assert_faithful_copy, refunds_of
from tests.real.conftest import Wcsync, assert_run_ok

pytestmark = pytest.mark.real

# WooCommerce dates have whole seconds: a change must land in a later second than the write
# wcsync last read, or it is not newer.
TICK = 1.1


async def test_main_order_reaches_both_woocommerce_versions(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    main = wcsync.stores["main"]
    order = await main.place_order(
        [("SKU-TSHIRT-RED", 2), ("SKU-MUG-001", 1)], fees=[("Gift wrap", "2.50")], note="Ring twice"
    )
    run = await wcsync.sync()
    assert_run_ok(run, order)
    assert run["counts"]["created"] == 2, run
    origin = await main.order(order["id"])
    for name in ("sub1", "sub2"):
        (replica,) = await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)
        assert_faithful_copy(origin, replica, origin_store="main")

    # A second pass writes nothing new anywhere.
    again = await wcsync.sync()
    assert_run_ok(again, order)
    assert again["counts"]["created"] == 0, again
    for name in ("sub1", "sub2"):
        assert len(await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)) == 1


async def test_sub_store_orders_reach_main_from_both_woocommerce_versions(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    placed = {
        "sub1": await wcsync.stores["sub1"].place_order([("SKU-STICKER", 4)], shipping="3.00"),
        "sub2": await wcsync.stores["sub2"].place_order(
            [("SKU-HOODIE-L", 1), ("SKU-TSHIRT-BLUE", 2)], fees=[("Embroidery", "6.00")], note="From 10.6"
        ),
    }
    run = await wcsync.sync()
    assert_run_ok(run, *placed.values())
    main = wcsync.stores["main"]
    for name, order in placed.items():
        origin = await wcsync.stores[name].order(order["id"])
        (copy,) = await main.replicas(f"{name}:{order['id']}", wcsync.started)
        assert_faithful_copy(origin, copy, origin_store=name)
        # The copy on the main store is not sent on to the other sub-store, nor back.
        for other in ("sub1", "sub2"):
            assert await wcsync.stores[other].replicas(f"main:{copy['id']}", wcsync.started) == []
        other = "sub2" if name == "sub1" else "sub1"
        assert await wcsync.stores[other].replicas(f"{name}:{order['id']}", wcsync.started) == []


@pytest.mark.parametrize("changed_on", ["sub1", "sub2"])
async def test_status_set_on_a_replica_reaches_the_origin_and_the_other_replica(
    wcsync: Wcsync, changed_on: str
) -> None:
    await wcsync.add_all()
    main = wcsync.stores["main"]
    order = await main.place_order([("SKU-MUG-001", 2)])
    assert_run_ok(await wcsync.sync(), order)
    (replica,) = await wcsync.stores[changed_on].replicas(f"main:{order['id']}", wcsync.started)
    await asyncio.sleep(TICK)
    await wcsync.stores[changed_on].update(replica["id"], status="completed")

    assert_run_ok(await wcsync.sync(), order)
    origin = await main.order(order["id"])
    assert origin["status"] == "completed"
    for name in ("sub1", "sub2"):
        (copy,) = await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)
        assert_faithful_copy(origin, copy, origin_store="main")


async def test_status_set_on_main_copy_reaches_the_sub_store_origin(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    sub2 = wcsync.stores["sub2"]
    order = await sub2.place_order([("SKU-TSHIRT-RED", 1)])
    assert_run_ok(await wcsync.sync(), order)
    (copy,) = await wcsync.stores["main"].replicas(f"sub2:{order['id']}", wcsync.started)
    await asyncio.sleep(TICK)
    await wcsync.stores["main"].update(copy["id"], status="on-hold")

    assert_run_ok(await wcsync.sync(), order)
    origin = await sub2.order(order["id"])
    assert origin["status"] == "on-hold"
    (copy,) = await wcsync.stores["main"].replicas(f"sub2:{order['id']}", wcsync.started)
    assert_faithful_copy(origin, copy, origin_store="sub2")


async def test_refunds_on_the_origin_are_mirrored_on_the_replicas(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    main = wcsync.stores["main"]
    order = await main.place_order([("SKU-TSHIRT-RED", 2), ("SKU-MUG-001", 1)])
    assert_run_ok(await wcsync.sync(), order)
    await asyncio.sleep(TICK)
    red = next(i for i in order["line_items"] if i["sku"] == "SKU-TSHIRT-RED")
    await main.refund(
        order["id"],
        amount="19.00",
        reason="One shirt came back",
        api_refund=False,
        line_items=[{"id": red["id"], "quantity": 1, "refund_total": "19.00"}],
    )

    assert_run_ok(await wcsync.sync(), order)
    origin = await main.order(order["id"])
    assert origin["status"] == "processing" and [str(a) for a in refunds_of(origin)] == ["19.00"]
    replicas = {}
    for name in ("sub1", "sub2"):
        (copy,) = await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)
        replicas[name] = copy
        assert_faithful_copy(origin, copy, origin_store="main")
        assert refunds_of(copy) == refunds_of(origin), name
        assert [r["reason"] for r in copy["refunds"]] == ["One shirt came back"], name

    # The rest is refunded: the origin turns `refunded`, and so do the replicas, each with
    # exactly the origin's two refunds (a rerun mirrors nothing twice).
    await asyncio.sleep(TICK)
    # The rest of the order, whatever the store's prices are (the contract cases reprice it).
    rest = Decimal(origin["total"]) - Decimal("19.00")
    await main.refund(order["id"], amount=str(rest), reason="Order cancelled", api_refund=False)
    assert_run_ok(await wcsync.sync(), order)
    assert_run_ok(await wcsync.sync(), order)
    origin = await main.order(order["id"])
    assert origin["status"] == "refunded"
    for name in ("sub1", "sub2"):
        (copy,) = await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)
        assert copy["id"] == replicas[name]["id"]
        assert_faithful_copy(origin, copy, origin_store="main")
        assert refunds_of(copy) == refunds_of(origin) == sorted([Decimal("19.00"), rest]), name
